from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ScoreMethod(models.TextChoices):
    SCORECARD = "scorecard", _("Statistical scorecard")
    EXPERT = "expert", _("Expert rule")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


#: An alert in one of these no longer asks anyone to act (and may fire again after the
#: rule's cool-down).
CLOSED_ALERT_STATUSES = (AlertStatus.RESOLVED, AlertStatus.DISMISSED)


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class SwitchStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ReviewFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


FREQUENCY_DAYS = {
    ReviewFrequency.MONTHLY: 30,
    ReviewFrequency.QUARTERLY: 91,
    ReviewFrequency.HALF_YEARLY: 182,
    ReviewFrequency.YEARLY: 365,
}


class ReviewStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")


class ReviewDecision(models.TextChoices):
    KEEP = "keep", _("Keep limits")
    TIGHTEN = "tighten", _("Tighten limits")
    LOOSEN = "loosen", _("Loosen limits")
    ADD_GUARANTEE = "add_guarantee", _("Require an additional guarantee")
    FREEZE = "freeze", _("Freeze the facility")
    CALL_IN = "call_in", _("Call in the facility")


class EffectStatus(models.TextChoices):
    """A review decision that changes a facility waits for a second person's approval."""

    PENDING = "pending", _("Awaiting approval")
    APPLIED = "applied", _("Approved and applied")
    REJECTED = "rejected", _("Not approved")


#: Human names of early-warning signals (codes from the policy's rules).
SIGNAL_LABELS = {
    "current_dpd": _("Days past due"),
    "utilisation_change": _("Utilisation change"),
    "revenue_change": _("Revenue change between statements"),
    "ocf_change": _("Operating cash flow change"),
    "current_ratio": _("Current ratio"),
    "debt_to_asset": _("Debt-to-asset ratio"),
    "score_change": _("Credit score change"),
    "complaints_90d": _("Complaints in 90 days"),
    "days_since_successful_contact": _("Days since the client was last reached"),
    "maturity_without_renewal_days": _("Days to maturity without a renewal"),
    "external_findings": _("New court, litigation or penalty records"),
    "funds_evidence_overdue": _("Evidence of the use of funds overdue"),
    "funds_payee_mismatch": _("Payee not fitting the use of funds"),
}


RATIO_LABELS = {
    "current_ratio": _("Current ratio"),
    "quick_ratio": _("Quick ratio"),
    "debt_to_asset": _("Debt to assets"),
    "interest_coverage": _("Interest coverage"),
    "net_margin": _("Net margin"),
    "roa": _("Return on assets"),
    "revenue_growth": _("Revenue growth"),
    "ocf_to_debt": _("Operating cash flow to debt"),
    "receivable_turnover": _("Receivable turnover"),
    "inventory_turnover": _("Inventory turnover"),
}
#: Ratios shown as percentages; the others as multiples.
PERCENT_RATIOS = frozenset({"debt_to_asset", "net_margin", "roa", "revenue_growth", "ocf_to_debt"})
#: Names of the characteristics whose points make a credit score (expert rule and scorecard).
FACTOR_LABELS = {
    **RATIO_LABELS,
    "base": _("Base points"),
    "arrears": _("Arrears (max days past due, 12 months)"),
    "leverage": _("Leverage"),
    "liquidity": _("Liquidity"),
    "coverage": _("Interest coverage"),
    "growth": _("Revenue growth"),
    "tenure": _("Relationship tenure"),
    "max_dpd_12m": _("Max days past due, 12 months"),
    "tenure_days": _("Relationship tenure"),
    "utilisation": _("Limit utilisation"),
}

#: Human names of the default policy's early-warning rules (a rule an administrator adds
#: is shown by its signal and threshold).
RULE_LABELS = {
    "dpd_1": _("Overdue"),
    "dpd_15": _("15+ days overdue"),
    "dpd_30": _("30+ days overdue"),
    "dpd_60": _("60+ days overdue"),
    "dpd_90": _("90+ days overdue"),
    "utilisation_spike": _("Utilisation spike"),
    "revenue_drop": _("Revenue drop"),
    "cash_flow_drop": _("Cash flow drop"),
    "current_ratio_breach": _("Current ratio breach"),
    "leverage_breach": _("Leverage breach"),
    "score_drop": _("Credit score drop"),
    "complaints": _("Repeated complaints"),
    "contact_lost": _("Contact lost"),
    "maturity_no_renewal": _("Maturing without renewal"),
    "external_finding": _("Court or penalty record found"),
    "funds_evidence_overdue": _("Use of funds not proven in time"),
    "funds_payee_mismatch": _("Payee does not fit the use of funds"),
}

#: Names of the expert scorecard's parameters (``policy.scorecard.expert``), as the model
#: page lists them: ln(odds of default) = base + the terms each parameter sets.
EXPERT_PARAM_LABELS = {
    "base_logit": _("Base log-odds of default"),
    "arrears_per_day": _("Log-odds added per day past due"),
    "arrears_cap_days": _("Days past due counted at most"),
    "leverage_above": _("Debt-to-assets above which leverage counts"),
    "leverage_per_unit": _("Log-odds added per unit of debt-to-assets above it"),
    "low_leverage_below": _("Debt-to-assets below which leverage is low"),
    "low_leverage_bonus": _("Log-odds taken off for low leverage"),
    "illiquid_below": _("Current ratio below which a client is illiquid"),
    "illiquid_penalty": _("Log-odds added when illiquid"),
    "coverage_above": _("Interest coverage above which it is comfortable"),
    "coverage_bonus": _("Log-odds taken off for comfortable coverage"),
    "growth_weight": _("Log-odds taken off per unit of revenue growth"),
    "growth_cap": _("Revenue growth counted at most (±)"),
    "tenure_full_days": _("Days as a client for the full tenure bonus"),
    "tenure_bonus": _("Log-odds taken off for a full tenure"),
}

#: The security a grade's controls ask for (``GradeControls.guarantee`` in the policy).
SECURITY_LABELS = {
    "none": _("No security"),
    "guarantee": _("Guarantee"),
    "collateral": _("Collateral"),
    "guarantee_and_collateral": _("Guarantee and collateral"),
}
