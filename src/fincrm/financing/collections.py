"""Collections: the dunning ladder, the collector queue, promises to pay, write-offs.

Every night ``collections_run`` walks the facilities in arrears: each reaches the highest rung
of the policy's ladder (day 1 SMS, day 3 call, day 15 visit, day 30 letter, day 60 guarantor
notice, day 90 legal) its days past due allow, and the rung becomes an action in a queue — the
account manager's below ``collector_after_days``, the least-loaded collector's from there. A
promise to pay not kept by its date (plus the grace days) is found the next morning and
escalated to the team lead. Arrears cleared by a payment cancel the open actions.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.webhooks import events as webhooks

from .choices import (
    CollectionOutcome,
    CollectionStatus,
    CollectionStep,
    FacilityStatus,
    PaymentKind,
    PromiseStatus,
)
from .models import CollectionAction, Facility, Installment, Payment
from .services import policy_current

MSG_PROMISE_NEEDS = _("A promise to pay needs a date (today or later) and a positive amount.")
MSG_ACTION_CLOSED = _("This collection action is already closed.")
MSG_WRITE_OFF_REASON = _("Say why the facility is written off.")
MSG_WRITE_OFF_ACTIVE = _("Only an active facility can be written off.")


def _collectors(team_name: str) -> list:
    User = get_user_model()
    members = list(User.objects.filter(is_active=True, team__name=team_name).order_by("pk"))
    return members or list(
        User.objects.filter(is_active=True, role=Role.RISK_OFFICER).order_by("pk")
    )


def _team_lead(team_id):
    from fincrm.accounts.selectors import team_lead_for

    return team_lead_for(team_id) if team_id else None


@transaction.atomic
def collections_run(*, as_of: date) -> dict[str, int]:
    """Create the day's collection actions and settle promises. Returns counts by kind."""
    lending = policy_current()[0].lending
    ladder = sorted(lending.dunning, key=lambda s: s.days_past_due)
    arrears = (
        Installment.objects.filter(
            facility__status=FacilityStatus.ACTIVE, paid_off_on__isnull=True, due_date__lt=as_of
        )
        .values("facility_id")
        .annotate(
            since=Min("due_date"),
            overdue=Sum("principal_due") + Sum("interest_due") - Sum("amount_paid"),
        )
    )
    episodes = {row["facility_id"]: row for row in arrears}
    facilities = Facility.objects.filter(pk__in=list(episodes)).select_related("customer")
    existing = set(
        CollectionAction.objects.filter(facility_id__in=list(episodes)).values_list(
            "facility_id", "step", "episode"
        )
    )
    collectors = _collectors(lending.collector_team)
    load = Counter(
        dict(
            CollectionAction.objects.filter(
                status=CollectionStatus.OPEN, assigned_to__in=collectors
            )
            .values_list("assigned_to")
            .annotate(n=Count("pk"))
        )
    )
    created = []
    for facility in facilities:
        episode = episodes[facility.pk]
        dpd = (as_of - episode["since"]).days
        reached = [s for s in ladder if s.days_past_due <= dpd]
        if not reached or (facility.pk, reached[-1].step, episode["since"]) in existing:
            continue
        if dpd < lending.collector_after_days or not collectors:
            assignee = facility.customer.owner
        else:
            assignee = min(collectors, key=lambda u: (load[u.pk], u.pk))
            load[assignee.pk] += 1
        created.append(
            CollectionAction(
                facility=facility,
                step=reached[-1].step,
                episode=episode["since"],
                days_past_due=dpd,
                amount_overdue=episode["overdue"],
                due_on=as_of,
                assigned_to=assignee,
            )
        )
    CollectionAction.objects.bulk_create(created, ignore_conflicts=True)
    reminders_send(actions=[a for a in created if a.step == CollectionStep.SMS], as_of=as_of,
                   lender=lending.lender_name)  # fmt: skip
    cancelled = (
        CollectionAction.objects.filter(status=CollectionStatus.OPEN)
        .exclude(facility_id__in=list(episodes))
        .update(status=CollectionStatus.CANCELLED, completed_at=timezone.now())
    )
    kept, broken = promises_check(as_of=as_of, grace_days=lending.promise_grace_days)
    if created:
        webhooks.emit(
            webhooks.Event.COLLECTION_ACTION,
            [
                {
                    "facility": a.facility_id,
                    "customer": a.facility.customer_id,
                    "step": a.step,
                    "days_past_due": a.days_past_due,
                    "assigned_to": a.assigned_to_id,
                }
                for a in created
            ],
        )
    return {"created": len(created), "cancelled": cancelled, "kept": kept, "broken": broken}


