"""Writes for the financing pipeline and loan servicing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.delinquency import loan_classes
from fincrm.core.bulk import update_rows
from fincrm.core.events import customer_changed
from fincrm.core.policy import policy_current
from fincrm.core.validators import validate_document_file
from fincrm.webhooks import events as webhooks

from .choices import (
    PIPELINE,
    STAGE_TRANSITIONS,
    Channel,
    DocumentStatus,
    FacilityStatus,
    Frequency,
    RepaymentMethod,
    Route,
    Stage,
    Vote,
)
from .models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Product,
)
from .schedule import FREQUENCY_MONTHS

MSG_BAD_TRANSITION = _("An application at stage “%(current)s” cannot move to “%(target)s”.")
MSG_DOCUMENTS_MISSING = _("Documents still missing: %(missing)s.")
MSG_AMOUNT_BOUNDS = _("The amount must be between %(min)s and %(max)s CNY for %(product)s.")
MSG_TENOR_BOUNDS = _("The tenor must be between %(min)s and %(max)s months for %(product)s.")
MSG_RATE_BOUNDS = _("The rate must be between %(min)s%% and %(max)s%% for %(product)s.")
MSG_METHOD_NOT_OFFERED = _("%(product)s is not repaid by “%(method)s”.")
MSG_TENOR_FREQUENCY = _(
    "A tenor of %(tenor)s months is not a whole number of %(frequency)s periods."
)
MSG_PRODUCT_INACTIVE = _("%(product)s is no longer offered.")

#: Stages that can only be entered once every required document has been accepted.
NEEDS_ALL_DOCUMENTS = frozenset(
    {Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED}
)
#: Stages only a decision within authority reaches (``approval.application_decide``).
DECISIONS: dict[str, Vote] = {Stage.APPROVED: Vote.APPROVE, Stage.REJECTED: Vote.REJECT}


def route_transitions(route: str, skipped: Sequence[str]) -> dict[str, frozenset[str]]:
    """The pipeline of a route: a stage the route skips is passed by, forwards and back."""
    if route != Route.GREEN or not skipped:
        return STAGE_TRANSITIONS
    order = {stage: i for i, stage in enumerate(PIPELINE)}
    result: dict[str, frozenset[str]] = {}
    for stage, targets in STAGE_TRANSITIONS.items():
        if stage in skipped:
            continue
        out: set[str] = set()
        for target in targets:
            while target in skipped:  # forward: on to the next stage; back: to the one before
                forward = order.get(target, 0) > order.get(stage, 0)
                target = PIPELINE[order[target] + (1 if forward else -1)]
            if target != stage:
                out.add(target)
        result[stage] = frozenset(out)
    return result


def allowed_stages(application: Application) -> frozenset[str]:
    policy, _version = policy_current()
    transitions = route_transitions(application.route, policy.lending.green_channel_skip_stages)
    return transitions.get(application.stage, frozenset())


def check_product_bounds(
    *,
    product: Product,
    amount: Decimal,
    tenor_months: int,
    rate: Decimal | None,
    repayment_method: str,
    frequency: str,
) -> None:
    """The product's bounds, checked at entry: a ValidationError by field."""
    errors: dict[str, list] = {}
    name = product.name
    if not product.is_active:
        errors.setdefault("product", []).append(MSG_PRODUCT_INACTIVE % {"product": name})
    if amount is not None and not product.min_amount <= amount <= product.max_amount:
        errors.setdefault("amount", []).append(
            MSG_AMOUNT_BOUNDS
            % {
                "min": f"{product.min_amount:,.0f}",
                "max": f"{product.max_amount:,.0f}",
                "product": name,
            }
        )
    if tenor_months is not None and not (
        product.min_tenor_months <= tenor_months <= product.max_tenor_months
    ):
        errors.setdefault("tenor_months", []).append(
            MSG_TENOR_BOUNDS
            % {"min": product.min_tenor_months, "max": product.max_tenor_months, "product": name}
        )
    if rate is not None and not product.min_rate <= rate <= product.max_rate:
        errors.setdefault("rate", []).append(
            MSG_RATE_BOUNDS
            % {
                "min": product.min_rate.normalize(),
                "max": product.max_rate.normalize(),
                "product": name,
            }
        )
    if repayment_method not in product.repayment_methods:
        errors.setdefault("repayment_method", []).append(
            MSG_METHOD_NOT_OFFERED
            % {
                "product": name,
                "method": RepaymentMethod(repayment_method).label
                if repayment_method in RepaymentMethod.values
                else repayment_method,
            }
        )
    step = FREQUENCY_MONTHS.get(frequency, 1)
    if tenor_months and repayment_method != RepaymentMethod.BULLET and tenor_months % step:
        errors.setdefault("tenor_months", []).append(
            MSG_TENOR_FREQUENCY % {"tenor": tenor_months, "frequency": Frequency(frequency).label}
        )
    if errors:
        raise ValidationError(errors)


