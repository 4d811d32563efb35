"""The protection rules as a table: consent, collections, complaints, frequency caps, quiet
hours; then the same rules read from the database for real clients."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fincrm.analytics.policy import MessagingRules
from fincrm.messaging.choices import BlockReason
from fincrm.messaging.protection import Standing, refusal, send_after

RULES = MessagingRules()  # caps per 7 days: low sms 1, ordinary sms 2 / wechat 3, core sms 4
SH = ZoneInfo("Asia/Shanghai")

R = BlockReason
CASES = [
    # standing, channel, marketing, urgent -> refusal
    (Standing(), "sms", False, False, None),
    (Standing(has_address=False), "sms", False, True, R.NO_ADDRESS),
    (Standing(opted_out=True), "sms", False, False, R.OPTED_OUT),
    (Standing(opted_out=True), "sms", False, True, None),  # collections still go
    (Standing(opted_out=True), "email", True, False, R.OPTED_OUT),
    (Standing(in_collections=True), "sms", True, False, R.IN_COLLECTIONS),
    (Standing(in_collections=True), "sms", False, False, None),  # service messages go
    (Standing(in_collections=True), "sms", False, True, None),  # a dunning reminder
    (Standing(open_complaint=True), "wechat", True, False, R.OPEN_COMPLAINT),
    (Standing(open_complaint=True), "wechat", False, False, None),
    (Standing(tier="low", sent_in_window=0), "sms", False, False, None),
    (Standing(tier="low", sent_in_window=1), "sms", False, False, R.FREQUENCY_CAP),
    (Standing(tier="low", sent_in_window=1), "sms", False, True, None),  # urgent: no cap
    (Standing(tier="low", sent_in_window=1), "wechat", False, False, None),  # per channel
    (Standing(tier="core", sent_in_window=3), "sms", False, False, None),  # per tier
    (Standing(tier="core", sent_in_window=4), "sms", False, False, R.FREQUENCY_CAP),
]


@pytest.mark.parametrize(("standing", "channel", "marketing", "urgent", "expected"), CASES)
def test_the_rules_refuse_what_they_must_and_nothing_else(
    standing, channel, marketing, urgent, expected
):
    got = refusal(standing, rules=RULES, channel=channel, marketing=marketing, urgent=urgent)
    assert got == expected


QUIET = [
    # local time, channel, urgent -> earliest send (local), None = at once
    ((2027, 2, 6, 10, 0), "sms", False, None),
    ((2027, 2, 6, 20, 59), "sms", False, None),
    ((2027, 2, 6, 21, 0), "sms", False, (2027, 2, 7, 8, 0)),
    ((2027, 2, 6, 23, 30), "wechat", False, (2027, 2, 7, 8, 0)),
    ((2027, 2, 7, 2, 45), "sms", False, (2027, 2, 7, 8, 0)),
    ((2027, 2, 7, 7, 59), "wechat", False, (2027, 2, 7, 8, 0)),
    ((2027, 2, 7, 8, 0), "sms", False, None),
    ((2027, 2, 6, 23, 30), "sms", True, None),  # urgent: collections, security
    ((2027, 2, 6, 23, 30), "email", False, None),  # e-mail rings no phone
]


@pytest.mark.parametrize(("local", "channel", "urgent", "expected"), QUIET)
def test_quiet_hours_hold_sms_and_wechat_until_eight(local, channel, urgent, expected):
    moment = datetime(*local, tzinfo=SH)
    after = send_after(moment, rules=RULES, channel=channel, urgent=urgent)
    assert after == (moment if expected is None else datetime(*expected, tzinfo=SH))


def test_quiet_hours_come_from_the_policy():
    rules = MessagingRules(quiet_from_hour=22, quiet_until_hour=7)
    assert send_after(datetime(2027, 2, 6, 21, 30, tzinfo=SH), rules=rules, channel="sms",
                      urgent=False) == datetime(2027, 2, 6, 21, 30, tzinfo=SH)  # fmt: skip
    assert send_after(datetime(2027, 2, 6, 22, 0, tzinfo=SH), rules=rules, channel="sms",
                      urgent=False) == datetime(2027, 2, 7, 7, 0, tzinfo=SH)  # fmt: skip
