"""Reads of the loyalty ledger: balance, level, what expires soon, the latest entries."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import get_language

from fincrm.analytics import points as ledger
from fincrm.core.policy import policy_active, policy_config

from .choices import EarnReason, EntryKind
from .models import PointsEntry
from .services import ledger_entries, referral_unrewarded

RECENT_ENTRIES = 10


def loyalty_summary(*, customer, user=None) -> dict:
    """The client's balance, level, rewards and latest entries; with ``user`` (staff), also
    the clients it referred that ``user`` may see and whose referral was not rewarded yet."""
    program = policy_config(policy_active()).loyalty_program
    today = timezone.localdate()
    entries = ledger_entries(customer.pk)
    available = ledger.available(entries, as_of=today)
    soon = ledger.expiring(entries, as_of=today + timedelta(days=90))
    tier = getattr(getattr(customer, "classification", None), "tier", None)
    code = ledger.membership_level(
        available, tier, [level.model_dump() for level in program.levels]
    )
    chinese = (get_language() or "").startswith("zh")
    level = next(lv for lv in program.levels if lv.code == code)
    reward_names = {r.code: r.name_zh if chinese else r.name_en for r in program.rewards}
    recent = list(
        PointsEntry.objects.filter(customer=customer).order_by("-occurred_at", "-pk")[
            :RECENT_ENTRIES
        ]
    )
    for entry in recent:
        entry.reason_label = _reason_label(entry.reason, reward_names)
    return {
        "balance": ledger.balance(entries),
        "available": available,
        "expiring_90d": sum(amount for _id, amount in soon),
        "level": level.name_zh if chinese else level.name_en,
        "level_code": code,
        "rewards": [
            {
                "code": r.code,
                "name": r.name_zh if chinese else r.name_en,
                "points": r.points,
                "affordable": r.points <= available,
            }
            for r in program.rewards
        ],
        "recent": recent,
        "unrewarded_referrals": referral_unrewarded(referrer=customer, user=user) if user else [],
    }


def _reason_label(reason: str, reward_names: dict[str, str]) -> str:
    """An earn reason or a reward by its name; a code the policy no longer knows as it is."""
    if reason in EarnReason.values:
        return str(EarnReason(reason).label)
    if reason == "expiry":
        return str(EntryKind.EXPIRE.label)
    return reward_names.get(reason, reason)
