"""Writes after disbursement: the evidence checklist and its reviews, guarantees and
insurance policies, their expiry reminders, and claims with the recoveries they bring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.postloan import payee_flags
from fincrm.core.validators import validate_document_file
from fincrm.financing.choices import FacilityStatus, LoanClass
from fincrm.financing.models import Facility

from .choices import ClaimStatus, EvidenceStatus
from .models import MSG_CLAIM_COVER, Claim, EvidenceItem, GuaranteeContract, InsurancePolicy

MSG_PAYEE_REQUIRED = _("Name the payee the money was paid to.")
MSG_AMOUNT_POSITIVE = _("The amount must be more than zero.")
MSG_REJECT_REASON = _("Say why the evidence is rejected: the uploader sees the reason.")
MSG_NOT_RECEIVED = _("Only evidence that was provided can be accepted or rejected.")
MSG_OTHER_CLIENT = _("Every facility covered must be the borrower's.")
MSG_NO_FACILITY = _("Link at least one facility.")
MSG_NOT_DEFAULTED = _(
    "A claim is made only against a defaulted facility (classified %(classes)s, or written off)."
)
MSG_NOT_LINKED = _("This guarantee or policy does not cover the facility.")
MSG_OVER_COVER = _("The claim is more than the %(amount)s CNY covered.")
MSG_CLAIM_DECIDED = _("The claim has already been decided.")
MSG_RECOVERED_RANGE = _("The amount recovered must be more than zero and at most the claim.")
MSG_GUARANTOR_SELF = _("The borrower cannot guarantee its own facility.")


def _policy():
    from fincrm.core.policy import policy_current

    return policy_current()[0].lending


def _actor(user):
    return user if getattr(user, "pk", None) else None


# --- use of funds -------------------------------------------------------------------------


@transaction.atomic
def evidence_checklist_create(*, facility: Facility) -> int:
    """The facility's checklist of evidence of use, from the policy: the kinds for its
    product type, each due ``deadline_days`` after the start. Idempotent: returns how many
    items were added."""
    rules = _policy().use_of_funds
    kinds = rules.evidence.get(facility.product.product_type, [])
    due = facility.start_date + timedelta(days=rules.deadline_days)
    have = set(EvidenceItem.objects.filter(facility=facility).values_list("kind", flat=True))
    new = [EvidenceItem(facility=facility, kind=k, due_on=due) for k in kinds if k not in have]
    for item in new:
        item.save()  # one by one: the history records each item's creation
    return len(new)


def evidence_checklists_open(*, as_of: date) -> int:
    """The daily job: a checklist for every live facility disbursed within the deadline that
    has none (booked outside the pipeline: an import, the admin, a data load)."""
    rules = _policy().use_of_funds
    facilities = (
        Facility.objects.filter(
            status=FacilityStatus.ACTIVE,
            start_date__gt=as_of - timedelta(days=rules.deadline_days),
            start_date__lte=as_of,
            product__product_type__in=[t for t, kinds in rules.evidence.items() if kinds],
        )
        .exclude(evidence_items__isnull=False)
        .select_related("product")
    )
    return sum(evidence_checklist_create(facility=f) for f in facilities.iterator(chunk_size=500))


@transaction.atomic
def evidence_upload(
    *, item: EvidenceItem, upload, payee: str, amount: Decimal | None, user=None
) -> EvidenceItem:
    """Staff provide an item: the file (checked like application documents), the payee and
    the amount paid. The payee is checked against the loan's stated use (not the borrower, not
    a related party, not more than disbursed); what does not fit is kept on the item, shown
    at once and raised as an early warning by the next evaluation."""
    payee = (payee or "").strip()
    if not payee:
        raise ValidationError({"payee": [MSG_PAYEE_REQUIRED]})
    if amount is not None and amount <= 0:
        raise ValidationError({"amount": [MSG_AMOUNT_POSITIVE]})
    validate_document_file(upload)
    item = (
        EvidenceItem.objects.select_for_update()
        .select_related("facility__customer")
        .get(pk=item.pk)
    )
    facility = item.facility
    related = list(facility.customer.contacts.values_list("name", flat=True))
    if facility.application is not None:
        related.append(facility.application.guarantor)
    item.flags = payee_flags(
        payee=payee,
        amount=amount,
        borrower=facility.customer.name,
        related=related,
        disbursed=facility.drawn_amount,
    )
    item.file.save(upload.name.rsplit("/", 1)[-1], upload, save=False)
    item.payee, item.amount = payee[:100], amount
    item.status = EvidenceStatus.RECEIVED
    item.received_at = timezone.now()
    item.uploaded_by = _actor(user)
    item.decided_by, item.decided_at, item.rejection_reason = None, None, ""
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def evidence_decide(*, item: EvidenceItem, user, accept: bool, reason: str = "") -> EvidenceItem:
    """A reviewer accepts provided evidence, or rejects it with a reason (it counts as not
    proven again and its deadline stands)."""
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    if item.status != EvidenceStatus.RECEIVED:
        raise ValidationError(MSG_NOT_RECEIVED, code="not_received")
    if not accept and not reason.strip():
        raise ValidationError({"reason": [MSG_REJECT_REASON]})
    item.status = EvidenceStatus.ACCEPTED if accept else EvidenceStatus.REJECTED
    item.rejection_reason = "" if accept else reason.strip()[:300]
    item.decided_by, item.decided_at = _actor(user), timezone.now()
    item.full_clean()
    item.save()
    return item


# --- guarantees and insurance ---------------------------------------------------------------


def _link(cover, facilities: Sequence[Facility]) -> None:
    if not facilities:
        raise ValidationError({"facilities": [MSG_NO_FACILITY]})
    if any(f.customer_id != cover.customer_id for f in facilities):
        raise ValidationError({"facilities": [MSG_OTHER_CLIENT]})
    cover.full_clean()
    cover.save()
    cover.facilities.set(facilities)


@transaction.atomic
def guarantee_record(
    *, customer, facilities: Sequence[Facility], user=None, **fields
) -> GuaranteeContract:
    """Record a guarantee contract (保证/抵押/质押) over some of the borrower's facilities."""
    guarantee = GuaranteeContract(customer=customer, created_by=_actor(user), **fields)
    if guarantee.guarantor_client_id == customer.pk:
        raise ValidationError({"guarantor_client": [MSG_GUARANTOR_SELF]})
    _link(guarantee, facilities)
    return guarantee