def proposed_terms(
    *,
    customer,
    product: Product,
    policy=None,
    amount: Decimal | None = None,
    tenor_months: int | None = None,
) -> dict:
    """Terms an application starts from: the product's first repayment method, and the
    guarantee and margin the client's grade controls ask for; the rate is the pricing rule's
    quote for the amount and tenor (``financing.pricing``), within the product's bounds."""
    from .approval import PROPOSED_GUARANTEE, client_grade, minimum_rate
    from .pricing import quote_for

    policy = policy or policy_current()[0]
    terms: dict = {
        "repayment_method": (product.repayment_methods or [RepaymentMethod.EQUAL_INSTALMENT])[0],
        "rate": product.min_rate,
    }
    controls = policy.grade_controls.get(client_grade(customer) or "")
    if controls is not None:
        terms["guarantee_type"] = PROPOSED_GUARANTEE[controls.guarantee]
        terms["margin_percent"] = Decimal(str(round(controls.margin_ratio * 100, 3)))
        quote = None
        if amount and tenor_months:
            quote = quote_for(
                customer=customer,
                product=product,
                amount=amount,
                tenor_months=tenor_months,
                guarantee_type=terms["guarantee_type"],
                policy=policy,
            )
        rate = quote.rate_percent if quote is not None else minimum_rate(policy, controls)
        terms["rate"] = min(max(product.min_rate, rate), product.max_rate)
    return terms


def _application_terms(
    *,
    customer,
    product: Product,
    amount: Decimal,
    tenor_months: int,
    repayment_method: str | None,
    frequency: str,
    rate: Decimal | None,
    check_bounds: bool,
) -> dict:
    """The terms of a new application: proposed, overridden by those given, then checked
    against the product's bounds (a ValidationError by field) unless ``check_bounds`` is off."""
    policy, _version = policy_current()
    terms = proposed_terms(
        customer=customer,
        product=product,
        policy=policy,
        amount=amount,
        tenor_months=tenor_months,
    )
    if repayment_method:
        terms["repayment_method"] = repayment_method
    if rate is not None:
        terms["rate"] = rate
    if check_bounds:
        check_product_bounds(
            product=product,
            amount=amount,
            tenor_months=tenor_months,
            rate=rate,
            repayment_method=terms["repayment_method"],
            frequency=frequency,
        )
    return terms


