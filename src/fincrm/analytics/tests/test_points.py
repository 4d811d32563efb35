"""Tests for ``fincrm.analytics.points``: FIFO expiry, redemption checks, membership levels.

The property tests compare the ledger against a deliberately naive oracle that tracks every
single point as a token.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fincrm.analytics import points as p
from fincrm.analytics.points import LedgerEntry as E

D = date


def ledger() -> list[E]:
    return [
        E("e1", "earn", 100, D(2026, 1, 1), D(2026, 3, 31)),
        E("e2", "earn", 50, D(2026, 2, 1), D(2026, 2, 28)),
        E("r1", "redeem", -30, D(2026, 2, 10)),  # FIFO: taken from e1, the oldest
    ]


# --------------------------------------------------------------------------------------------
# balance / expiring / available
# --------------------------------------------------------------------------------------------


def test_balance_is_the_sum_of_entries():
    assert p.balance(ledger()) == 120
    assert p.balance([]) == 0
    as_tuples = [tuple(e) for e in ledger()]
    assert p.balance(as_tuples) == 120


def test_redemptions_consume_the_oldest_earn_first():
    left = {lot.entry_id: lot.remaining for lot in p.lots(ledger(), as_of=D(2026, 2, 10))}
    assert left == {"e1": 70, "e2": 50}


def test_points_expire_the_day_after_expires_on():
    assert p.expiring(ledger(), as_of=D(2026, 2, 28)) == []  # still usable on expires_on
    assert p.available(ledger(), as_of=D(2026, 2, 28)) == 120
    assert p.expiring(ledger(), as_of=D(2026, 3, 1)) == [("e2", 50)]
    assert p.available(ledger(), as_of=D(2026, 3, 1)) == 70
    assert p.expiring(ledger(), as_of=D(2026, 4, 1)) == [("e1", 70), ("e2", 50)]
    assert p.available(ledger(), as_of=D(2026, 4, 1)) == 0


def test_recorded_expiry_is_not_reported_again():
    entries = [*ledger(), E("x1", "expire", -50, D(2026, 3, 1))]
    assert p.balance(entries) == 70
    assert p.expiring(entries, as_of=D(2026, 3, 1)) == []
    assert p.expiring(entries, as_of=D(2026, 4, 1)) == [("e1", 70)]


def test_fifo_is_by_earn_date_not_by_expiry_date():
    entries = [*ledger(), E("r2", "redeem", -60, D(2026, 2, 28))]
    # r1 took 30 and r2 takes 60 from e1 (10 left); e2 keeps 50 and expires.
    assert p.expiring(entries, as_of=D(2026, 4, 1)) == [("e1", 10), ("e2", 50)]


def test_earns_that_never_expire_and_adjustments():
    entries = [
        E("e1", "earn", 40, D(2026, 1, 1)),
        E("a1", "adjust", 25, D(2026, 1, 2)),
        E("a2", "adjust", -50, D(2026, 1, 3)),
    ]
    assert p.balance(entries) == 15
    assert p.expiring(entries, as_of=D(2040, 1, 1)) == []
    assert [(lot.entry_id, lot.remaining) for lot in p.lots(entries, as_of=D(2026, 2, 1))] == [
        ("e1", 0),
        ("a1", 15),
    ]


def test_an_overdrawn_ledger_is_repaid_by_later_earns():
    entries = [
        E("e1", "earn", 10, D(2026, 1, 1), D(2026, 1, 31)),
        E("a1", "adjust", -30, D(2026, 1, 5)),  # 20 more than there was
        E("e2", "earn", 50, D(2026, 1, 10), D(2026, 6, 30)),
    ]
    assert p.available(entries, as_of=D(2026, 1, 6)) == 0
    assert p.available(entries, as_of=D(2026, 1, 10)) == 30
    assert p.expiring(entries, as_of=D(2026, 7, 1)) == [("e2", 30)]


def test_same_day_earns_come_before_redemptions_and_later_entries_are_ignored():
    entries = [
        E("r1", "redeem", -20, D(2026, 1, 1)),
        E("e1", "earn", 20, D(2026, 1, 1), D(2026, 1, 1)),
        E("e2", "earn", 500, D(2026, 5, 1)),
    ]
    assert p.available(entries, as_of=D(2026, 1, 1)) == 0
    assert p.expiring(entries, as_of=D(2026, 1, 2)) == []
    assert p.available(entries, as_of=D(2026, 5, 1)) == 500


# --------------------------------------------------------------------------------------------
# check_redemption
# --------------------------------------------------------------------------------------------


def test_check_redemption_accepts_what_is_available_after_expiry():
    p.check_redemption(ledger(), 70, as_of=D(2026, 3, 1))
    with pytest.raises(p.InsufficientPoints) as raised:
        p.check_redemption(ledger(), 71, as_of=D(2026, 3, 1))
    assert str(raised.value) == p.INSUFFICIENT_POINTS.format(requested=71, available=70)
    assert (raised.value.requested, raised.value.available) == (71, 70)
    p.check_redemption(ledger(), 120, as_of=D(2026, 2, 28))


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10"])
def test_check_redemption_rejects_non_positive_amounts(amount):
    with pytest.raises(ValueError, match=re.escape(p.NON_POSITIVE_REDEMPTION)):
        p.check_redemption(ledger(), amount, as_of=D(2026, 3, 1))


@pytest.mark.parametrize(
    "entry",
    [
        E("z", "bonus", 5, D(2026, 1, 1)),
        E("z", "earn", -5, D(2026, 1, 1)),
        E("z", "earn", 5.0, D(2026, 1, 1)),
        E("z", "redeem", 5, D(2026, 1, 1)),
        E("z", "expire", 0, D(2026, 1, 1)),
        E("z", "redeem", -5, D(2026, 1, 1), D(2026, 2, 1)),
        E("z", "earn", 5, D(2026, 1, 1), D(2025, 12, 31)),
        E("z", "earn", 5, "2026-01-01"),
    ],
)
def test_invalid_entries_are_rejected(entry):
    with pytest.raises(ValueError, match=re.escape(p.BAD_ENTRY)):
        p.balance([entry])


def test_duplicate_entry_ids_are_rejected():
    with pytest.raises(ValueError, match=re.escape(p.DUPLICATE_ENTRY)):
        p.balance([*ledger(), E("e1", "earn", 1, D(2026, 1, 1))])


# --------------------------------------------------------------------------------------------
# property tests against a per-point oracle
# --------------------------------------------------------------------------------------------


def oracle(entries: list[E], as_of: date) -> tuple[list[tuple[object, date | None]], int]:
    """Every unexpired-or-not point as a token (earn id, expires_on), plus the deficit."""
    tokens: list[tuple[object, date | None]] = []
    deficit = 0
    order = sorted(enumerate(entries), key=lambda ie: (ie[1].occurred_on, ie[1].points < 0, ie[0]))
    for _, e in order:
        if e.occurred_on > as_of:
            continue
        if e.points > 0:
            repay = min(deficit, e.points)
            deficit -= repay
            tokens += [(e.entry_id, e.expires_on)] * (e.points - repay)
            continue
        need, day = -e.points, e.occurred_on

        def is_expired(token, day=day):
            return token[1] is not None and token[1] < day

        phases = [is_expired] if e.kind == "expire" else []
        phases.append(lambda token, f=is_expired: not f(token))
        for phase in phases:
            kept = []
            for token in tokens:
                if need and phase(token):
                    need -= 1
                else:
                    kept.append(token)
            tokens = kept
        deficit += need
    return tokens, deficit


def unexpired(tokens, as_of):
    return [t for t in tokens if t[1] is None or t[1] >= as_of]


operations = st.lists(
    st.tuples(
        st.integers(0, 40),  # days since the previous operation
        st.sampled_from(["earn", "earn", "redeem", "redeem", "expire_run"]),
        st.integers(1, 60),  # points
        st.one_of(st.none(), st.integers(0, 90)),  # validity of an earn, in days
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_redemptions_accepted_by_check_redemption_keep_the_ledger_sound(ops):
    entries: list[E] = []
    day = D(2026, 1, 1)
    for n, (gap, op, amount, validity) in enumerate(ops):
        day += timedelta(days=gap)
        tokens, deficit = oracle(entries, day)
        assert deficit == 0
        free = len(unexpired(tokens, day))
        assert p.available(entries, as_of=day) == free
        if op == "earn":
            expires = None if validity is None else day + timedelta(days=validity)
            entries.append(E(f"e{n}", "earn", amount, day, expires))
        elif op == "redeem":
            try:
                p.check_redemption(entries, amount, as_of=day)
            except p.InsufficientPoints as exc:
                assert amount > free
                assert exc.available == free
            else:
                assert amount <= free
                entries.append(E(f"r{n}", "redeem", -amount, day))
        else:
            due = p.expiring(entries, as_of=day)
            expected: dict[object, int] = {}
            for earn_id, expires_on in tokens:
                if expires_on is not None and expires_on < day:
                    expected[earn_id] = expected.get(earn_id, 0) + 1
            assert dict(due) == expected
            assert [earn_id for earn_id, _ in due] == list(expected)  # oldest first
            entries += [E(f"x{n}-{i}", "expire", -pts, day) for i, (_, pts) in enumerate(due)]
        assert p.balance(entries) == sum(e.points for e in entries)
        assert p.balance(entries) >= 0


@settings(max_examples=300, deadline=None)
@given(operations, st.integers(0, 400))
def test_after_recording_expiry_the_balance_is_the_unexpired_remainder(ops, horizon):
    entries: list[E] = []
    day = D(2026, 1, 1)
    for n, (gap, op, amount, validity) in enumerate(ops):
        day += timedelta(days=gap)
        if op == "earn":
            expires = None if validity is None else day + timedelta(days=validity)
            entries.append(E(f"e{n}", "earn", amount, day, expires))
        elif op == "redeem" and amount <= p.available(entries, as_of=day):
            entries.append(E(f"r{n}", "redeem", -amount, day))
    as_of = day + timedelta(days=horizon)
    due = p.expiring(entries, as_of=as_of)
    assert all(points > 0 for _, points in due)
    entries += [E(f"x{i}", "expire", -pts, as_of) for i, (_, pts) in enumerate(due)]
    remaining = [lot for lot in p.lots(entries, as_of=as_of) if not lot.expired]
    assert p.balance(entries) == sum(lot.remaining for lot in remaining)
    assert p.balance(entries) == len(unexpired(oracle(entries, as_of)[0], as_of))
    assert p.balance(entries) == p.available(entries, as_of=as_of)
    assert p.expiring(entries, as_of=as_of) == []


# --------------------------------------------------------------------------------------------
# membership_level
# --------------------------------------------------------------------------------------------

LEVELS = [
    {"code": "gold", "min_points": 5000, "min_tier": "key"},
    {"code": "member", "min_points": 0, "min_tier": None},
    {"code": "platinum", "min_points": 20000, "min_tier": "core"},
    {"code": "silver", "min_points": 1000},
]


@pytest.mark.parametrize(
    ("points_balance", "tier", "level"),
    [
        (0, "core", "member"),
        (999, "core", "member"),
        (1000, "low", "silver"),
        (6000, "ordinary", "silver"),  # enough points for gold, tier too low
        (6000, "key", "gold"),
        (6000, "core", "gold"),  # a higher tier meets a lower requirement
        (30000, "key", "gold"),
        (30000, "core", "platinum"),
        (30000, None, "silver"),  # no tier meets no tier requirement
        (-10, "core", "member"),
    ],
)
def test_membership_level_is_the_highest_level_met(points_balance, tier, level):
    assert p.membership_level(points_balance, tier, LEVELS) == level


def test_membership_level_falls_back_to_the_lowest_level():
    levels = [
        {"code": "gold", "min_points": 5000, "min_tier": "key"},
        {"code": "silver", "min_points": 1000, "min_tier": "ordinary"},
    ]
    assert p.membership_level(500, "core", levels) == "silver"
    assert p.membership_level(3000, "low", levels) == "silver"
    # same points: the stricter tier ranks higher
    same = [
        {"code": "a", "min_points": 100, "min_tier": "core"},
        {"code": "b", "min_points": 100, "min_tier": "ordinary"},
    ]
    assert p.membership_level(100, "core", same) == "a"
    assert p.membership_level(100, "key", same) == "b"


@pytest.mark.parametrize(
    "levels",
    [
        [],
        [{"code": "a", "min_points": 0}, {"code": "a", "min_points": 10}],
        [{"code": "a", "min_points": -1}],
        [{"code": "a", "min_points": 1.5}],
        [{"code": "a", "min_points": 0, "min_tier": "vip"}],
    ],
)
def test_membership_level_validates_levels(levels):
    with pytest.raises(ValueError, match=re.escape(p.BAD_LEVELS)):
        p.membership_level(10, "core", levels)


def test_membership_level_rejects_unknown_tiers():
    with pytest.raises(ValueError, match=re.escape(p.UNKNOWN_TIER)):
        p.membership_level(10, "gold", LEVELS)
