"""Service: plans per tier, SLAs, surveys, care, messaging limits and the loyalty programme."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from .base import CHANNELS, SEVERITY, TIER, _Config


class ServicePlan(_Config):
    contact_every_days: int = Field(gt=0)
    priority_channel: CHANNELS
    green_channel: bool = False
    recommend_products: bool = True
    report_every_days: int | None = Field(None, gt=0)


OCCASIONS: tuple[str, ...] = (
    "birthday", "contact_birthday", "founding_anniversary",
    "new_year", "spring_festival", "dragon_boat", "mid_autumn", "national_day",
)  # fmt: skip

OCCASION = Literal[
    "birthday", "contact_birthday", "founding_anniversary",
    "new_year", "spring_festival", "dragon_boat", "mid_autumn", "national_day",
]  # fmt: skip


class SlaRule(_Config):
    """Response and resolution windows of a complaint or request of one severity."""

    respond_hours: float = Field(gt=0)
    resolve_hours: float = Field(gt=0)
    #: Count only working hours of working days (Chinese holidays and make-up days).
    business_days: bool = True

    @model_validator(mode="after")
    def _order(self) -> SlaRule:
        if self.resolve_hours < self.respond_hours:
            raise ValueError("resolve_hours must not be shorter than respond_hours")
        return self


def _sla() -> dict[SEVERITY, SlaRule]:
    return {
        "low": SlaRule(respond_hours=16, resolve_hours=72),
        "medium": SlaRule(respond_hours=8, resolve_hours=40),
        "high": SlaRule(respond_hours=4, resolve_hours=16),
        "critical": SlaRule(respond_hours=2, resolve_hours=24, business_days=False),
    }


class ServiceRules(_Config):
    sla: dict[SEVERITY, SlaRule] = Field(default_factory=_sla)
    #: A ticket is "at risk" when less than this share of its window is left.
    at_risk_share: float = Field(0.2, gt=0, lt=1)
    #: Follow-up visits (回访): after a disbursement, after a complaint is closed, and this
    #: many days before a facility matures.
    follow_up_after_disbursement_days: int = Field(7, ge=0)
    follow_up_after_complaint_days: int = Field(3, ge=0)
    follow_up_before_maturity_days: int = Field(60, ge=1)


class SurveyRules(_Config):
    #: An answer at or below these opens a follow-up task for the account manager.
    low_nps: int = Field(6, ge=0, le=10)
    low_rating: int = Field(2, ge=1, le=5)
    #: Driver analysis below this many complete responses carries a warning.
    min_responses: int = Field(30, ge=5)
    annual_every_days: int = Field(365, gt=0)


class CarePlan(_Config):
    occasions: list[OCCASION]
    channel: CHANNELS
    #: Days ahead of the occasion the care task falls due.
    lead_days: int = Field(3, ge=0, le=60)
    gift: bool = False


def _care() -> dict[TIER, CarePlan]:
    everything = list(OCCASIONS)
    return {
        "core": CarePlan(occasions=everything, channel="visit", lead_days=7, gift=True),
        "key": CarePlan(occasions=["birthday", "contact_birthday", "founding_anniversary",
                                   "spring_festival", "mid_autumn"], channel="phone",
                        lead_days=5, gift=True),
        "ordinary": CarePlan(occasions=["birthday", "spring_festival", "mid_autumn"],
                             channel="wechat"),
        "low": CarePlan(occasions=["spring_festival"], channel="sms", lead_days=1),
    }  # fmt: skip


MESSAGE_CHANNEL = Literal["sms", "wechat", "email"]


def _caps() -> dict[TIER, dict[MESSAGE_CHANNEL, int]]:
    return {
        "core": {"sms": 4, "wechat": 6, "email": 6},
        "key": {"sms": 3, "wechat": 4, "email": 4},
        "ordinary": {"sms": 2, "wechat": 3, "email": 3},
        "low": {"sms": 1, "wechat": 2, "email": 2},
    }


class MessagingRules(_Config):
    """What protects clients from the lender's messages (``fincrm.messaging``)."""

    #: No SMS or WeChat message between these local hours (Asia/Shanghai) unless urgent.
    quiet_from_hour: int = Field(21, ge=0, le=23)
    quiet_until_hour: int = Field(8, ge=0, le=23)
    #: At most ``caps[tier][channel]`` messages that are not urgent per client and channel
    #: within ``cap_window_days``.
    cap_window_days: int = Field(7, gt=0, le=90)
    caps: dict[TIER, dict[MESSAGE_CHANNEL, int]] = Field(default_factory=_caps)


