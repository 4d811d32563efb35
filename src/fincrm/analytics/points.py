"""Loyalty points: the ledger's balance, FIFO expiry, redemption checks and membership levels.

Pure Python, no Django. A ledger is a sequence of :class:`LedgerEntry` (or plain 5-tuples in
the same order): ``(entry_id, kind, points, occurred_on, expires_on)``.

``earn``
    ``points > 0``; ``expires_on`` is the last day the points can be used (``None``: never).
``redeem``, ``expire``
    ``points < 0``.
``adjust``
    Any whole number: a positive adjustment is a lot that never expires, a negative one is
    consumed like a redemption.

FIFO rules (:func:`lots` replays them)
--------------------------------------
Entries are replayed by day; on a day, additions come before deductions, and otherwise the
ledger order is kept. Each earn (and positive adjustment) is a *lot*. On day ``D`` a lot is
*expired* when ``expires_on < D``.

* A redemption or negative adjustment consumes the oldest unexpired lots first.
* An ``expire`` entry consumes the oldest expired lots' leftovers first (the amounts
  :func:`expiring` reported), and anything beyond them like a redemption.
* A deduction larger than what is available leaves a *deficit* that later additions repay
  first (the ledger was overdrawn, e.g. by a manual correction). With a deficit of zero — which
  :func:`check_redemption` guarantees for redemptions — the balance is always the sum of the
  lots' remaining points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple, TypeGuard

from .policy import TIERS

__all__ = [
    "InsufficientPoints",
    "LedgerEntry",
    "Lot",
    "available",
    "balance",
    "check_redemption",
    "expiring",
    "lots",
    "membership_level",
]


def gettext_noop(text: str) -> str:
    """Mark ``text`` for the translation catalogue without importing Django."""
    return text


Kind = Literal["earn", "redeem", "expire", "adjust"]
KINDS: tuple[str, ...] = ("earn", "redeem", "expire", "adjust")

#: Shown to the user; format with ``requested`` and ``available`` (points).
INSUFFICIENT_POINTS = gettext_noop(
    "Not enough points: {requested} requested, {available} available."
)
NON_POSITIVE_REDEMPTION = "points to redeem must be a positive whole number"
BAD_ENTRY = "invalid ledger entry"
DUPLICATE_ENTRY = "ledger entry ids must be unique"
BAD_LEVELS = "levels need distinct codes, min_points >= 0 and a known min_tier or none"
UNKNOWN_TIER = "unknown tier"


class LedgerEntry(NamedTuple):
    """One ledger line; ``points`` is signed (earn > 0, redeem and expire < 0)."""

    entry_id: Any
    kind: Kind
    points: int
    occurred_on: date
    expires_on: date | None = None


class InsufficientPoints(ValueError):
    """A redemption asks for more points than are available; see :data:`INSUFFICIENT_POINTS`."""

    def __init__(self, requested: int, available: int) -> None:
        self.requested = requested
        self.available = available
        super().__init__(INSUFFICIENT_POINTS.format(requested=requested, available=available))


@dataclass
class Lot:
    """An earn (or positive adjustment) and what is left of it.

    ``remaining`` counts the points neither consumed nor recorded as expired; ``expired`` says
    whether the lot had expired on the day :func:`lots` was asked about.
    """

    entry_id: Any
    occurred_on: date
    points: int
    remaining: int
    expires_on: date | None
    expired: bool = False

    def expired_on(self, day: date) -> bool:
        return self.expires_on is not None and self.expires_on < day


# --------------------------------------------------------------------------------------------
# validation and replay
# --------------------------------------------------------------------------------------------


def _is_whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _entries(entries: Iterable[Sequence[Any]]) -> list[LedgerEntry]:
    out = []
    seen = set()
    for raw in entries:
        entry = raw if isinstance(raw, LedgerEntry) else LedgerEntry(*raw)
        kind, points = entry.kind, entry.points
        problem = None
        if kind not in KINDS:
            problem = f"kind must be one of {KINDS}"
        elif not _is_whole(points):
            problem = "points must be a whole number"
        elif kind == "earn" and points <= 0:
            problem = "earned points must be positive"
        elif kind in ("redeem", "expire") and points >= 0:
            problem = f"{kind} points must be negative"
        elif not isinstance(entry.occurred_on, date):
            problem = "occurred_on must be a date"
        elif entry.expires_on is not None and (
            kind != "earn"
            or not isinstance(entry.expires_on, date)
            or entry.expires_on < entry.occurred_on
        ):
            problem = "only earns expire, on a date no earlier than they occurred"
        if problem:
            raise ValueError(f"{BAD_ENTRY} {entry.entry_id!r}: {problem}")
        if entry.entry_id in seen:
            raise ValueError(f"{DUPLICATE_ENTRY} (repeated {entry.entry_id!r})")
        seen.add(entry.entry_id)
        out.append(entry)
    return out


def _replay(entries: Iterable[Sequence[Any]], as_of: date | None) -> tuple[list[Lot], int]:
    """Replay the ledger up to ``as_of`` (inclusive); return the lots and the deficit."""
    ledger = [e for e in _entries(entries) if as_of is None or e.occurred_on <= as_of]
    order = sorted(
        range(len(ledger)), key=lambda i: (ledger[i].occurred_on, ledger[i].points < 0, i)
    )
    lots_: list[Lot] = []
    deficit = 0

    def consume(amount: int, candidates: Iterable[Lot]) -> int:
        for lot in candidates:
            take = min(lot.remaining, amount)
            lot.remaining -= take
            amount -= take
            if not amount:
                break
        return amount

    for i in order:
        entry = ledger[i]
        day = entry.occurred_on
        if entry.points > 0:
            repaid = min(deficit, entry.points)
            deficit -= repaid
            lots_.append(
                Lot(entry.entry_id, day, entry.points, entry.points - repaid, entry.expires_on)
            )
            continue
        amount = -entry.points
        if entry.kind == "expire":
            amount = consume(amount, (lot for lot in lots_ if lot.expired_on(day)))
        amount = consume(amount, (lot for lot in lots_ if not lot.expired_on(day)))
        deficit += amount
    return lots_, deficit


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------


def balance(entries: Iterable[Sequence[Any]]) -> int:
    """The ledger balance in points: the sum of all entries (expired or not yet recorded)."""
    return sum(e.points for e in _entries(entries))


def lots(entries: Iterable[Sequence[Any]], *, as_of: date) -> list[Lot]:
    """The lots (earns and positive adjustments up to ``as_of``) after the FIFO replay.

    Oldest first; ``expired`` is set for lots past their ``expires_on`` on ``as_of``.
    """
    lots_, _ = _replay(entries, as_of)
    for lot in lots_:
        lot.expired = lot.expired_on(as_of)
    return lots_


def expiring(entries: Iterable[Sequence[Any]], *, as_of: date) -> list[tuple[Any, int]]:
    """Points due to expire on ``as_of`` that no ``expire`` entry has recorded yet.

    Returns
    -------
    list of (earn entry_id, points)
        One item per earn past its ``expires_on`` with points left after FIFO redemptions,
        oldest first; the points are positive. Record each as an ``expire`` entry of
        ``-points`` dated ``as_of`` and the balance equals the unexpired lots' remaining points.
    """
    return [
        (lot.entry_id, lot.remaining)
        for lot in lots(entries, as_of=as_of)
        if lot.expired and lot.remaining > 0
    ]


def available(entries: Iterable[Sequence[Any]], *, as_of: date) -> int:
    """Points that can be redeemed on ``as_of``: unexpired remaining points less any deficit.

    Only entries up to ``as_of`` count. Never negative.
    """
    lots_, deficit = _replay(entries, as_of)
    unexpired = sum(lot.remaining for lot in lots_ if not lot.expired_on(as_of))
    return max(unexpired - deficit, 0)


def check_redemption(entries: Iterable[Sequence[Any]], points: int, *, as_of: date) -> None:
    """Raise unless ``points`` can be redeemed on ``as_of``.

    Raises
    ------
    ValueError
        :data:`NON_POSITIVE_REDEMPTION` when ``points`` is not a positive whole number.
    InsufficientPoints
        When ``points`` exceeds :func:`available` (the balance after what is due to expire).
    """
    if not _is_whole(points) or points <= 0:
        raise ValueError(f"{NON_POSITIVE_REDEMPTION} (got {points!r})")
    free = available(entries, as_of=as_of)
    if points > free:
        raise InsufficientPoints(points, free)


def membership_level(
    points_balance: int, tier: str | None, levels: Sequence[Mapping[str, Any]]
) -> str:
    """The membership level a balance and a value tier qualify for.

    Parameters
    ----------
    points_balance
        The member's points.
    tier
        The value tier, one of :data:`~.policy.TIERS` (``core`` > ``key`` > ``ordinary`` >
        ``low``); ``None`` meets no tier requirement.
    levels
        ``{"code": str, "min_points": int, "min_tier": str | None}`` in any order. A level is
        met when the balance is at least ``min_points`` and the tier is at least ``min_tier``
        (a missing or ``None`` ``min_tier`` has no requirement).

    Returns
    -------
    str
        The code of the highest level met — levels rank by ``min_points``, then by
        ``min_tier`` — or of the lowest level when none is met.

    Raises
    ------
    ValueError
        :data:`BAD_LEVELS` or :data:`UNKNOWN_TIER`.
    """
    if tier is not None and tier not in TIERS:
        raise ValueError(f"{UNKNOWN_TIER} {tier!r}; expected one of {TIERS}")
    # Higher tier -> higher rank; no requirement ranks below the lowest tier.
    rank = {t: len(TIERS) - i for i, t in enumerate(TIERS)}
    codes = [level.get("code") for level in levels]
    valid = bool(levels) and len(set(codes)) == len(codes)
    for level in levels:
        min_points, min_tier = level.get("min_points"), level.get("min_tier")
        if not (_is_whole(min_points) and min_points >= 0) or not (
            min_tier is None or min_tier in TIERS
        ):
            valid = False
    if not valid:
        raise ValueError(f"{BAD_LEVELS} (got {list(levels)!r})")

    def key(level: Mapping[str, Any]) -> tuple[int, int]:
        return level["min_points"], rank.get(level.get("min_tier") or "", 0)

    ordered = sorted(levels, key=key)
    member_rank = rank.get(tier, 0) if tier is not None else 0
    met = [
        level
        for level in ordered
        if points_balance >= level["min_points"]
        and member_rank >= rank.get(level.get("min_tier") or "", 0)
    ]
    return str((met[-1] if met else ordered[0])["code"])
