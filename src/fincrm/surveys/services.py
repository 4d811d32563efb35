"""Writes of the surveys app: build a survey, invite clients, take an answer.

A token link works once, only for the client it was sent to, and only until it expires; the
token itself is never stored (only its SHA-256), so it is shown or sent once, when created.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.text import keywords, sentiment
from fincrm.core.policy import policy_active, policy_config
from fincrm.engagement.choices import NotificationKind, Priority, TaskKind
from fincrm.engagement.models import Notification
from fincrm.engagement.services import task_schedule

from .choices import SCORED_KINDS, DeliveryChannel, QuestionKind, Trigger
from .models import Answer, Invitation, Question, Response, Survey, token_digest

MSG_ALREADY_ANSWERED = _("This survey has already been answered. Thank you!")
MSG_EXPIRED = _("This survey link has expired.")
MSG_REQUIRED = _("Please answer this question.")
MSG_OUT_OF_RANGE = _("Choose a score from %(low)s to %(high)s.")
MSG_NOT_AN_OPTION = _("Choose one of the listed options.")
MSG_NO_QUESTIONS = _("A survey needs at least one question.")
MSG_NO_OPTIONS = _("A choice question needs at least two options.")
MSG_TWO_OVERALL = _("Only one question can be the overall-satisfaction question.")
MAX_TEXT = 2_000
SCALES: dict[str, tuple[int, int]] = {QuestionKind.RATING: (1, 5), QuestionKind.NPS: (0, 10)}


@transaction.atomic
def survey_create(
    *,
    name: str,
    questions: list[dict],
    user=None,
    intro: str = "",
    trigger: str = Trigger.MANUAL,
    channel: str = DeliveryChannel.PORTAL,
    valid_days: int = 30,
) -> Survey:
    """A questionnaire with its questions (``kind``, ``text``, ``choices``, ``required``,
    ``is_overall``), validated together: nothing is saved if one question is wrong."""
    if not questions:
        raise ValidationError(MSG_NO_QUESTIONS, code="no_questions")
    if sum(bool(q.get("is_overall")) for q in questions) > 1:
        raise ValidationError(MSG_TWO_OVERALL, code="two_overall")
    survey = Survey(
        name=name,
        intro=intro,
        trigger=trigger,
        channel=channel,
        valid_days=valid_days,
        created_by=user,
    )
    survey.full_clean()
    survey.save()
    for position, spec in enumerate(questions, start=1):
        options = [str(o).strip() for o in spec.get("choices") or [] if str(o).strip()]
        kind = spec.get("kind") or ""
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and len(options) < 2:
            raise ValidationError({f"question {position}": MSG_NO_OPTIONS}, code="no_options")
        question = Question(
            survey=survey,
            position=position,
            kind=kind,
            text=spec.get("text", ""),
            choices=options,
            required=spec.get("required", True),
            is_overall=bool(spec.get("is_overall")) and kind in SCORED_KINDS,
        )
        try:
            question.full_clean(exclude=["survey"])
        except ValidationError as exc:
            raise ValidationError({f"question {position}": exc.messages}) from exc
        question.save()
    return survey


def answer_url(token: str) -> str:
    return settings.FINCRM_BASE_URL.rstrip("/") + reverse("survey_answer", args=[token])


def survey_invite(
    *, survey: Survey, customer, cause: str, product=None, now=None
) -> tuple[Invitation, str | None]:
    """Invite a client once per cause. Returns the invitation and the new token (None when
    the client was already invited for that cause). E-mail invitations are sent at once, SMS
    and WeChat invitations are queued as messages carrying the one-time link."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        survey=survey,
        customer=customer,
        token_hash=token_digest(token),
        channel=survey.channel,
        cause=cause[:60],
        manager_id=customer.owner_id,
        product=product,
        sent_at=now,
        expires_at=now + timedelta(days=survey.valid_days),
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        existing = Invitation.objects.get(survey=survey, customer=customer, cause=cause[:60])
        return existing, None
    if survey.channel == DeliveryChannel.EMAIL and customer.email:
        link = answer_url(token)
        transaction.on_commit(
            lambda: send_mail(
                survey.name,
                f"{survey.intro}\n\n{link}".strip(),
                None,
                [customer.email],
                fail_silently=True,
            )
        )
    elif survey.channel in (DeliveryChannel.SMS, DeliveryChannel.WECHAT):
        from fincrm.messaging.choices import MessageKind
        from fincrm.messaging.services import message_send

        message_send(
            customer=customer,
            channel=survey.channel,
            text=f"{survey.name}：{answer_url(token)}",
            subject=survey.name,
            kind=MessageKind.SURVEY,
            source_key=f"survey:{invitation.pk}",
        )
    return invitation, token


