"""Human decisions on credit risk: proposals, alerts, reviews. Each one is audited."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.events import customer_changed

from .choices import (
    CLOSED_ALERT_STATUSES,
    AlertStatus,
    EffectStatus,
    ProposalStatus,
    ReviewDecision,
    ReviewStatus,
    SwitchStatus,
)
from .models import Alert, ControlProposal, ModelSwitch, Review, ScorecardModel
from .signals import review_completed

MSG_ALREADY_DECIDED = _("This proposal has already been decided.")
MSG_REVIEW_DONE = _("This review has already been completed.")
MSG_DECISION_REQUIRED = _("Choose a decision for the review.")
MSG_ALERT_CLOSED = _("This alert is already closed.")
MSG_RESOLUTION_REQUIRED = _("Say how the alert was resolved.")
MSG_TOO_LITTLE_HISTORY = _(
    "Not enough history to train a scorecard (%(detail)s); the expert scorecard stays in use."
)


@transaction.atomic
def proposal_decide(*, proposal: ControlProposal, user, approve: bool, note: str = ""):
    proposal = ControlProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(MSG_ALREADY_DECIDED, code="decided")
    proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.note = note
    proposal.full_clean()
    proposal.save()
    if approve:
        _apply_controls(proposal, user)
    return proposal


def _apply_controls(proposal: ControlProposal, user) -> None:
    """Approved controls become the terms of the client's live facilities.

    Each facility records the controls in force; its limit is capped at the grade's multiple
    of annual revenue, never below what is already drawn (a multiple of 0 freezes further
    drawing); a scheduled review moves earlier if the new frequency asks for it. Every
    facility change is written to its history with the proposal as the reason.
    """
    from decimal import Decimal

    from fincrm.financing.choices import FacilityStatus
    from fincrm.financing.models import Facility

    from .choices import FREQUENCY_DAYS

    controls = proposal.controls
    now = timezone.now()
    revenue = proposal.customer.annual_revenue
    facilities = Facility.objects.select_for_update().filter(
        customer_id=proposal.customer_id, status=FacilityStatus.ACTIVE
    )
    for facility in facilities:
        facility.risk_controls = {
            **controls,
            "grade": proposal.to_grade,
            "proposal": proposal.pk,
            "approved_at": now.isoformat(),
        }
        if revenue:
            cap = Decimal(str(controls["limit_revenue_multiple"])) * revenue
            facility.approved_limit = max(
                facility.drawn_amount, min(facility.approved_limit, cap.quantize(Decimal("0.01")))
            )
        facility._history_user = user
        facility._change_reason = f"control proposal #{proposal.pk} approved"
        facility.save(update_fields=["risk_controls", "approved_limit", "updated_at"])
    frequency = controls.get("review_frequency")
    if frequency:
        due = timezone.localdate() + timedelta(days=FREQUENCY_DAYS[frequency])
        for review in Review.objects.filter(
            customer_id=proposal.customer_id, status=ReviewStatus.SCHEDULED, due_on__gt=due
        ):
            review.due_on, review.frequency = due, frequency
            review._history_user = user
            review.save(update_fields=["due_on", "frequency"])


MSG_PLAN_REQUIRED = _("Write the action plan before starting work on the alert.")
MSG_REASON_REQUIRED = _("Say why the alert is dismissed.")
MSG_TASK_TITLE_REQUIRED = _("Give the task a title.")


def _open_alert(alert: Alert, user) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status in CLOSED_ALERT_STATUSES:
        raise ValidationError(MSG_ALERT_CLOSED, code="closed")
    alert._history_user = user  # type: ignore[attr-defined]  # simple_history, no stubs
    return alert


def _acknowledge(alert: Alert, user) -> None:
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user, timezone.now()


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """New → acknowledged: someone has seen it."""
    alert = _open_alert(alert, user)
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        _acknowledge(alert, user)
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return alert


@transaction.atomic
def alert_start(*, alert: Alert, user, action_plan: str) -> Alert:
    """→ in progress, with the action plan (what will be done, by whom, by when)."""
    alert = _open_alert(alert, user)
    if not action_plan.strip():
        raise ValidationError({"action_plan": MSG_PLAN_REQUIRED})
    _acknowledge(alert, user)
    alert.status = AlertStatus.IN_PROGRESS
    alert.action_plan = action_plan.strip()
    alert.save()
    return alert


@transaction.atomic
def alert_add_task(*, alert: Alert, user, title: str, due_on, owner=None):
    """A task of the alert's action plan, for ``owner`` (default: whoever adds it)."""
    from fincrm.engagement.choices import Priority, TaskKind
    from fincrm.engagement.models import Task

    alert = _open_alert(alert, user)
    if not title.strip():
        raise ValidationError({"title": MSG_TASK_TITLE_REQUIRED})
    number = Task.objects.filter(source_key__startswith=f"alert:{alert.pk}:").count() + 1
    task = Task(
        customer_id=alert.customer_id,
        owner=owner or user,
        kind=TaskKind.FOLLOW_UP,
        title=title.strip()[:200],
        due_on=due_on,
        priority=Priority.HIGH if alert.severity in ("high", "critical") else Priority.NORMAL,
        source_key=f"alert:{alert.pk}:{number}",
    )
    task.full_clean()
    task.save()
    if alert.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED):
        _acknowledge(alert, user)
        alert.status = AlertStatus.IN_PROGRESS
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return task


