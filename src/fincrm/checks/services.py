"""Running external checks and recording what they found (issue 24, point 4; seed 004).

A new finding is news for the client's evaluation: the nightly early-warning engine reads
``selectors.external_findings_frame`` as the signal ``external_findings`` (open legal and
reputation findings first reported within ``policy.checks.signal_days``), so a hit raises an
alert routed like every other rule, and the client is re-evaluated at once through the core
event hook.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from fincrm.core.events import customer_changed
from fincrm.core.policy import policy_current
from fincrm.customers.models import Customer

from .choices import CheckReason, CheckStatus, FindingCategory
from .models import ExternalCheck, Finding
from .providers import Provider, ProviderError, Reported, configured


def _record(
    *,
    customer,
    reported: list[Reported],
    check: ExternalCheck,
    source: str,
    now,
    resolve_missing: bool,
) -> int:
    """Store what a source reported; returns how many facts are new for this client."""
    existing = {
        (f.category, f.key): f
        for f in Finding.objects.select_for_update().filter(customer=customer, source=source)
    }
    new = 0
    seen = set()
    for item in reported:
        ident = (item.category, item.key)
        if ident in seen:
            continue
        seen.add(ident)
        finding = existing.get(ident)
        if finding is None:
            Finding.objects.create(
                customer=customer,
                category=item.category,
                key=item.key,
                title=item.title,
                amount=item.amount,
                occurred_on=item.occurred_on,
                source=source,
                first_seen=check,
                first_seen_at=now,
                last_seen_at=now,
            )
            new += 1
        else:
            finding.last_seen_at = now
            finding.resolved_at = None
            finding.save(update_fields=["last_seen_at", "resolved_at"])
    if resolve_missing:
        for ident, finding in existing.items():
            if ident not in seen and finding.resolved_at is None:
                finding.resolved_at = now
                finding.save(update_fields=["resolved_at"])
    return new


def check_run(
    *,
    customer: Customer,
    reason: str,
    user=None,
    provider: Provider | None = None,
    now: datetime | None = None,
) -> ExternalCheck:
    """Ask the configured source about ``customer`` and record the answer (or the failure)."""
    provider = provider or configured()
    if provider is None:
        raise ValidationError(
            _("No external data source is configured (FINCRM_CHECKS_URL)."), code="no_source"
        )
    now = now or timezone.now()
    try:
        reported = provider.lookup(identifier=customer.identifier, name=customer.name)
    except ProviderError as error:
        return ExternalCheck.objects.create(
            customer=customer,
            provider=provider.name,
            reason=reason,
            status=CheckStatus.FAILED,
            error=str(error)[:300],
            checked_at=now,
            requested_by=user,
        )
    with transaction.atomic():
        return _check_done(
            customer=customer, source=provider.name, reason=reason, reported=reported, now=now,
            user=user, resolve_missing=True,
        )  # fmt: skip


def _check_done(*, customer, source, reason, reported, now, user, resolve_missing) -> ExternalCheck:
    """A completed check of ``customer`` by ``source`` with its findings recorded (a provider's
    check resolves the findings it no longer lists, an import does not); the client is
    re-evaluated when something new was found."""
    check = ExternalCheck.objects.create(
        customer=customer,
        provider=source,
        reason=reason,
        status=CheckStatus.DONE,
        findings_count=len(reported),
        checked_at=now,
        requested_by=user,
    )
    check.new_count = _record(
        customer=customer,
        reported=reported,
        check=check,
        source=source,
        now=now,
        resolve_missing=resolve_missing,
    )
    check.save(update_fields=["new_count"])
    if check.new_count:
        customer_changed(customer.pk)
    return check


def checks_due(*, as_of: date, provider: Provider | None = None) -> dict[str, int]:
    """The day's checks, up to the policy's daily limit: clients never checked (onboarding),
    clients with an application at credit review not checked within ``before_approval_days``,
    then clients with a live facility not checked within ``recheck_days`` (monthly)."""
    from fincrm.financing.choices import FacilityStatus, Stage

    provider = provider or configured()
    counts: dict[str, int] = {
        reason: 0
        for reason in (CheckReason.ONBOARDING, CheckReason.PRE_APPROVAL, CheckReason.MONTHLY)
    }
    if provider is None:
        return counts
    rules = policy_current()[0].checks
    midnight = timezone.make_aware(datetime.combine(as_of, datetime.min.time()))
    last = ExternalCheck.objects.filter(customer=OuterRef("pk"), status=CheckStatus.DONE)
    clients = Customer.objects.annotate(
        last_check=Subquery(last.order_by("-checked_at").values("checked_at")[:1])
    )
    plan = [
        (CheckReason.ONBOARDING, clients.filter(last_check__isnull=True)),
        (
            CheckReason.PRE_APPROVAL,
            clients.filter(applications__stage=Stage.CREDIT_REVIEW).filter(
                Q(last_check__lt=midnight - timedelta(days=rules.before_approval_days))
            ),
        ),
        (
            CheckReason.MONTHLY,
            clients.filter(facilities__status=FacilityStatus.ACTIVE).filter(
                last_check__lt=midnight - timedelta(days=rules.recheck_days)
            ),
        ),
    ]
    budget, done = rules.daily_limit, set()
    for reason, queryset in plan:
        if reason == CheckReason.ONBOARDING:
            queryset = queryset.filter(owner__isnull=False)
        for customer in queryset.distinct().order_by("pk")[: max(budget, 0)]:
            if customer.pk in done:
                continue
            check_run(customer=customer, reason=reason, provider=provider)
            done.add(customer.pk)
            counts[reason] += 1
            budget -= 1
    return counts


@dataclass
class ImportResult:
    checks: int
    findings: int
    new: int


CSV_COLUMNS = ("identifier", "category", "key", "title", "amount", "date", "source")
#: The same columns named in Chinese (a lender's report export often is).
CSV_COLUMNS_ZH = ("证件号码", "类别", "编号", "标题", "金额", "日期", "来源")
#: Category names as Chinese report exports write them.
_LABELS = {
    "失信被执行人": FindingCategory.DISHONEST,
    "失信": FindingCategory.DISHONEST,
    "被执行人": FindingCategory.ENFORCEMENT,
    "诉讼": FindingCategory.LITIGATION,
    "涉诉": FindingCategory.LITIGATION,
    "裁判文书": FindingCategory.LITIGATION,
    "行政处罚": FindingCategory.PENALTY,
    "工商变更": FindingCategory.REGISTRATION,
    "股东变更": FindingCategory.SHAREHOLDER,
}


def findings_import(*, data: bytes, user=None) -> ImportResult:
    """Import bought reports from CSV (UTF-8, header ``identifier,category,key,title,amount,
    date,source``): all or nothing; every bad row named with its field and why."""
    reader = _csv_reader(data)
    rows: list[tuple[Customer, str, Reported]] = []
    errors: list[str] = []
    clients: dict[str, Customer] = {}
    for number, row in enumerate(reader, start=2):
        problems, parsed = _parse_row(row, clients)
        for field, why in problems:
            errors.append(
                _("Row %(row)s, %(field)s: %(why)s.") % {"row": number, "field": field, "why": why}
            )
        if parsed is not None:
            rows.append(parsed)
    if errors:
        raise ValidationError(errors)
    return _save_imported(rows, user=user)


def _csv_reader(data: bytes) -> csv.DictReader:
    """The rows of the UTF-8 CSV ``data``, its Chinese headers read as the English ones;
    raises when it is not UTF-8 or a required column is missing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(_("The file is not UTF-8 text.")) from error
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames:
        aliases = dict(zip(CSV_COLUMNS_ZH, CSV_COLUMNS, strict=True))
        reader.fieldnames = [aliases.get(name.strip(), name.strip()) for name in reader.fieldnames]
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
    return reader