def survey_trigger(*, event: str, customer, key: str, product=None) -> list[Invitation]:
    """Invite the client to every active survey sent after ``event`` (once per ``key``)."""
    invitations = []
    for survey in Survey.objects.filter(is_active=True, trigger=event):
        invitation, _token = survey_invite(
            survey=survey, customer=customer, cause=key, product=product
        )
        invitations.append(invitation)
    return invitations


def invitation_for_token(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("survey", "customer")
        .filter(token_hash=token_digest(token))
        .first()
    )


def _clean_answer(question: Question, raw) -> dict | None:
    """The stored form of one answer, or a ValidationError naming the question."""
    values = raw if isinstance(raw, list) else [raw]
    values = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not values:
        if question.required:
            raise ValidationError(MSG_REQUIRED, code="required")
        return None
    if question.kind in SCALES:
        low, high = SCALES[question.kind]
        try:
            number = int(values[0])
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValidationError(
                MSG_OUT_OF_RANGE, code="out_of_range", params={"low": low, "high": high}
            )
        return {"number": number}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if any(v not in question.choices for v in values) or (
            question.kind == QuestionKind.SINGLE and len(values) > 1
        ):
            raise ValidationError(MSG_NOT_AN_OPTION, code="not_an_option")
        return {"choices": values}
    return {"text": values[0][:MAX_TEXT]}


@transaction.atomic
def survey_answer(*, invitation: Invitation, data: dict, now=None) -> Response:
    """Record a client's answers. ``data`` maps ``q<question id>`` to a value (a list for
    multiple choice). Every question is checked before anything is saved; errors are keyed
    by the same names."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.answered_at is not None:
        raise ValidationError(MSG_ALREADY_ANSWERED, code="answered")
    if invitation.expires_at <= now:
        raise ValidationError(MSG_EXPIRED, code="expired")
    questions = list(invitation.survey.questions.all())
    cleaned, errors = {}, {}
    for question in questions:
        try:
            cleaned[question.pk] = _clean_answer(question, data.get(f"q{question.pk}"))
        except ValidationError as exc:
            errors[f"q{question.pk}"] = exc.messages
    if errors:
        raise ValidationError(errors)
    texts = [v["text"] for v in cleaned.values() if v and "text" in v]
    by_kind = {q.pk: q for q in questions}
    nps = next(
        (v["number"] for pk, v in cleaned.items() if v and by_kind[pk].kind == QuestionKind.NPS),
        None,
    )
    overall = next((v["number"] for pk, v in cleaned.items() if v and by_kind[pk].is_overall), None)
    joined = "\n".join(texts)
    response = Response.objects.create(
        invitation=invitation,
        customer=invitation.customer,
        submitted_at=now,
        nps_score=nps,
        rating=overall,
        sentiment=sentiment(joined).label if joined else "",
        keywords=keywords(joined) if joined else [],
    )
    Answer.objects.bulk_create(
        Answer(response=response, question_id=pk, **value)
        for pk, value in cleaned.items()
        if value is not None
    )
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])
    _after_answer(invitation, response)
    return response


def _after_answer(invitation: Invitation, response: Response) -> None:
    from fincrm.loyalty.services import points_earn

    rules = policy_config(policy_active()).surveys
    customer = invitation.customer
    low = (response.nps_score is not None and response.nps_score <= rules.low_nps) or (
        response.rating is not None and response.rating <= rules.low_rating
    )
    if low:
        title = gettext_now("Low satisfaction in “%(survey)s”: call the client back") % {
            "survey": invitation.survey.name
        }
        task_schedule(
            customer=customer,
            kind=TaskKind.FOLLOW_UP,
            source_key=f"survey:{invitation.pk}",
            title=title,
            due_on=timezone.localdate() + timedelta(days=2),
            priority=Priority.HIGH,
            detail=", ".join(response.keywords),
        )
        if customer.owner is not None:  # a client without a manager: the task is enough
            Notification.objects.create(
                recipient=customer.owner,
                customer=customer,
                kind=NotificationKind.LOW_SATISFACTION,
                message=title[:300],
                data={"response": response.pk},
            )
    points_earn(customer=customer, reason="survey_answered", key=f"survey:{invitation.pk}")
