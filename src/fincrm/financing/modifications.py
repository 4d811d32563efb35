"""Extension (展期) and restructuring (重组) of a live facility, through approval.

Whoever may change the client (its account manager, their lead) requests a modification; it
is checked at once against the product and the regulator's extension limits (中国人民银行
《贷款通则》第十二条, as policy data: ``lending.extension_limits``). It is then decided like an
application at credit review (``approval.authority_for``): the amount at stake is the
outstanding principal, the requester is the maker and may not decide it, a rule of several
roles needs each role's approval; an approval checks the grade's controls on the *new* terms
(maximum tenor counted from the original start, minimum rate) and refuses a breach unless a
role that may override records a reason.

What an approval does, on the day of the last approval:

- **extension**: the instalments nobody has paid anything on yet are rebuilt over as many
  more periods as the extension adds (the same principal, re-spread; the same rate and
  method); what is already due stays due;
- **restructuring**: the same, at the new rate and with the new repayment method if given;
  with ``capitalise_overdue`` the unpaid principal and interest of the instalments already
  due join the new schedule's principal (penalty interest and fees stay owed where they are:
  a restructuring is not a waiver).

The schedule it replaces is kept as a ``ScheduleRevision`` (linked from the modification),
and the facility's maturity, tenor, rate and method change with their history. A
restructured facility — and an extension of one in arrears, a concession to a borrower in
difficulty under the 2023 NFRA/PBoC rule's definition — is watched for the policy's
observation period (``Facility.restructured_until``), during which its five-tier class is at
least special mention, at least substandard in arrears.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.analytics.policy import PolicyConfig
from fincrm.webhooks import events as webhooks

from . import servicing
from .approval import (
    MSG_REASON_NEEDED,
    Breach,
    authority_for,
    breaches_allowed,
    client_grade,
    describe_rule,
    minimum_rate,
)
from .choices import FacilityStatus, ModificationKind, ModificationStatus, Vote
from .models import (
    Facility,
    FacilityModification,
    Installment,
    ModificationVote,
    ScheduleRevision,
)
from .schedule import FREQUENCY_MONTHS, add_months

ZERO = Decimal(0)
MSG_NOT_ACTIVE = _("Only an active facility can be extended or restructured.")
MSG_PENDING_EXISTS = _(
    "This facility already has an extension or restructuring waiting for a decision."
)
MSG_REASON = _("Say why the terms should change.")
MSG_PERIODS = _(
    "The term changes by whole repayment periods: give the months as a multiple of %(step)s."
)
MSG_EXTENSION_MONTHS = _("An extension pushes the maturity out by at least one repayment period.")
MSG_EXTENSION_ONLY_TERM = _(
    "An extension changes the maturity only; a new rate, repayment method or capitalising "
    "what is overdue is a restructuring."
)
MSG_NOTHING_CHANGES = _(
    "A restructuring must change something: the term, the rate, the repayment method or "
    "what is overdue."
)
MSG_METHOD_NOT_OFFERED = _("The product does not offer this repayment method.")
MSG_NOTHING_TO_RESPREAD = _(
    "No instalment after today is untouched: there is nothing left to re-spread."
)
MSG_EXTENSION_LIMIT = _(
    "An extension of a loan of %(tenor)s months may add at most %(max)s months in all "
    "(PBoC General Rules on Loans, art. 12): %(before)s added before, %(months)s requested."
)
MSG_NOT_PENDING = _("This extension or restructuring has already been decided.")
MSG_MAKER = _("Maker–checker: you requested this change of terms, so you may not decide it.")
MSG_ALREADY_VOTED = _("You have already recorded your decision on this change of terms.")


# --- reads --------------------------------------------------------------------------------


def facility_for_modification(user, pk: int) -> Facility:
    """A facility whose terms the user may ask to change: whoever may change the client (its
    account manager, their lead). 404 unseen, 403 seen only."""
    facility = get_object_or_404(
        Facility.objects.restrict(user, "view").select_related("customer", "product"), pk=pk
    )
    if not user.has_perm("customers.change_customer", facility.customer):
        raise PermissionDenied
    return facility


def modification_for(user, pk: int, *, facility_id: int | None = None) -> FacilityModification:
    """A modification of a facility the user sees (404 otherwise); whether the user may
    decide it is the authority table's question."""
    qs = FacilityModification.objects.restrict(user, "view").select_related(
        "facility__customer", "facility__product"
    )
    if facility_id is not None:
        qs = qs.filter(facility_id=facility_id)
    return get_object_or_404(qs, pk=pk)