@transaction.atomic
def alert_close(*, alert: Alert, user, resolution: str, dismiss: bool = False) -> Alert:
    """Resolved (what was done) or dismissed (why it needs no action); the text is required."""
    alert = _open_alert(alert, user)
    if not resolution.strip():
        message = MSG_REASON_REQUIRED if dismiss else MSG_RESOLUTION_REQUIRED
        raise ValidationError({"resolution": message})
    _acknowledge(alert, user)
    alert.status = AlertStatus.DISMISSED if dismiss else AlertStatus.RESOLVED
    alert.closed_at = timezone.now()
    alert.closed_by = user
    alert.resolution = resolution.strip()
    alert.save()
    return alert


@transaction.atomic
def alert_acknowledge_many(*, alerts, user) -> int:
    """Acknowledge the new ones of ``alerts``, all or none; returns how many changed."""
    done = 0
    for alert in alerts:
        if alert.status == AlertStatus.OPEN:
            alert_acknowledge(alert=alert, user=user)
            done += 1
    return done


@transaction.atomic
def alert_close_many(*, alerts, user, resolution: str, dismiss: bool = False) -> int:
    """Resolve (or dismiss) every one of ``alerts`` with the same text, all or none;
    returns how many changed."""
    for alert in alerts:
        alert_close(alert=alert, user=user, resolution=resolution, dismiss=dismiss)
    return len(alerts)


@transaction.atomic
def alert_assign_many(*, alerts, user, assignee) -> int:
    """Hand the open ones of ``alerts`` to ``assignee``, all or none, each change in the
    alert's history under ``user``; returns how many changed (one already theirs is not)."""
    done = 0
    for alert in alerts:
        if alert.status in CLOSED_ALERT_STATUSES or alert.assigned_to_id == assignee.pk:
            continue
        alert = _open_alert(alert, user)
        alert.assigned_to = assignee
        alert.save(update_fields=["assigned_to"])
        done += 1
    return done


#: An alert may be put out of the working list for at most this many days.
MAX_ALERT_SNOOZE_DAYS = 30
MSG_ALERT_SNOOZE_DAYS = _("Snooze alerts by 1 to %(max)s days.")


@transaction.atomic
def alert_snooze_many(*, alerts, user, days: int, today=None) -> int:
    """Put the open ones of ``alerts`` out of the working list until ``days`` from today
    (1 to ``MAX_ALERT_SNOOZE_DAYS``), all or none, each change in the alert's history under
    ``user``; they stay open and come back on their own. Returns how many changed."""
    if not 1 <= days <= MAX_ALERT_SNOOZE_DAYS:
        raise ValidationError(
            MSG_ALERT_SNOOZE_DAYS % {"max": MAX_ALERT_SNOOZE_DAYS}, code="snooze_days"
        )
    until = (today or timezone.localdate()) + timedelta(days=days)
    done = 0
    for alert in alerts:
        if alert.status in CLOSED_ALERT_STATUSES:
            continue
        alert = _open_alert(alert, user)
        alert.snoozed_until = until
        alert.save(update_fields=["snoozed_until"])
        done += 1
    return done


