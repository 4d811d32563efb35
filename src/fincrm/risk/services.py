"""Human decisions on credit risk: proposals, alerts, reviews. Each one is audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.evaluation.tasks import customer_changed

from .choices import AlertStatus, ProposalStatus, ReviewStatus
from .models import Alert, ControlProposal, Review

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
    return proposal


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == AlertStatus.CLOSED:
        raise ValidationError(MSG_ALERT_CLOSED, code="closed")
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, user, resolution: str) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == AlertStatus.CLOSED:
        raise ValidationError(MSG_ALERT_CLOSED, code="closed")
    if not resolution.strip():
        raise ValidationError({"resolution": MSG_RESOLUTION_REQUIRED})
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user, timezone.now()
    alert.status = AlertStatus.CLOSED
    alert.closed_at = timezone.now()
    alert.resolution = resolution.strip()
    alert.save()
    return alert


@transaction.atomic
def review_complete(*, review: Review, user, decision: str, notes: str = "") -> Review:
    """Record the officer's decision; the client is re-scored and the next review scheduled
    by the evaluation that follows."""
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
    review.assessment = review.customer.credit_assessments.first()
    review.full_clean()
    review.save()
    customer_changed(review.customer_id)
    return review


def scorecard_retrain(*, user):
    """Train a scorecard on the book's outcomes now and make it the active one (the training
    and its author are stored on the model row); too little history changes nothing."""
    from fincrm.analytics.scorecard import InsufficientData
    from fincrm.evaluation.risk import scorecard_train
    from fincrm.evaluation.services import policy_active, policy_config

    policy = policy_config(policy_active())
    try:
        with transaction.atomic():
            return scorecard_train(policy=policy, as_of=timezone.localdate(), user=user)
    except InsufficientData as exc:
        raise ValidationError(
            MSG_TOO_LITTLE_HISTORY, code="insufficient", params={"detail": str(exc)}
        ) from exc
