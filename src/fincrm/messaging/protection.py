"""The rules that protect clients (and the lender) from its own messages.

Pure decisions on what is known about one client and channel (:class:`Standing`), so they are
tested as a table; ``fincrm.messaging.services`` reads the standings from the database in
bulk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fincrm.analytics.policy import MessagingRules

from .choices import BlockReason, MessageChannel

LOCAL = ZoneInfo("Asia/Shanghai")
#: Channels that ring a phone: quiet hours apply to them.
QUIET_CHANNELS = (MessageChannel.SMS, MessageChannel.WECHAT)


@dataclass(frozen=True)
class Standing:
    """What the rules need to know about a client on one channel."""

    tier: str = "ordinary"
    has_address: bool = True
    opted_out: bool = False
    #: Messages that are not urgent on this channel within the policy's window.
    sent_in_window: int = 0
    #: Days past due > 0 on any facility.
    in_collections: bool = False
    open_complaint: bool = False


def refusal(
    standing: Standing, *, rules: MessagingRules, channel: str, marketing: bool, urgent: bool
) -> BlockReason | None:
    """Why this message must not go, or None. Urgent messages (collections, security) pass
    an opt-out and the frequency cap; marketing never reaches a client in collections or with
    an open complaint."""
    if not standing.has_address:
        return BlockReason.NO_ADDRESS
    if standing.opted_out and not urgent:
        return BlockReason.OPTED_OUT
    if marketing and standing.in_collections:
        return BlockReason.IN_COLLECTIONS
    if marketing and standing.open_complaint:
        return BlockReason.OPEN_COMPLAINT
    cap = rules.caps.get(standing.tier, {}).get(channel)
    if not urgent and cap is not None and standing.sent_in_window >= cap:
        return BlockReason.FREQUENCY_CAP
    return None


def in_quiet_hours(moment: datetime, *, rules: MessagingRules) -> bool:
    hour = moment.astimezone(LOCAL).hour
    start, end = rules.quiet_from_hour, rules.quiet_until_hour
    if start > end:  # across midnight: 21:00–08:00
        return hour >= start or hour < end
    return start <= hour < end


def send_after(moment: datetime, *, rules: MessagingRules, channel: str, urgent: bool) -> datetime:
    """The earliest moment from ``moment`` on that the message may go: the end of the quiet
    hours for an SMS or WeChat message that is not urgent, else ``moment`` itself."""
    if urgent or channel not in QUIET_CHANNELS or not in_quiet_hours(moment, rules=rules):
        return moment
    local = moment.astimezone(LOCAL)
    until = datetime.combine(local.date(), time(rules.quiet_until_hour), tzinfo=LOCAL)
    if until <= local:
        until += timedelta(days=1)
    return until


def route(
    *, preferred: str, order: Sequence[str], refusals: Mapping[str, BlockReason | None]
) -> tuple[str, BlockReason | None]:
    """The one channel to reach a client on, of the channels in ``order`` (a campaign's), and
    why none would do. Tried: the client's preferred channel when it is one of them, then
    the others in ``order``; the first the rules allow (``refusals[channel] is None``: an
    address on it, no opt-out, under the cap …) is the one. When none is allowed, the
    channel whose refusal is reported: the first tried on which the client has an address,
    so the reason says why it was not reached there (opted out, in collections …) rather
    than that it never gave an address elsewhere; ``no_address`` when it has none at all."""
    tried = [preferred] if preferred in order else []
    tried += [channel for channel in order if channel != preferred]
    if not tried:
        raise ValueError("no channel to route on")
    for channel in tried:
        if refusals[channel] is None:
            return channel, None
    for channel in tried:
        if refusals[channel] != BlockReason.NO_ADDRESS:
            return channel, refusals[channel]
    return tried[0], BlockReason.NO_ADDRESS