@transaction.atomic
def review_assign_many(*, reviews, user, officer) -> int:
    """Give the scheduled ones of ``reviews`` to ``officer``, all or none, each change in the
    review's history under ``user``; returns how many changed."""
    done = 0
    for review in reviews:
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.SCHEDULED or review.officer_id == officer.pk:
            continue
        review._history_user = user
        review.officer = officer
        review.save(update_fields=["officer"])
        done += 1
    return done


MSG_EFFECT_FACILITY = _("Choose the facility the decision applies to.")
MSG_EFFECT_LIMIT = _("Give the new limit: at least what is drawn (%(drawn)s CNY).")
MSG_EFFECT_GUARANTEE = _("Choose the guarantee now required.")
MSG_EFFECT_NOT_PENDING = _("This review's decision is not waiting for approval.")
MSG_EFFECT_MAKER = _(
    "Maker–checker: the officer who decided the review may not approve its effect."
)
#: Decisions that change a facility: they take effect once a second person approves.
EFFECTIVE = frozenset(
    {
        ReviewDecision.TIGHTEN,
        ReviewDecision.LOOSEN,
        ReviewDecision.ADD_GUARANTEE,
        ReviewDecision.FREEZE,
        ReviewDecision.CALL_IN,
    }
)


def _check_effect(review: Review) -> None:
    """What each effective decision needs, named by field."""
    decision, facility = review.decision, review.facility
    if decision not in EFFECTIVE or facility is None:
        return  # a decision recorded without a facility to change (none chosen or none held)
    if facility.customer_id != review.customer_id:
        raise ValidationError({"facility": [MSG_EFFECT_FACILITY]})
    if decision in (ReviewDecision.TIGHTEN, ReviewDecision.LOOSEN) and (
        review.new_limit is None or review.new_limit < facility.drawn_amount
    ):
        raise ValidationError(
            {"new_limit": [MSG_EFFECT_LIMIT % {"drawn": f"{facility.drawn_amount:,.2f}"}]}
        )
    if decision == ReviewDecision.ADD_GUARANTEE and not review.new_guarantee:
        raise ValidationError({"new_guarantee": [MSG_EFFECT_GUARANTEE]})