class Reward(_Config):
    code: str
    name_zh: str
    name_en: str
    points: int = Field(gt=0)


class MembershipLevel(_Config):
    code: str
    name_zh: str
    name_en: str
    min_points: int = Field(ge=0)
    #: The lowest value tier that may hold this level.
    min_tier: TIER = "low"


EARNING = Literal["on_time_repayment", "renewal", "referral", "survey_answered", "event_attendance"]


def _earn() -> dict[EARNING, int]:
    return {
        "on_time_repayment": 10,
        "renewal": 500,
        "referral": 300,
        "survey_answered": 50,
        # Checked in at a forum, seminar, training day or client gathering (fincrm.events).
        "event_attendance": 100,
    }


class LoyaltyProgram(_Config):
    earn: dict[EARNING, int] = Field(default_factory=_earn)
    #: Points expire this many months after they were earned (oldest used first).
    expiry_months: int = Field(24, ge=1)
    rewards: list[Reward] = Field(
        default_factory=lambda: [
            Reward(code="fee_discount_500", name_zh="手续费减免 500 元",
                   name_en="500 CNY fee discount", points=1000),
            Reward(code="fee_discount_2000", name_zh="手续费减免 2000 元",
                   name_en="2,000 CNY fee discount", points=3500),
            Reward(code="industry_report", name_zh="行业研究报告",
                   name_en="Industry research report", points=300),
            Reward(code="finance_training", name_zh="财务管理培训名额",
                   name_en="Seat at a finance training", points=800),
        ]
    )  # fmt: skip
    levels: list[MembershipLevel] = Field(
        default_factory=lambda: [
            MembershipLevel(code="standard", name_zh="普通会员", name_en="Standard", min_points=0),
            MembershipLevel(code="silver", name_zh="银卡会员", name_en="Silver", min_points=500,
                            min_tier="ordinary"),
            MembershipLevel(code="gold", name_zh="金卡会员", name_en="Gold", min_points=2000,
                            min_tier="key"),
            MembershipLevel(code="diamond", name_zh="钻石会员", name_en="Diamond",
                            min_points=5000, min_tier="core"),
        ]
    )  # fmt: skip

    @model_validator(mode="after")
    def _levels(self) -> LoyaltyProgram:
        if not self.levels or self.levels[0].min_points != 0:
            raise ValueError("levels: the first level must start at 0 points")
        if any(b.min_points <= a.min_points for a, b in pairwise(self.levels)):
            raise ValueError("levels: min_points must increase")
        codes = [r.code for r in self.rewards]
        if len(set(codes)) != len(codes):
            raise ValueError("rewards: codes must be unique")
        return self


def _plans() -> dict[TIER, ServicePlan]:
    return {
        "core": ServicePlan(contact_every_days=14, priority_channel="visit", green_channel=True,
                            recommend_products=True, report_every_days=30),
        "key": ServicePlan(contact_every_days=30, priority_channel="phone",
                           recommend_products=True, report_every_days=90),
        "ordinary": ServicePlan(contact_every_days=90, priority_channel="wechat"),
        "low": ServicePlan(contact_every_days=180, priority_channel="sms",
                           recommend_products=False),
    }  # fmt: skip