def decision_refusal(modification: FacilityModification, user, policy: PolicyConfig) -> str:
    """Why ``user`` may not decide ``modification`` ("" when they may)."""
    if modification.status != ModificationStatus.PENDING:
        return str(MSG_NOT_PENDING)
    if policy.lending.maker_checker and modification.requested_by_id == user.pk:
        return str(MSG_MAKER)
    try:
        authority_for(modification, user, policy)
    except PermissionDenied as exc:
        return str(exc)
    if modification.votes.filter(user=user).exists():
        return str(MSG_ALREADY_VOTED)
    return ""


#: Decided modifications the 360° page shows per facility (the pending one always).
DECIDED_SHOWN = 3


def modification_panels(*, user, facilities, may_change: bool | None = None) -> None:
    """Attach to each facility what the 360° page shows of its modifications: the pending one
    with whether the user may decide it (and why not), the latest decided ones, whether the
    user may request one (``may_change``: the user may change the client, when the caller
    knows). Uses the facilities' ``modification_list`` when ``customer_360`` loaded it; the
    policy is read only when something waits for a decision."""
    missing = {f.pk for f in facilities if not hasattr(f, "modification_list")}
    if missing:
        loaded: dict[int, list[FacilityModification]] = {}
        for modification in (
            FacilityModification.objects.filter(facility__in=missing)
            .select_related("requested_by", "decided_by", "revision")
            .order_by("-requested_at", "-pk")
        ):
            loaded.setdefault(modification.facility_id, []).append(modification)
        for facility in facilities:
            if facility.pk in missing:
                facility.modification_list = loaded.get(facility.pk, [])
    policy = None
    perms: dict[int, bool] = {}  # by client: the 360° page's facilities share one
    for facility in facilities:
        if facility.customer_id not in perms:
            perms[facility.customer_id] = (
                may_change
                if may_change is not None
                else user.has_perm("customers.change_customer", facility.customer)
            )
        rows = facility.modification_list
        pending = [m for m in rows if m.status == ModificationStatus.PENDING]
        for modification in pending:
            if policy is None:
                from .services import policy_current

                policy = policy_current()[0]
            modification.facility = facility
            modification.refusal = decision_refusal(modification, user, policy)
            modification.approvals = list(modification.votes.select_related("user"))
        facility.pending_modifications = pending
        facility.decided_modifications = [m for m in rows if m not in pending][:DECIDED_SHOWN]
        facility.may_change_terms = perms[facility.customer_id]
        facility.can_request_modification = (
            facility.status == FacilityStatus.ACTIVE and not pending and facility.may_change_terms
        )
        facility.modification_kinds = ModificationKind.choices


# --- rules --------------------------------------------------------------------------------


def extension_allowance(facility: Facility, policy: PolicyConfig) -> dict[str, int]:
    """The original tenor, the months extensions added so far and the most they may add in
    all (``lending.extension_limits``: the first band the original tenor fits)."""
    approved = FacilityModification.objects.filter(
        facility=facility, status=ModificationStatus.APPROVED
    )
    added = sum(approved.values_list("extension_months", flat=True))
    extended = sum(
        approved.filter(kind=ModificationKind.EXTENSION).values_list("extension_months", flat=True)
    )
    original = facility.tenor_months - added
    band = next(
        b
        for b in policy.lending.extension_limits
        if b.up_to_months is None or original <= b.up_to_months
    )
    limits = []
    if band.max_share is not None:
        limits.append(int(original * band.max_share))
    if band.max_months is not None:
        limits.append(band.max_months)
    return {"original": original, "before": extended, "max": min(limits) if limits else 0}


def extension_breach(
    facility: Facility, kind: str, months: int, policy: PolicyConfig
) -> str | None:
    """The extension-limit message when ``months`` more would exceed it, else None."""
    if kind != ModificationKind.EXTENSION:
        return None
    allowance = extension_allowance(facility, policy)
    if allowance["before"] + months <= allowance["max"]:
        return None
    return str(MSG_EXTENSION_LIMIT) % {
        "tenor": allowance["original"],
        "max": allowance["max"],
        "before": allowance["before"],
        "months": months,
    }