def reminder_text(action: CollectionAction, *, lender: str) -> str:
    """The day-1 SMS in Chinese: the lender, the contract, the amount overdue and since when."""
    with translation.override("zh-hans"):
        return str(
            _("[%(lender)s] Dear %(client)s, the repayment due on %(due)s under contract "
              "%(contract)s is overdue: %(amount)s CNY. Please repay as soon as possible; if you "
              "have already paid, please ignore this message.")
        ) % {
            "lender": lender,
            "client": action.facility.customer.name,
            "due": f"{action.episode.year}年{action.episode.month}月{action.episode.day}日",
            "contract": action.facility.contract_number,
            "amount": f"{action.amount_overdue:,.2f}",
        }  # fmt: skip


def reminders_send(*, actions: list[CollectionAction], as_of: date, lender: str) -> int:
    """Queue the SMS reminder of each new SMS step (urgent: collections go in the quiet hours
    and past an opt-out, as a lender must) and link it to its action. One message per
    facility, step and arrears episode (the source key), so a second run sends nothing."""
    from fincrm.messaging.choices import MessageChannel, MessageKind
    from fincrm.messaging.services import Outline, messages_send

    if not actions:
        return 0
    today = timezone.localdate()
    now = timezone.now() if as_of == today else datetime.combine(
        as_of, time(10), timezone.get_current_timezone()
    )  # fmt: skip
    with translation.override("zh-hans"):
        subject = str(CollectionStep.SMS.label)
    outlines = [
        Outline(
            customer=a.facility.customer,
            text=reminder_text(a, lender=lender),
            subject=subject,
            source_key=f"dunning:{a.facility_id}:{a.step}:{a.episode:%Y%m%d}",
        )
        for a in actions
    ]
    sent = messages_send(outlines=outlines, channel=MessageChannel.SMS, kind=MessageKind.DUNNING,
                         urgent=True, now=now)  # fmt: skip
    by_episode = {(a.facility_id, a.episode): m for a, m in zip(actions, sent, strict=True)}
    saved = list(
        CollectionAction.objects.filter(
            facility_id__in=[a.facility_id for a in actions], step=CollectionStep.SMS,
            episode__in={a.episode for a in actions}, message__isnull=True,
        )
    )  # fmt: skip
    for action in saved:
        action.message = by_episode.get((action.facility_id, action.episode))
    CollectionAction.objects.bulk_update([a for a in saved if a.message], ["message"])
    return len(sent)


def _paid_between(facility_id: int, start: date, end: date) -> Decimal:
    payments = Payment.objects.filter(
        facility_id=facility_id, paid_on__gte=start, paid_on__lte=end
    ).aggregate(
        paid=Sum("amount", filter=~Q(kind=PaymentKind.REVERSAL)),
        back=Sum("amount", filter=Q(kind=PaymentKind.REVERSAL)),
    )
    return (payments["paid"] or Decimal(0)) - (payments["back"] or Decimal(0))


