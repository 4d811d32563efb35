"""The policy: every weight, cut-off, grade band, control, warning rule, segment and plan.

A validated, immutable config (pydantic). The Django side stores versions of it as JSON and
each snapshot records the version that produced it; :func:`default_policy` is the version
shipped in code. Nothing here imports Django.

One module per part of the policy: :mod:`.base` (the shared vocabulary), :mod:`.value`,
:mod:`.credit`, :mod:`.service`, :mod:`.lending`, :mod:`.staff`, and :mod:`.config` (the whole
policy, its default and its validation). Each part keeps its shipped defaults beside its
schema (they are the schema's default factories). Every name is importable from here.
"""

from .base import CHANNELS, LIFECYCLE_STAGES, SEVERITIES, SEVERITY, TIER, TIERS
from .config import PolicyConfig, default_policy, policy_errors
from .credit import (
    ChecksRules,
    ExpertGradeRules,
    ExpertScorecard,
    GradeBand,
    GradeControls,
    LoanClassRules,
    ScorecardScaling,
    WarningRule,
)
from .lending import (
    AuthorityRule,
    AutoApproval,
    CoverRules,
    DunningStep,
    ExtensionLimit,
    LendingRules,
    PricingRules,
    TenorPremium,
    UseOfFundsRules,
)
from .service import (
    MESSAGE_CHANNEL,
    OCCASION,
    OCCASIONS,
    CarePlan,
    LoyaltyProgram,
    MembershipLevel,
    MessagingRules,
    Reward,
    ServicePlan,
    ServiceRules,
    SlaRule,
    SurveyRules,
)
from .staff import IncentiveMeasure, StaffIncentive, StaffTraining
from .value import (
    DEFAULT_GRADE_POINTS,
    DEFAULT_INDUSTRY_OUTLOOK,
    Clustering,
    Condition,
    ContributionRules,
    LifecycleRules,
    LoyaltyRules,
    PotentialRules,
    PredictionRules,
    RiskRules,
    SegmentRule,
    SizeBand,
    TierRules,
    Weights,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_GRADE_POINTS",
    "DEFAULT_INDUSTRY_OUTLOOK",
    "LIFECYCLE_STAGES",
    "MESSAGE_CHANNEL",
    "OCCASION",
    "OCCASIONS",
    "SEVERITIES",
    "SEVERITY",
    "TIER",
    "TIERS",
    "AuthorityRule",
    "AutoApproval",
    "CarePlan",
    "ChecksRules",
    "Clustering",
    "Condition",
    "ContributionRules",
    "CoverRules",
    "DunningStep",
    "ExpertGradeRules",
    "ExpertScorecard",
    "ExtensionLimit",
    "GradeBand",
    "GradeControls",
    "IncentiveMeasure",
    "LendingRules",
    "LifecycleRules",
    "LoanClassRules",
    "LoyaltyProgram",
    "LoyaltyRules",
    "MembershipLevel",
    "MessagingRules",
    "PolicyConfig",
    "PotentialRules",
    "PredictionRules",
    "PricingRules",
    "Reward",
    "RiskRules",
    "ScorecardScaling",
    "SegmentRule",
    "ServicePlan",
    "ServiceRules",
    "SizeBand",
    "SlaRule",
    "StaffIncentive",
    "StaffTraining",
    "SurveyRules",
    "TenorPremium",
    "TierRules",
    "UseOfFundsRules",
    "WarningRule",
    "Weights",
    "default_policy",
    "policy_errors",
]