def modification_breaches(modification: FacilityModification, policy: PolicyConfig) -> list:
    """The grade controls the new terms break: the tenor counted from the facility's start,
    the rate (the new one, or the current one kept) against the grade's floor."""
    facility = modification.facility
    grade = client_grade(facility.customer)
    if grade not in policy.grade_controls:
        return [
            Breach(
                "no_grade",
                gettext("The client has no credit grade yet: evaluate it before approving."),
            )
        ]
    controls = policy.grade_controls[grade]
    breaches = []
    tenor = modification.new_tenor_months
    if tenor > controls.max_tenor_months:
        breaches.append(
            Breach(
                "max_tenor",
                gettext(
                    "the new tenor of %(tenor)s months from the start (%(start)s) is above "
                    "grade %(grade)s's maximum of %(max)s months"
                )
                % {
                    "tenor": tenor,
                    "start": facility.start_date.isoformat(),
                    "grade": grade,
                    "max": controls.max_tenor_months,
                },
            )
        )
    rate = modification.new_rate if modification.new_rate is not None else facility.rate
    floor = minimum_rate(policy, controls)
    if rate < floor:
        breaches.append(
            Breach(
                "min_rate",
                gettext(
                    "rate %(rate)s%% is below grade %(grade)s's floor of %(floor)s%% "
                    "(reference rate "
                    "plus %(spread)s bp)"
                )
                % {
                    "rate": rate,
                    "grade": grade,
                    "floor": floor.normalize(),
                    "spread": controls.pricing_spread_bp,
                },
            )
        )
    return breaches


def _untouched_after(facility: Facility, on: date) -> bool:
    return Installment.objects.filter(
        facility=facility,
        due_date__gt=on,
        paid_off_on__isnull=True,
        amount_paid=0,
        fee_paid=0,
        penalty_paid=0,
    ).exists()


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def modification_request(
    *,
    facility: Facility,
    user,
    kind: str,
    reason: str,
    policy: PolicyConfig,
    extension_months: int = 0,
    new_rate: Decimal | None = None,
    new_method: str = "",
    capitalise_overdue: bool = False,
    on: date | None = None,
) -> FacilityModification:
    """Ask for an extension or a restructuring of ``facility`` (the caller checked that the
    user may change the client: ``facility_for_modification``). Refused at once, with a
    ``ValidationError`` naming the rule, when the facility is not active or already has one
    pending, the terms change nothing or not by whole periods, the product does not offer
    the method, nothing is left to re-spread, or an extension passes the regulator's limit."""
    on = on or timezone.localdate()
    facility = (
        Facility.objects.select_for_update(of=("self",))
        .select_related("customer", "product")
        .get(pk=facility.pk)
    )
    reason = (reason or "").strip()
    extension_months = extension_months or 0
    new_method = new_method or ""
    if new_method == facility.repayment_method:
        new_method = ""
    if new_rate is not None and new_rate == facility.rate:
        new_rate = None
    if facility.status != FacilityStatus.ACTIVE:
        raise ValidationError(MSG_NOT_ACTIVE, code="not_active")
    if FacilityModification.objects.filter(
        facility=facility, status=ModificationStatus.PENDING
    ).exists():
        raise ValidationError(MSG_PENDING_EXISTS, code="pending")
    if not reason:
        raise ValidationError({"reason": [MSG_REASON]})
    step = FREQUENCY_MONTHS.get(facility.frequency, 1)
    if extension_months % step:
        raise ValidationError({"extension_months": [MSG_PERIODS % {"step": step}]}, code="periods")
    if kind == ModificationKind.EXTENSION:
        if extension_months <= 0:
            raise ValidationError({"extension_months": [MSG_EXTENSION_MONTHS]})
        if new_rate is not None or new_method or capitalise_overdue:
            raise ValidationError(MSG_EXTENSION_ONLY_TERM, code="extension_terms")
    elif not (extension_months or new_rate is not None or new_method or capitalise_overdue):
        raise ValidationError(MSG_NOTHING_CHANGES, code="nothing")
    if new_method and new_method not in facility.product.repayment_methods:
        raise ValidationError({"new_method": [MSG_METHOD_NOT_OFFERED]})
    if not _untouched_after(facility, on):
        raise ValidationError(MSG_NOTHING_TO_RESPREAD, code="nothing_to_respread")
    limit = extension_breach(facility, kind, extension_months, policy)
    if limit:
        raise ValidationError(limit, code="extension_limit")
    modification = FacilityModification(
        facility=facility,
        kind=kind,
        reason=reason,
        extension_months=extension_months,
        new_rate=new_rate,
        new_method=new_method,
        capitalise_overdue=capitalise_overdue,
        outstanding_principal=servicing.outstanding_principal(facility),
        old_maturity=facility.maturity_date,
        old_rate=facility.rate,
        old_method=facility.repayment_method,
        old_tenor_months=facility.tenor_months,
        requested_by=user,
    )
    modification.full_clean()
    modification._history_user = user
    modification.save()
    _emit(webhooks.Event.MODIFICATION_REQUESTED, modification)
    return modification