def promises_check(*, as_of: date, grace_days: int) -> tuple[int, int]:
    """Promises due by ``as_of`` less the grace: kept when the payments since the promise
    reach the amount, else broken and escalated to the team lead (a new action)."""
    due = CollectionAction.objects.filter(
        promise_status=PromiseStatus.PENDING,
        promise_date__lt=as_of - timedelta(days=grace_days),
    ).select_related("facility__customer")
    kept = broken = 0
    for action in due:
        made_on = timezone.localdate(action.completed_at or action.created_at)
        paid = _paid_between(
            action.facility_id, made_on, action.promise_date + timedelta(days=grace_days)
        )
        if paid >= (action.promise_amount or 0):
            action.promise_status = PromiseStatus.KEPT
            kept += 1
        else:
            action.promise_status = PromiseStatus.BROKEN
            broken += 1
            customer = action.facility.customer
            CollectionAction.objects.create(
                facility=action.facility,
                step=CollectionStep.PROMISE_BROKEN,
                episode=action.episode,
                days_past_due=action.days_past_due + (as_of - action.due_on).days,
                amount_overdue=action.amount_overdue,
                due_on=as_of,
                assigned_to=_team_lead(customer.team_id) or action.assigned_to,
                note=str(_("Promise of %(amount)s CNY for %(date)s not kept"))
                % {"amount": f"{action.promise_amount:,.2f}", "date": action.promise_date},
            )
        action.save(update_fields=["promise_status"])
    return kept, broken


@transaction.atomic
def collection_record_outcome(
    *,
    action: CollectionAction,
    user,
    outcome: str,
    note: str = "",
    promise_date: date | None = None,
    promise_amount: Decimal | None = None,
    today: date | None = None,
) -> CollectionAction:
    """Close an action with what happened; a promise to pay is watched from now on. The
    contact is logged on the client's timeline."""
    today = today or timezone.localdate()
    action = CollectionAction.objects.select_for_update().get(pk=action.pk)
    if action.status != CollectionStatus.OPEN:
        raise ValidationError(MSG_ACTION_CLOSED, code="closed")
    if outcome == CollectionOutcome.PROMISE:
        if (
            promise_date is None
            or promise_date < today
            or not promise_amount
            or (promise_amount <= 0)
        ):
            raise ValidationError(MSG_PROMISE_NEEDS, code="promise")
        action.promise_date, action.promise_amount = promise_date, promise_amount
        action.promise_status = PromiseStatus.PENDING
    action.outcome = outcome
    action.note = note[:300]
    action.status = CollectionStatus.DONE
    action.completed_at = timezone.now()
    action.completed_by = user
    action.full_clean()
    action.save()
    _log_contact(action, user)
    webhooks.emit(
        webhooks.Event.COLLECTION_ACTION,
        [
            {
                "action": action.pk,
                "facility": action.facility_id,
                "customer": action.facility.customer_id,
                "step": action.step,
                "outcome": outcome,
                "promise_date": promise_date,
                "promise_amount": promise_amount,
            }
        ],
    )
    return action


#: The interaction channel a collection step is worked through.
STEP_CHANNEL = {
    CollectionStep.SMS: "sms",
    CollectionStep.CALL: "phone",
    CollectionStep.VISIT: "visit",
    CollectionStep.PROMISE_BROKEN: "phone",
}


def _log_contact(action: CollectionAction, user) -> None:
    from fincrm.engagement.choices import Outcome
    from fincrm.engagement.services import interaction_log

    channel = STEP_CHANNEL.get(action.step)
    if channel is None:
        return
    reached = action.outcome != CollectionOutcome.UNREACHABLE
    summary = f"{action.get_outcome_display()}: {action.note}" if action.note else ""
    interaction_log(
        customer=action.facility.customer,
        channel=channel,
        subject=str(_("Collections: %(step)s — %(outcome)s"))
        % {"step": action.get_step_display(), "outcome": action.get_outcome_display()},
        summary=summary,
        outcome=Outcome.REACHED if reached else Outcome.NO_ANSWER,
        created_by=user,
    )


def collections_settle(*, facility: Facility, on: date) -> int:
    """A payment that clears the arrears closes the facility's open actions (paid)."""
    still_late = Installment.objects.filter(
        facility=facility, paid_off_on__isnull=True, due_date__lt=on
    ).exists()
    if still_late:
        return 0
    return CollectionAction.objects.filter(facility=facility, status=CollectionStatus.OPEN).update(
        status=CollectionStatus.DONE, outcome=CollectionOutcome.PAID, completed_at=timezone.now()
    )


