"""Writes of the loyalty ledger: earn, redeem, expire. Entries are only ever added.

Redemptions lock the client row, so two at once cannot both spend the same points; the
available balance (after whatever has expired by then) comes from
``fincrm.analytics.points``, which also decides which earned points expire first (FIFO).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.analytics import points as ledger
from fincrm.core.policy import policy_active, policy_config
from fincrm.customers.models import Customer

from .choices import EntryKind
from .models import PointsEntry

MSG_UNKNOWN_REWARD = _("There is no such reward.")
MSG_INSUFFICIENT = _("Not enough points: %(available)s available, %(needed)s needed.")


def _program():
    return policy_config(policy_active()).loyalty_program


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def ledger_entries(customer_id: int) -> list[ledger.LedgerEntry]:
    rows = PointsEntry.objects.filter(customer_id=customer_id).order_by("occurred_at", "pk")
    return [
        ledger.LedgerEntry(
            entry_id=e.pk,
            kind=e.kind,
            points=e.points,
            occurred_on=timezone.localdate(e.occurred_at),
            expires_on=e.expires_on,
        )
        for e in rows
    ]


def points_earn(
    *, customer, reason: str, key: str, points: int | None = None, now=None, user=None
) -> PointsEntry | None:
    """Award the policy's points for ``reason`` once per ``key``; None when already
    awarded or the policy gives nothing for it."""
    program = _program()
    amount = program.earn.get(reason, 0) if points is None else points
    if amount <= 0:
        return None
    now = now or timezone.now()
    entry = PointsEntry(
        customer=customer,
        kind=EntryKind.EARN,
        reason=reason,
        points=amount,
        occurred_at=now,
        expires_on=_add_months(timezone.localdate(now), program.expiry_months),
        key=key[:60],
        created_by=user,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # this key was awarded before
        return None
    return entry


def _referral_keys(referred: Customer) -> list[str]:
    """The ledger keys a referral of ``referred`` may have been awarded under: its link, or
    its name typed before the link existed."""
    return [f"referral:client:{referred.pk}", f"referral:{referred.name}"[:60]]


def referral_unrewarded(*, referrer: Customer, user) -> list[Customer]:
    """The clients ``referrer`` brought in (``Customer.referred_by``) that ``user`` may see
    and whose referral points were not awarded yet, by name."""
    referred = list(
        Customer.objects.restrict(user, "view").filter(referred_by=referrer).order_by("name", "pk")
    )
    keys = {k for c in referred for k in _referral_keys(c)}
    done = set(
        PointsEntry.objects.filter(customer=referrer, key__in=keys).values_list("key", flat=True)
    )
    return [c for c in referred if done.isdisjoint(_referral_keys(c))]


def referral_reward(
    *, referrer: Customer, referred_name: str = "", referred: Customer | None = None, user=None
) -> PointsEntry | None:
    """The policy's referral points for ``referrer``, once per referred client: by the link
    when the referred client is on file as referred by it (chosen, or typed by its name),
    else by the typed name. None when already awarded (under either key)."""
    if referred is None:
        referred = Customer.objects.filter(referred_by=referrer, name=referred_name).first()
    if referred is not None:
        if referred.referred_by_id != referrer.pk:
            return None
        keys = _referral_keys(referred)
        if PointsEntry.objects.filter(customer=referrer, key__in=keys).exists():
            return None
        return points_earn(customer=referrer, reason="referral", key=keys[0], user=user)
    return points_earn(
        customer=referrer, reason="referral", key=f"referral:{referred_name}", user=user
    )


@transaction.atomic
def points_redeem(*, customer, reward_code: str, user=None, now=None) -> PointsEntry:
    """Spend points on a reward of the policy; refused when the balance is short."""
    reward = next((r for r in _program().rewards if r.code == reward_code), None)
    if reward is None:
        raise ValidationError(MSG_UNKNOWN_REWARD, code="unknown_reward")
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # one at a time
    now = now or timezone.now()
    as_of = timezone.localdate(now)
    entries = ledger_entries(customer.pk)
    try:
        ledger.check_redemption(entries, reward.points, as_of=as_of)
    except ledger.InsufficientPoints:
        available = ledger.available(entries, as_of=as_of)
        raise ValidationError(
            MSG_INSUFFICIENT,
            code="insufficient",
            params={"available": available, "needed": reward.points},
        ) from None
    entry = PointsEntry(
        customer=customer,
        kind=EntryKind.REDEEM,
        reason=reward.code,
        points=-reward.points,
        occurred_at=now,
        key=f"redeem:{now.timestamp():.6f}",
        created_by=user,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def points_expire(*, as_of: date | None = None) -> int:
    """Write the expiry entries due by ``as_of`` for every client (oldest points first);
    running it twice writes nothing more. Returns the number of entries written."""
    as_of = as_of or timezone.localdate()
    # Dated the day they expire, not when the job ran: the ledger replays entries up to a
    # day, and an expiry stamped with a later wall-clock time was invisible to it.
    expired_at = timezone.make_aware(datetime.combine(as_of, time.min))
    due = (
        PointsEntry.objects.filter(kind=EntryKind.EARN, expires_on__lte=as_of)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    written = 0
    for customer_id in due.iterator(chunk_size=2_000):
        entries = ledger_entries(customer_id)
        new = [
            PointsEntry(
                customer_id=customer_id,
                kind=EntryKind.EXPIRE,
                reason="expiry",
                points=-amount,
                occurred_at=expired_at,
                key=f"expiry:{earn_id}",
            )
            for earn_id, amount in ledger.expiring(entries, as_of=as_of)
            if amount > 0
        ]
        PointsEntry.objects.bulk_create(new, ignore_conflicts=True)
        written += len(new)
    return written