def _parse_row(
    row: dict, clients: dict[str, Customer]
) -> tuple[list[tuple[str, str]], tuple[Customer, str, Reported] | None]:
    """The problems of one CSV row (field, why) and, when there are none, the row as
    (client, source, finding). ``clients`` caches the clients of valid rows by identifier."""
    ident = (row.get("identifier") or "").strip()
    customer = (
        clients.get(ident)
        or Customer.objects.filter(Q(credit_code=ident) | Q(id_number=ident)).first()
        if ident
        else None
    )
    category = (row.get("category") or "").strip()
    category = _LABELS.get(category, category)
    problems = []
    if customer is None:
        problems.append(("identifier", _("no client has this credit code or ID number")))
    if category not in FindingCategory.values:
        problems.append(("category", _("unknown category")))
    if not (row.get("key") or "").strip():
        problems.append(("key", _("empty")))
    amount = None
    if (row.get("amount") or "").strip():
        try:
            amount = Decimal(row["amount"].replace(",", "").strip())
        except InvalidOperation:
            problems.append(("amount", _("not a number")))
    day = None
    if (row.get("date") or "").strip():
        try:
            day = date.fromisoformat(row["date"].strip())
        except ValueError:
            problems.append(("date", _("not a date (YYYY-MM-DD)")))
    if problems or customer is None:  # without a problem, a client was found
        return problems, None
    clients[ident] = customer
    source = (row.get("source") or "").strip()[:40] or "csv"
    reported = Reported(
        category,
        row["key"].strip()[:120],
        (row.get("title") or row["key"]).strip()[:300],
        amount,
        day,
    )
    return problems, (customer, source, reported)


@transaction.atomic
def _save_imported(rows: list[tuple[Customer, str, Reported]], *, user) -> ImportResult:
    """One import check per client and source with its findings recorded (never resolving
    the ones it does not list)."""
    now = timezone.now()
    result = ImportResult(0, 0, 0)
    groups: dict[tuple[int, str], list] = {}
    for customer, source, reported in rows:
        groups.setdefault((customer.pk, source), [customer, []])[1].append(reported)
    for (_pk, source), (customer, reported) in groups.items():
        check = _check_done(
            customer=customer, source=source, reason=CheckReason.IMPORT, reported=reported,
            now=now, user=user, resolve_missing=False,
        )  # fmt: skip
        result.checks += 1
        result.findings += len(reported)
        result.new += check.new_count
    return result