@transaction.atomic
def modification_decide(
    *,
    modification: FacilityModification,
    user,
    vote: str,
    policy: PolicyConfig,
    note: str = "",
    override_reason: str = "",
    policy_version: int | None = None,
    on: date | None = None,
) -> FacilityModification:
    """Record ``user``'s decision on a pending modification.

    ``PermissionDenied`` (403) for the requester (maker–checker) and outside the user's
    authority for the outstanding principal; ``ValidationError`` (422) for a decided one, a
    second vote, a rejection without a reason, the extension limit, and a breach of the
    grade's controls without an override reason (an override by a role that may not is
    403). A rejection rejects it; an approval applies it once every role of the authority
    rule has approved. Nothing is written when it is refused.
    """
    on = on or timezone.localdate()
    modification = (
        FacilityModification.objects.select_for_update(of=("self",))
        .select_related("facility__customer__classification", "facility__product")
        .get(pk=modification.pk)
    )
    if modification.status != ModificationStatus.PENDING:
        raise ValidationError(MSG_NOT_PENDING, code="not_pending")
    if policy.lending.maker_checker and modification.requested_by_id == user.pk:
        raise PermissionDenied(str(MSG_MAKER))
    rule = authority_for(modification, user, policy)
    if vote != Vote.REJECT and modification.facility.status != FacilityStatus.ACTIVE:
        raise ValidationError(MSG_NOT_ACTIVE, code="not_active")  # closed since the request
    if modification.votes.filter(user=user).exists():
        raise ValidationError(MSG_ALREADY_VOTED, code="already_voted")
    role = Role.ADMIN if user.is_superuser and not user.role else user.role
    breaches: list[Breach] = []
    if vote == Vote.REJECT:
        if not note.strip():
            raise ValidationError(MSG_REASON_NEEDED, code="reason_needed")
    else:
        facility = modification.facility
        limit = extension_breach(facility, modification.kind, modification.extension_months,
                                 policy)  # fmt: skip
        if limit:
            raise ValidationError(limit, code="extension_limit")
        breaches = modification_breaches(modification, policy)
        breaches_allowed(breaches, override_reason=override_reason, role=role, policy=policy)
    record = ModificationVote(
        modification=modification,
        user=user,
        role=role,
        vote=vote,
        authority=describe_rule(rule),
        breaches=[b.as_dict() for b in breaches],
        override_reason=override_reason.strip() if breaches else "",
        note=note.strip(),
        policy_version=policy_version,
    )
    record.full_clean()
    record.save()
    approved = set(modification.votes.filter(vote=Vote.APPROVE).values_list("role", flat=True))
    if vote == Vote.REJECT:
        _close(modification, ModificationStatus.REJECTED, user)
    elif all(r in approved for r in rule.roles):
        if breaches:
            modification.override_reason = record.override_reason
        _apply(modification, user=user, on=on, policy=policy)
        _close(modification, ModificationStatus.APPROVED, user)
    return modification


@transaction.atomic
def modification_cancel(*, modification: FacilityModification, user) -> FacilityModification:
    """Withdraw a pending request (whoever may change the client: the caller checked)."""
    modification = FacilityModification.objects.select_for_update().get(pk=modification.pk)
    if modification.status != ModificationStatus.PENDING:
        raise ValidationError(MSG_NOT_PENDING, code="not_pending")
    modification.status = ModificationStatus.CANCELLED
    modification.decided_by, modification.decided_at = user, timezone.now()
    modification._history_user = user
    modification.save(update_fields=["status", "decided_by", "decided_at"])
    return modification