@transaction.atomic
def application_create(
    *,
    customer,
    product,
    amount: Decimal,
    tenor_months: int,
    purpose: str = "",
    created_by=None,
    repayment_method: str | None = None,
    frequency: str = Frequency.MONTHLY,
    rate: Decimal | None = None,
    channel: str = Channel.STAFF,
    renewal_of=None,
    check_bounds: bool = True,
) -> Application:
    """Open an application as a lead, with the product's document checklist.

    The terms are checked against the product's bounds at once (a ValidationError by
    field); what is not given is proposed from the product and the client's grade controls
    (``proposed_terms``). Green-channel tiers get the green route.
    """
    from fincrm.core.policy import green_channel_tiers

    terms = _application_terms(
        customer=customer,
        product=product,
        amount=amount,
        tenor_months=tenor_months,
        repayment_method=repayment_method,
        frequency=frequency,
        rate=rate,
        check_bounds=check_bounds,
    )
    tier = getattr(getattr(customer, "classification", None), "tier", None)
    application = Application(
        customer=customer,
        product=product,
        amount=amount,
        tenor_months=tenor_months,
        purpose=purpose,
        frequency=frequency,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        channel=channel,
        route=Route.GREEN if tier in green_channel_tiers() else Route.STANDARD,
        renewal_of=renewal_of,
        **terms,
    )
    application.full_clean()
    application.save()
    ApplicationStageChange.objects.create(
        application=application,
        from_stage="",
        to_stage=Stage.LEAD,
        changed_by=application.created_by,
    )
    ApplicationDocument.objects.bulk_create(
        ApplicationDocument(application=application, kind=kind)
        for kind in product.required_documents
    )
    webhooks.emit(
        webhooks.Event.APPLICATION_CREATED,
        [
            {
                "application": application.pk,
                "customer": customer.pk,
                "product": product.code,
                "amount": application.amount,
                "tenor_months": tenor_months,
                "channel": channel,
            }
        ],
    )
    customer_changed(customer.pk)
    return application


@transaction.atomic
def application_move_stage(
    *,
    application: Application,
    to_stage: str,
    user=None,
    note: str = "",
    decided: bool = False,
    override_reason: str = "",
) -> Application:
    """Move along the pipeline, recording who moved it, when and why.

    Approval and rejection are decisions: unless ``decided`` (called by the decision
    itself), they go through ``approval.application_decide`` — authority (PermissionDenied)
    and the grade's controls (ValidationError) — and the application stays at credit review
    while a four-eyes or committee approval waits for its other members. Entering credit
    review records the maker; the contract stage gets its number; disbursement books the
    facility and its schedule (the whole amount, or the first tranche of a plan).
    """
    if to_stage in DECISIONS and not decided:
        return _move_by_decision(
            application=application,
            to_stage=to_stage,
            user=user,
            note=note,
            override_reason=override_reason,
        )
    application = Application.objects.select_for_update().get(pk=application.pk)
    current = application.stage
    _check_move(application, to_stage)
    now = timezone.now()
    _record_move(application, current=current, to_stage=to_stage, user=user, note=note, now=now)
    _after_move(application, to_stage=to_stage, user=user, now=now)
    customer_changed(application.customer_id)
    return application


def _move_by_decision(
    *,
    application: Application,
    to_stage: str,
    user,
    note: str,
    override_reason: str,
) -> Application:
    """Approval or rejection asked of the pipeline: only from credit review, and through
    ``approval.application_decide`` (authority, the grade's controls, the votes)."""
    from .approval import application_decide

    policy, version = policy_current()
    stage = Application.objects.values_list("stage", flat=True).get(pk=application.pk)
    if stage != Stage.CREDIT_REVIEW:
        _refuse(stage, to_stage)
    application_decide(
        application=application,
        user=user,
        vote=DECISIONS[to_stage],
        note=note,
        override_reason=override_reason,
        policy=policy,
        policy_version=version,
    )
    return Application.objects.get(pk=application.pk)


def _check_move(application: Application, to_stage: str) -> None:
    """The move is one the route allows, and the stage's documents are all accepted."""
    if to_stage not in allowed_stages(application):
        _refuse(application.stage, to_stage)
    if to_stage in NEEDS_ALL_DOCUMENTS:
        missing = [
            d.get_kind_display()
            for d in application.documents.all()
            if d.status != DocumentStatus.ACCEPTED
        ]
        if missing:
            raise ValidationError(
                MSG_DOCUMENTS_MISSING % {"missing": "、".join(map(str, missing))},
                code="documents_missing",
            )