@transaction.atomic
def facility_write_off(*, facility: Facility, user, reason: str) -> Facility:
    """Write off what is left of the principal; later payments are recoveries."""
    from .servicing import outstanding_principal

    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if facility.status != FacilityStatus.ACTIVE:
        raise ValidationError(MSG_WRITE_OFF_ACTIVE, code="not_active")
    if not reason.strip():
        raise ValidationError(MSG_WRITE_OFF_REASON, code="reason")
    facility.written_off_amount = outstanding_principal(facility)
    facility.status = FacilityStatus.WRITTEN_OFF
    facility.loan_class_reason = reason.strip()[:300]
    facility.save(update_fields=["written_off_amount", "status", "loan_class_reason"])
    CollectionAction.objects.filter(facility=facility, status=CollectionStatus.OPEN).update(
        status=CollectionStatus.CANCELLED, completed_at=timezone.now()
    )
    return facility


def _cure_day(due_paid: list[tuple[date, date | None]], since: date, today: date) -> date | None:
    """The first day after ``since`` (up to ``today``) on which the facility was current again:
    every instalment due before that day paid off by it. ``due_paid``: the facility's
    (due date, paid-off date) sorted by due date."""
    from bisect import bisect_left
    from itertools import accumulate

    dues = [d for d, _p in due_paid]
    latest = list(accumulate((p or date.max for _d, p in due_paid), max))
    for day in sorted({p for _d, p in due_paid if p is not None and since < p <= today}):
        before = bisect_left(dues, day)  # instalments due before ``day``
        if before and latest[before - 1] <= day:
            return day
    return None


def collection_rates(
    *, since: date, user=None, today: date | None = None, using: str = "default"
) -> dict:
    """Cure rate and promise-kept rate of the collections the user sees (all without a user).

    An arrears *episode* is a facility's unbroken run of arrears that reached the collector
    queue, from the due date of its oldest unpaid instalment (``CollectionAction.episode``;
    a payment of the oldest instalment alone moves that date, not the run: such actions are
    one episode). Of the episodes begun since ``since``, the *cure rate* is the share that
    ended with the facility current again (every instalment due paid off) by ``today``; a
    write-off, or arrears still running, is not a cure. The *promise-kept rate* is, of the
    promises to pay falling due since ``since`` and already decided (after the grace days),
    the share kept: the payments from the promise to its date plus the grace reached the
    amount promised. ``using``: the database read (the reporting replica for a dashboard).
    """
    today = today or timezone.localdate()
    actions = CollectionAction.objects.using(using).all()
    if user is not None:
        actions = actions.restrict(user, "view")
    recent = actions.filter(episode__gte=since, episode__lt=today)
    facility_ids = set(recent.values_list("facility_id", flat=True))
    starts: dict[int, set[date]] = {}
    for facility_id, start in actions.filter(facility_id__in=facility_ids).values_list(
        "facility_id", "episode"
    ):
        starts.setdefault(facility_id, set()).add(start)
    schedules: dict[int, list[tuple[date, date | None]]] = {}
    for facility_id, due, paid in (
        Installment.objects.using(using)
        .filter(facility_id__in=sorted(facility_ids))
        .order_by("facility_id", "due_date")
        .values_list("facility_id", "due_date", "paid_off_on")
        .iterator(chunk_size=20_000)
    ):
        schedules.setdefault(facility_id, []).append((due, paid))
    episodes = cured = 0
    for facility_id, dates in starts.items():
        schedule = schedules.get(facility_id, [])
        ends: date | None = None  # the cure day of the run in hand (None: not cured)
        run_start: date | None = None
        for start in sorted(dates):
            if run_start is not None and (ends is None or ends > start):
                continue  # the same run, its oldest unpaid instalment paid meanwhile
            run_start, ends = start, _cure_day(schedule, start, today)
            if since <= start < today:
                episodes += 1
                cured += ends is not None
    promises = actions.filter(
        promise_status__in=[PromiseStatus.KEPT, PromiseStatus.BROKEN], promise_date__gte=since
    ).aggregate(kept=Count("pk", filter=Q(promise_status=PromiseStatus.KEPT)), all=Count("pk"))
    return {
        "since": since,
        "episodes": episodes,
        "cured": cured,
        "cure_rate": cured / episodes if episodes else None,
        "promises": promises["all"],
        "kept": promises["kept"],
        "promise_kept_rate": promises["kept"] / promises["all"] if promises["all"] else None,
    }