def _close(modification: FacilityModification, status: str, user) -> None:
    modification.status = status
    modification.decided_by, modification.decided_at = user, timezone.now()
    modification._history_user = user
    modification.save()
    _emit(webhooks.Event.MODIFICATION_DECIDED, modification)
    from .services import customer_changed

    customer_changed(modification.facility.customer_id)


def _apply(modification: FacilityModification, *, user, on: date, policy: PolicyConfig) -> None:
    """Rebuild the schedule under the new terms, keep the old one, change the facility."""
    from .services import facility_refresh_delinquency

    facility = Facility.objects.select_for_update().get(pk=modification.facility_id)
    label = f"{modification.get_kind_display()} #{modification.pk}"
    facility._history_user = user
    facility._change_reason = label
    in_arrears = facility.days_past_due > 0
    capitalised, before = ZERO, []
    if modification.capitalise_overdue:
        capitalised, before = _capitalise(facility, on)
    step = FREQUENCY_MONTHS.get(facility.frequency, 1)
    rows = servicing.schedule_rebuild(
        facility=facility,
        on=on,
        reason=label,
        user=user,
        rate=modification.new_rate,
        method=modification.new_method or None,
        extra_periods=modification.extension_months // step,
        capitalised=capitalised,
    )
    if not rows:
        raise ValidationError(MSG_NOTHING_TO_RESPREAD, code="nothing_to_respread")
    revision = ScheduleRevision.objects.filter(facility=facility).latest("pk")
    if before:
        revision.rows = before + revision.rows
        revision.save(update_fields=["rows"])
    facility.tenor_months = modification.new_tenor_months
    fields = ["tenor_months"]
    if modification.kind == ModificationKind.RESTRUCTURING or in_arrears:
        # From the first due date of the new terms, at least the policy's months and two
        # instalments (2023 NFRA/PBoC rule, art. 18: two periods and not under a year).
        months = policy.loan_classification.restructuring_observation_months
        second_due = rows[1].due_date if len(rows) > 1 else rows[0].due_date
        facility.restructured_until = max(add_months(rows[0].due_date, months), second_due)
        fields.append("restructured_until")
    facility.save(update_fields=fields)
    modification.effective_on = on
    modification.revision = revision
    modification.facility = facility_refresh_delinquency(facility=facility, as_of=on)


def _capitalise(facility: Facility, on: date) -> tuple[Decimal, list[dict]]:
    """Move the unpaid principal and interest of the instalments due by ``on`` out of them
    (into the new schedule's principal): returns the amount and those rows as they were."""
    amount, before = ZERO, []
    for row in Installment.objects.select_for_update().filter(
        facility=facility, due_date__lte=on, paid_off_on__isnull=True
    ):
        owed = (row.principal_due - row.principal_paid) + (row.interest_due - row.interest_paid)
        if owed <= 0:
            continue
        before.append(
            {
                "number": row.number,
                "due_date": row.due_date.isoformat(),
                "principal_due": str(row.principal_due),
                "interest_due": str(row.interest_due),
                "fee_due": str(row.fee_due),
            }
        )
        amount += owed
        row.principal_due, row.interest_due = row.principal_paid, row.interest_paid
        if row.total_outstanding == 0:
            row.paid_off_on = on
        row.save(update_fields=["principal_due", "interest_due", "paid_off_on"])
    return amount, before


def _emit(event: str, modification: FacilityModification) -> None:
    facility = modification.facility
    webhooks.emit(
        event,
        [
            {
                "modification": modification.pk,
                "facility": facility.pk,
                "customer": facility.customer_id,
                "kind": modification.kind,
                "status": modification.status,
                "extension_months": modification.extension_months,
                "new_rate": modification.new_rate,
                "new_method": modification.new_method,
                "capitalise_overdue": modification.capitalise_overdue,
                "outstanding_principal": modification.outstanding_principal,
                "maturity_date": facility.maturity_date,
                "effective_on": modification.effective_on,
            }
        ],
    )