def _record_move(
    application: Application, *, current: str, to_stage: str, user, note: str, now: datetime
) -> None:
    """Save the new stage (with the submission's date and maker), its history row and
    the stage webhook (and the decision webhook for an approval or a rejection)."""
    application.stage = to_stage
    application.stage_changed_at = now
    fields = ["stage", "stage_changed_at"]
    if to_stage == Stage.SUBMITTED and application.submitted_at is None:
        application.submitted_at = now
        fields.append("submitted_at")
    if to_stage == Stage.CREDIT_REVIEW:
        application.submitted_by = user if getattr(user, "pk", None) else None
        fields.append("submitted_by")
        if application.submitted_at is None:
            application.submitted_at = now
            fields.append("submitted_at")
    application.save(update_fields=fields)
    ApplicationStageChange.objects.create(
        application=application,
        from_stage=current,
        to_stage=to_stage,
        changed_at=now,
        changed_by=user if getattr(user, "pk", None) else None,
        note=note,
    )
    webhooks.emit(
        webhooks.Event.APPLICATION_STAGE,
        [
            {
                "application": application.pk,
                "customer": application.customer_id,
                "from": current,
                "to": to_stage,
                "at": now,
            }
        ],
    )
    if to_stage in DECISIONS:
        webhooks.emit(
            webhooks.Event.APPLICATION_DECIDED,
            [
                {
                    "application": application.pk,
                    "customer": application.customer_id,
                    "decision": to_stage,
                    "at": now,
                }
            ],
        )


def _after_move(application: Application, *, to_stage: str, user, now: datetime) -> None:
    """What entering a stage sets off: the contract number, the facility booked at
    disbursement, the automatic decision at credit review."""
    if to_stage == Stage.CONTRACT:
        from .booking import contract_prepare

        contract_prepare(application=application, on=timezone.localdate(now))
    if to_stage == Stage.DISBURSED:
        from .tranches import application_disburse

        if not Facility.objects.filter(application=application).exists():
            # The whole approved amount, or the first tranche when a plan was set.
            application_disburse(application=application, user=user, on=timezone.localdate(now))
        _after_disbursement(application, now)
    if to_stage == Stage.CREDIT_REVIEW:
        # Small loans inside the automatic-decision rule are approved here and now.
        from .approval import application_auto_decide

        policy, version = policy_current()
        application_auto_decide(application=application, policy=policy, policy_version=version)
        application.refresh_from_db()


MSG_TERMS_CLOSED = _("The terms can no longer be changed at this stage.")
#: Terms staff may change while the application is prepared; the contract's details once
#: it is approved and at the contract stage (the approved rate and structure stay).
PREPARED_STAGES = frozenset({Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE})
CONTRACT_FIELDS = ("signed_on", "first_due_date", "upfront_fee", "guarantor", "collateral_value")