@transaction.atomic
def review_complete(
    *,
    review: Review,
    user,
    decision: str,
    notes: str = "",
    facility=None,
    new_limit=None,
    new_rate=None,
    new_guarantee: str = "",
) -> Review:
    """Record the officer's decision with a fresh score: the client is re-evaluated first
    (with the statements collected for the review), and that assessment is kept on the
    review; the evaluation also schedules the next review. A decision that changes a
    facility (limit, pricing, guarantee, freeze, call-in) waits for a second person's
    approval (``review_effect_decide``)."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.SCHEDULED:
        raise ValidationError(MSG_REVIEW_DONE, code="done")
    if not decision:
        raise ValidationError({"decision": MSG_DECISION_REQUIRED})
    review.status = ReviewStatus.DONE
    review.decision = decision
    review.notes = notes
    review.officer = user
    review.completed_at = timezone.now()
    review.facility = facility
    review.new_limit, review.new_rate, review.new_guarantee = new_limit, new_rate, new_guarantee
    _check_effect(review)
    if decision in EFFECTIVE and facility is not None:
        review.effect_status = EffectStatus.PENDING
    review.full_clean()
    review.save()
    # The evaluation (above risk) re-evaluates the client now, in this transaction.
    review_completed.send(sender=Review, review=review)
    review.assessment = review.customer.credit_assessments.first()
    review.save(update_fields=["assessment"])
    return review


@transaction.atomic
def review_effect_decide(*, review: Review, user, approve: bool, on=None) -> Review:
    """A second person (not the review's officer) approves a review decision's effect, which
    then changes the facility — limit, rate (the untouched instalments rebuilt), guarantee,
    freeze, call-in — with its history kept; or declines it, which changes nothing."""
    from fincrm.financing import servicing
    from fincrm.financing.models import Facility

    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.effect_status != EffectStatus.PENDING:
        raise ValidationError(MSG_EFFECT_NOT_PENDING, code="not_pending")
    if review.officer_id == user.pk:
        raise PermissionDenied(str(MSG_EFFECT_MAKER))
    review.effect_decided_by, review.effect_decided_at = user, timezone.now()
    review.effect_status = EffectStatus.APPLIED if approve else EffectStatus.REJECTED
    review.save(update_fields=["effect_status", "effect_decided_by", "effect_decided_at"])
    if not approve:
        return review
    on = on or timezone.localdate()
    facility = Facility.objects.select_for_update().get(pk=review.facility_id)
    decision = review.decision
    if decision in (ReviewDecision.TIGHTEN, ReviewDecision.LOOSEN):
        facility.approved_limit = review.new_limit
    elif decision == ReviewDecision.ADD_GUARANTEE:
        facility.guarantee_type = review.new_guarantee
    elif decision == ReviewDecision.FREEZE:
        facility.frozen = True
    facility.full_clean()
    facility.save()
    reason = f"review {review.pk}: {decision}"
    if review.new_rate is not None and review.new_rate != facility.rate:
        servicing.schedule_rebuild(
            facility=facility, on=on, rate=review.new_rate, user=user, reason=reason
        )
    if decision == ReviewDecision.CALL_IN:
        servicing.facility_call_in(facility=facility, on=on, user=user)
    customer_changed(review.customer_id)
    return review


def scorecard_retrain(*, user):
    """Train a scorecard on the book's outcomes now (the training and its author are stored on
    the model row): the model in use while there is none, else a challenger that a switch
    approved by a second risk officer puts in use (:func:`model_switch_decide`); too little
    history changes nothing."""
    from fincrm.analytics.scorecard import InsufficientData
    from fincrm.core.policy import policy_active, policy_config

    from .hooks import scorecard_train

    policy = policy_config(policy_active())
    try:
        with transaction.atomic():
            champion = ScorecardModel.objects.select_for_update().filter(is_active=True)
            return scorecard_train(
                policy=policy,
                as_of=timezone.localdate(),
                user=user,
                activate=not champion.exists(),
            )
    except InsufficientData as exc:
        raise ValidationError(
            MSG_TOO_LITTLE_HISTORY, code="insufficient", params={"detail": str(exc)}
        ) from exc


MSG_CLASS_REASON_REQUIRED = _("Say why the facility is classified this way.")
MSG_CLASS_TOO_LENIENT = _(
    "A facility cannot be classified better than the rules say (%(auto)s); choose that or a "
    "stricter class."
)


@transaction.atomic
def facility_reclassify(*, facility, user, loan_class: str, reason: str):
    """A risk officer's five-tier class for a facility, stricter than (or equal to) the rules;
    an empty ``loan_class`` returns it to the rules. Written to the facility's history."""
    from fincrm.analytics.delinquency import LOAN_CLASSES
    from fincrm.financing.choices import LoanClass
    from fincrm.financing.models import Facility

    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    reason = (reason or "").strip()
    if loan_class and loan_class not in LOAN_CLASSES:
        raise ValidationError(_("Unknown loan class."), code="unknown")
    if loan_class and not reason:
        raise ValidationError(MSG_CLASS_REASON_REQUIRED, code="reason")
    auto = facility.loan_class_auto
    if loan_class and LOAN_CLASSES.index(loan_class) < LOAN_CLASSES.index(auto):
        raise ValidationError(
            MSG_CLASS_TOO_LENIENT, code="lenient", params={"auto": LoanClass(auto).label}
        )
    facility.loan_class_override = loan_class
    facility.loan_class_reason = reason if loan_class else ""
    facility.loan_class_set_by = user if loan_class else None
    facility.loan_class = loan_class or auto
    facility._history_user = user
    facility._change_reason = reason or "returned to the rules"
    facility.save(
        update_fields=[
            "loan_class",
            "loan_class_override",
            "loan_class_reason",
            "loan_class_set_by",
            "updated_at",
        ]
    )
    customer_changed(facility.customer_id)
    return facility