@transaction.atomic
def policy_record(
    *, customer, facilities: Sequence[Facility], user=None, **fields
) -> InsurancePolicy:
    """Record a credit insurance policy over some of the borrower's facilities."""
    policy = InsurancePolicy(customer=customer, created_by=_actor(user), **fields)
    _link(policy, facilities)
    return policy


def cover_expiry_reminders(*, as_of: date) -> int:
    """The daily job: a task for the borrower's account manager for each guarantee and
    policy expiring within the policy's ``expiry_reminder_days`` (once per expiry date: a
    renewed cover with a new date asks again). Returns the tasks created."""
    from fincrm.engagement.choices import Priority, TaskKind
    from fincrm.engagement.models import Task
    from fincrm.engagement.services import task_schedule

    days = _policy().cover.expiry_reminder_days
    window = {"expires_on__gte": as_of, "expires_on__lte": as_of + timedelta(days=days)}
    before = Task.objects.filter(source_key__startswith="cover:").count()
    for prefix, model in (("g", GuaranteeContract), ("p", InsurancePolicy)):
        for cover in model.objects.filter(**window).select_related("customer"):
            with transaction.atomic():
                task_schedule(
                    customer=cover.customer,
                    kind=TaskKind.FOLLOW_UP,
                    source_key=f"cover:{prefix}{cover.pk}:{cover.expires_on:%Y%m%d}",
                    title=gettext("%(cover)s expires on %(date)s: renew it or replace the cover")
                    % {
                        "cover": f"{model._meta.verbose_name} {cover}",
                        "date": cover.expires_on.isoformat(),
                    },
                    due_on=max(as_of, cover.expires_on - timedelta(days=days // 2)),
                    priority=Priority.HIGH,
                    once=True,
                )
    return Task.objects.filter(source_key__startswith="cover:").count() - before


# --- claims ---------------------------------------------------------------------------------


def is_defaulted(facility: Facility) -> bool:
    return facility.status == FacilityStatus.WRITTEN_OFF or (
        facility.loan_class in _policy().cover.claimable_classes
    )


@transaction.atomic
def claim_file(
    *,
    facility: Facility,
    amount: Decimal,
    filed_on: date,
    guarantee: GuaranteeContract | None = None,
    policy: InsurancePolicy | None = None,
    note: str = "",
    user=None,
) -> Claim:
    """A claim under a guarantee or policy covering a defaulted facility, for at most what
    the cover states."""
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if not is_defaulted(facility):
        classes = "、".join(str(LoanClass(c).label) for c in _policy().cover.claimable_classes)
        raise ValidationError(MSG_NOT_DEFAULTED % {"classes": classes}, code="not_defaulted")
    cover = guarantee or policy
    if cover is None or (guarantee and policy):
        raise ValidationError(MSG_CLAIM_COVER, code="cover")
    if not cover.facilities.filter(pk=facility.pk).exists():
        raise ValidationError(MSG_NOT_LINKED, code="not_linked")
    if amount is None or amount <= 0:
        raise ValidationError({"amount_claimed": [MSG_AMOUNT_POSITIVE]})
    limit = cover.amount_covered if isinstance(cover, GuaranteeContract) else cover.coverage_amount
    if limit is not None and amount > limit:
        raise ValidationError({"amount_claimed": [MSG_OVER_COVER % {"amount": f"{limit:,.2f}"}]})
    claim = Claim(
        facility=facility, guarantee=guarantee, policy=policy, amount_claimed=amount,
        filed_on=filed_on, note=note[:300], created_by=_actor(user),
    )  # fmt: skip
    claim.full_clean()
    claim.save()
    return claim


@transaction.atomic
def claim_decide(
    *, claim: Claim, user, paid: bool, on: date, amount_recovered: Decimal | None = None
) -> Claim:
    """The guarantor or insurer paid (all or part) or refused. A payment is booked on the
    facility where repayments and recoveries are (``servicing.payment_record``: a recovery
    once written off, else allocated to what is due), and linked to the claim."""
    from fincrm.financing.servicing import payment_record

    claim = Claim.objects.select_for_update().select_related("facility").get(pk=claim.pk)
    if claim.status != ClaimStatus.FILED:
        raise ValidationError(MSG_CLAIM_DECIDED, code="decided")
    if paid:
        amount = claim.amount_claimed if amount_recovered is None else amount_recovered
        if amount <= 0 or amount > claim.amount_claimed:
            raise ValidationError({"amount_recovered": [MSG_RECOVERED_RANGE]})
        claim.payment = payment_record(
            facility=claim.facility,
            amount=amount,
            paid_on=on,
            reference=gettext("Claim %(number)s") % {"number": claim.pk},
            user=user,
        )
        claim.amount_recovered = amount
    claim.status = ClaimStatus.PAID if paid else ClaimStatus.REJECTED
    claim.decided_on = on
    claim.full_clean()
    claim.save()
    return claim