@transaction.atomic
def application_set_terms(*, application: Application, user=None, **terms) -> Application:
    """Change the proposed terms (before credit review) or record the contract's details
    (at the contract stage). Checked against the product's bounds; kept in the history."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.stage in PREPARED_STAGES:
        allowed = set(terms)
    elif application.stage == Stage.CONTRACT:
        allowed = set(CONTRACT_FIELDS)
    else:
        raise ValidationError(MSG_TERMS_CLOSED, code="terms_closed")
    changed = []
    for field, value in terms.items():
        if field in allowed and value is not None and getattr(application, field) != value:
            setattr(application, field, value)
            changed.append(field)
    if application.stage in PREPARED_STAGES:
        check_product_bounds(
            product=application.product,
            amount=application.amount,
            tenor_months=application.tenor_months,
            rate=application.rate,
            repayment_method=application.repayment_method,
            frequency=application.frequency,
        )
    if changed:
        application.full_clean()
        application.save(update_fields=changed)
    return application


def _notify_owner(application: Application, message: str) -> None:
    from fincrm.engagement.choices import NotificationKind
    from fincrm.engagement.models import Notification

    owner = application.customer.owner
    if owner is not None:
        Notification.objects.create(
            recipient=owner,
            customer=application.customer,
            kind=NotificationKind.TASK,
            message=message[:300],
            data={"application": application.pk},
        )


@transaction.atomic
def application_request(
    *, customer, product, amount: Decimal, tenor_months: int, purpose: str = ""
) -> Application:
    """A client applies in the portal: a lead for the account manager, who is notified."""
    application = application_create(
        customer=customer,
        product=product,
        amount=amount,
        tenor_months=tenor_months,
        purpose=purpose,
        channel=Channel.PORTAL,
    )
    _notify_owner(
        application,
        gettext("%(client)s applied in the portal: %(product)s, %(amount)s CNY, %(tenor)s months")
        % {
            "client": customer.name,
            "product": product.name,
            "amount": f"{amount:,.0f}",
            "tenor": tenor_months,
        },
    )
    return application


@transaction.atomic
def renewals_open(*, as_of: date) -> int:
    """A renewal (续贷) application, pre-filled from the facility, for each good client whose
    facility matures within the policy's window: no arrears, a grade at least the policy's.
    Once per facility; the owner is notified. Returns how many were opened."""
    from .approval import grade_rank

    policy, _version = policy_current()
    lending = policy.lending
    worst = grade_rank(policy, lending.renewal_worst_grade)
    maturing = (
        Facility.objects.filter(
            status=FacilityStatus.ACTIVE,
            days_past_due=0,
            maturity_date__range=(
                as_of,
                as_of + timedelta(days=lending.renewal_days_before_maturity),
            ),
        )
        .exclude(renewals__isnull=False)
        .select_related("customer__classification", "customer__owner", "product")
    )
    opened = 0
    for facility in maturing.iterator(chunk_size=2_000):
        customer = facility.customer
        grade = getattr(getattr(customer, "classification", None), "grade", None)
        if grade_rank(policy, grade) > worst:
            continue
        application = application_create(
            customer=customer,
            product=facility.product,
            amount=facility.approved_limit,
            tenor_months=facility.tenor_months,
            purpose=gettext("Renewal of %(contract)s") % {"contract": facility.contract_number},
            repayment_method=facility.repayment_method,
            frequency=facility.frequency,
            channel=Channel.RENEWAL,
            renewal_of=facility,
            check_bounds=False,
        )
        _notify_owner(
            application,
            gettext("Renewal application opened for %(contract)s, maturing on %(date)s")
            % {"contract": facility.contract_number, "date": facility.maturity_date.isoformat()},
        )
        opened += 1
    return opened


def _refuse(current: str, target: str):
    raise ValidationError(
        MSG_BAD_TRANSITION
        % {
            "current": Stage(current).label,
            "target": Stage(target).label if target in Stage.values else target,
        },
        code="bad_transition",
    )


def _after_disbursement(application: Application, now) -> None:
    """A follow-up visit (回访) a few days after the money arrives, the after-disbursement
    survey, and renewal points when the client had been financed before."""
    from fincrm.core.policy import policy_active, policy_config
    from fincrm.engagement.choices import TaskKind
    from fincrm.engagement.services import task_schedule
    from fincrm.loyalty.services import points_earn
    from fincrm.surveys.services import survey_trigger

    from .signals import facility_booked

    # The checklist of evidence that the money went where the application said (postloan
    # makes it, in this transaction).
    for booked in Facility.objects.filter(application=application).select_related("product"):
        facility_booked.send(sender=Facility, facility=booked)
    customer = application.customer
    days = policy_config(policy_active()).service.follow_up_after_disbursement_days
    task_schedule(
        customer=customer,
        kind=TaskKind.VISIT,
        source_key=f"disbursement:{application.pk}",
        title=gettext("Follow-up visit after disbursement: %(product)s")
        % {"product": application.product.name},
        due_on=timezone.localdate(now) + timedelta(days=days),
    )
    survey_trigger(
        event="disbursement",
        customer=customer,
        key=f"disbursement:{application.pk}",
        product=application.product,
    )
    financed_before = (
        Facility.objects.filter(customer=customer)
        .exclude(application=application)
        .filter(start_date__lt=timezone.localdate(now))
        .exists()
    )
    if financed_before:
        points_earn(customer=customer, reason="renewal", key=f"renewal:{application.pk}")


MSG_REJECT_REASON = _("Say why the document is rejected: the uploader sees the reason.")
MSG_NOT_RECEIVED = _("Only a received document can be accepted or rejected.")


@transaction.atomic
def document_upload(*, document: ApplicationDocument, upload, user=None) -> ApplicationDocument:
    """Attach a file to a checklist item: it becomes received, waiting for a reviewer (a
    rejected document uploaded again waits again)."""
    validate_document_file(upload)
    document = ApplicationDocument.objects.select_for_update().get(pk=document.pk)
    document.file.save(upload.name.rsplit("/", 1)[-1], upload, save=False)
    document.status = DocumentStatus.RECEIVED
    document.received_at = timezone.now()
    document.uploaded_by = user if getattr(user, "pk", None) else None
    document.decided_by, document.decided_at, document.rejection_reason = None, None, ""
    document.full_clean()
    document.save()
    return document


@transaction.atomic
def document_decide(
    *, document: ApplicationDocument, user, accept: bool, reason: str = ""
) -> ApplicationDocument:
    """A reviewer accepts a received document, or rejects it with a reason the uploader sees
    (the change is kept in the document's history)."""
    document = ApplicationDocument.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.RECEIVED:
        raise ValidationError(MSG_NOT_RECEIVED, code="not_received")
    if not accept and not reason.strip():
        raise ValidationError({"reason": [MSG_REJECT_REASON]})
    document.status = DocumentStatus.ACCEPTED if accept else DocumentStatus.REJECTED
    document.rejection_reason = "" if accept else reason.strip()[:300]
    document.decided_by, document.decided_at = user, timezone.now()
    document.full_clean()
    document.save()
    return document


@transaction.atomic
def document_set_status(*, document: ApplicationDocument, status: str) -> ApplicationDocument:
    """Set a checklist item's status directly (data loads and the admin)."""
    document.status = status
    if (
        status in (DocumentStatus.RECEIVED, DocumentStatus.ACCEPTED)
        and document.received_at is None
    ):
        document.received_at = timezone.now()
    document.full_clean()
    document.save()
    return document


def facility_refresh_delinquency(*, facility: Facility, as_of: date | None = None) -> Facility:
    """Recompute days past due and the five-tier class from the schedule and store them.

    The class follows the active policy's rules (arrears, the client's grade and open alerts:
    ``fincrm.analytics.delinquency.loan_classes``) and never drops below a risk officer's
    override; the change is written to the facility's history.
    """
    from .hooks import facility_class_inputs

    dpd = facility.compute_days_past_due(as_of)
    facility.days_past_due = dpd
    rules, frame = facility_class_inputs(facilities=[facility])
    classes = loan_classes(frame, **rules).row(0, named=True)
    facility.loan_class_auto, facility.loan_class = classes["auto_class"], classes["loan_class"]
    facility.save(update_fields=["days_past_due", "loan_class", "loan_class_auto", "updated_at"])
    return facility


@transaction.atomic
def delinquency_refresh(*, as_of: date, customer_ids: Sequence[int] | None = None) -> int:
    """Days past due of every active facility (of ``customer_ids``; None: all) as of
    ``as_of``, recomputed from the schedule: the oldest instalment due before that day and
    not yet paid off (as ``Facility.compute_days_past_due``).

    Arrears grow by a day every day nobody pays; payments and reported misses refresh a
    facility at once, and the nightly run calls this first so the grades, alerts and loan
    classes it derives see today's arrears, not the ones of the last payment. Only changed
    facilities are written, in one statement per batch, without a history row: the column is
    derived from the payments (audited) and the schedule; the loan class it moves is written
    with history by the run. Returns how many facilities changed.
    """
    live = Facility.objects.order_by().filter(status=FacilityStatus.ACTIVE)
    overdue = Installment.objects.order_by().filter(
        facility__status=FacilityStatus.ACTIVE, paid_off_on__isnull=True, due_date__lt=as_of
    )
    if customer_ids is not None:
        live = live.filter(customer_id__in=customer_ids)
        overdue = overdue.filter(facility__customer_id__in=customer_ids)
    # One aggregate read whole (no server-side cursor: PostgreSQL plans a cursor for its
    # first rows, and a nested loop over the facilities took minutes at a million clients).
    oldest = overdue.values("facility_id").annotate(oldest=Min("due_date"))
    fresh = {pk: (as_of - day).days for pk, day in oldest.values_list("facility_id", "oldest")}
    stored = dict(live.filter(days_past_due__gt=0).values_list("pk", "days_past_due"))
    changed = [(pk, dpd) for pk, dpd in fresh.items() if stored.get(pk, 0) != dpd]
    changed += [(pk, 0) for pk in stored.keys() - fresh.keys()]
    return update_rows(Facility, ["days_past_due"], changed)


MSG_NOT_DUE_YET = _("This instalment is not due yet: it cannot have been missed.")
MSG_ALREADY_PAID = _("This instalment is already paid.")
MSG_ALREADY_REPORTED = _("This instalment has already been reported missed.")


def evaluate_now(customer_id: int) -> None:
    """Re-evaluate one client as soon as the current transaction commits, in this process:
    an alert for a missed payment must not wait for the task worker or the nightly run.
    (``signals.evaluation_wanted``: the evaluation, above financing, listens.)"""
    from .signals import evaluation_wanted

    evaluation_wanted.send(sender=Facility, customer_id=customer_id)


@transaction.atomic
def installment_report_missed(*, installment: Installment, user, as_of: date | None = None):
    """Loan servicing reports an instalment unpaid after its due date: the facility's arrears
    and class are refreshed and the client is re-evaluated at once (its early-warning alert
    reaches the owner's inbox when this returns)."""
    as_of = as_of or timezone.localdate()
    installment = Installment.objects.select_for_update().get(pk=installment.pk)
    if installment.due_date >= as_of:
        raise ValidationError(MSG_NOT_DUE_YET, code="not_due")
    if installment.paid_off_on is not None:
        raise ValidationError(MSG_ALREADY_PAID, code="paid")
    if installment.missed_reported_at is not None:
        raise ValidationError(MSG_ALREADY_REPORTED, code="reported")
    installment.missed_reported_at = timezone.now()
    installment.missed_reported_by = user
    installment.save(update_fields=["missed_reported_at", "missed_reported_by"])
    facility = facility_refresh_delinquency(facility=installment.facility, as_of=as_of)
    webhooks.emit(
        webhooks.Event.PAYMENT_MISSED,
        [
            {
                "installment": installment.pk,
                "facility": facility.pk,
                "contract_number": facility.contract_number,
                "customer": facility.customer_id,
                "due_date": installment.due_date,
                "amount_due": installment.amount_due,
                "days_past_due": facility.days_past_due,
            }
        ],
    )
    evaluate_now(facility.customer_id)
    return installment


# Servicing lives in its own module; pages, the API and the demo call it from here.
from .servicing import payment_record  # noqa: E402

__all__ = ["payment_record"]