MSG_SWITCH_NOT_CHALLENGER = _("Only a trained scorecard that is not in use can replace it.")
MSG_SWITCH_REASON = _("Say why the challenger should replace the scorecard in use.")
MSG_SWITCH_PENDING = _("A switch to this scorecard is already awaiting approval.")
MSG_SWITCH_DECIDED = _("This switch has already been decided.")
MSG_SWITCH_SAME_PERSON = _(
    "A switch is approved by a second risk officer, not by the one who asked for it."
)
MSG_SWITCH_REFUSAL_NOTE = _("Say why the switch is refused.")
MSG_SWITCH_CHAMPION_CHANGED = _(
    "The scorecard in use has changed since the switch was asked for: ask again."
)
MSG_SWITCH_NOT_RISK = _("Only a risk officer may switch the scorecard in use.")


def scorecard_put_in_use(*, model: ScorecardModel, user, reason: str) -> ScorecardModel:
    """Make ``model`` the scorecard in use and take the previous one out, each change written
    to the models' history with ``user`` and ``reason``. Call inside a transaction."""
    now = timezone.now()
    for old in ScorecardModel.objects.select_for_update().filter(is_active=True):
        if old.pk == model.pk:
            continue
        old.is_active = False
        old._history_user = user
        old._change_reason = f"replaced by {model.pk}: {reason}"[:100]
        old.save(update_fields=["is_active"])
    model.is_active = True
    model.activated_at = now
    model._history_user = user  # type: ignore[attr-defined]  # simple_history, no stubs
    model._change_reason = reason[:100]  # type: ignore[attr-defined]  # simple_history, no stubs
    model.save(update_fields=["is_active", "activated_at"])
    return model


def _check_switcher(user) -> None:
    from .rules import may_switch_model

    if not may_switch_model(user):
        raise PermissionDenied(MSG_SWITCH_NOT_RISK)


@transaction.atomic
def model_switch_request(*, challenger: ScorecardModel, user, reason: str) -> ModelSwitch:
    """A risk officer asks for ``challenger`` to replace the scorecard in use, with a reason;
    it changes nothing until a second risk officer approves (:func:`model_switch_decide`)."""
    _check_switcher(user)
    reason = (reason or "").strip()
    challenger = ScorecardModel.objects.select_for_update().get(pk=challenger.pk)
    if challenger.is_active:
        raise ValidationError(MSG_SWITCH_NOT_CHALLENGER, code="not_challenger")
    if not reason:
        raise ValidationError(MSG_SWITCH_REASON, code="reason")
    if ModelSwitch.objects.filter(challenger=challenger, status=SwitchStatus.PENDING).exists():
        raise ValidationError(MSG_SWITCH_PENDING, code="pending")
    switch = ModelSwitch(
        challenger=challenger,
        champion=ScorecardModel.objects.filter(is_active=True).first(),
        reason=reason[:500],
        requested_by=user,
    )
    switch.full_clean()
    switch._history_user = user  # type: ignore[attr-defined]  # simple_history, no stubs
    switch.save()
    return switch


@transaction.atomic
def model_switch_decide(*, switch: ModelSwitch, user, approve: bool, note: str = "") -> ModelSwitch:
    """A second risk officer approves (the challenger is put in use, the champion retired)
    or refuses (with a reason; no model changes) a pending switch. Both are audited: the
    switch's history and, on approval, the models' own."""
    _check_switcher(user)
    switch = ModelSwitch.objects.select_for_update().get(pk=switch.pk)
    note = (note or "").strip()
    if switch.status != SwitchStatus.PENDING:
        raise ValidationError(MSG_SWITCH_DECIDED, code="decided")
    if switch.requested_by_id == user.pk:
        raise ValidationError(MSG_SWITCH_SAME_PERSON, code="same_person")
    if not approve and not note:
        raise ValidationError(MSG_SWITCH_REFUSAL_NOTE, code="note")
    if approve:
        champion = ScorecardModel.objects.select_for_update().filter(is_active=True).first()
        if (champion.pk if champion else None) != switch.champion_id:
            raise ValidationError(MSG_SWITCH_CHAMPION_CHANGED, code="champion_changed")
        scorecard_put_in_use(
            model=switch.challenger, user=user, reason=f"switch {switch.pk} approved"
        )
    switch.status = SwitchStatus.APPROVED if approve else SwitchStatus.REFUSED
    switch.decided_by = user
    switch.decided_at = timezone.now()
    switch.note = note[:500]
    switch._history_user = user  # type: ignore[attr-defined]  # simple_history, no stubs
    switch.save(update_fields=["status", "decided_by", "decided_at", "note"])
    return switch
