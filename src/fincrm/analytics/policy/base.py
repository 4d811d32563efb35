"""The vocabulary every part of the policy shares: tiers, stages, severities, channels."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

TIERS: tuple[str, ...] = ("core", "key", "ordinary", "low")

LIFECYCLE_STAGES: tuple[str, ...] = ("potential", "new", "active", "dormant", "lost")

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

CHANNELS = Literal["visit", "phone", "wechat", "email", "sms", "meeting"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SEVERITY = Literal["low", "medium", "high", "critical"]

TIER = Literal["core", "key", "ordinary", "low"]
