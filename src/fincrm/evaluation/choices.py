from django.db import models
from django.utils.translation import gettext_lazy as _

# The classification vocabulary lives in core (every app speaks it); re-exported here.
from fincrm.core.classes import SIZE_BAND_LABELS, Grade, Lifecycle, Tier  # noqa: F401


class RunKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")
    EVENT = "event", _("Single client")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


#: Names of the evaluation frame's features that the policy may cluster on or score with.
FEATURE_LABELS = {
    "revenue": _("Revenue"),
    "revenue_growth": _("Revenue growth"),
    "approved_limit": _("Approved limits"),
    "balance": _("Outstanding balance"),
    "tenure_days": _("Days as a client"),
    "interactions_12m": _("Contacts in 12 months"),
    "max_dpd_12m": _("Worst days past due in 12 months"),
    "utilisation": _("Limit utilisation"),
    "complaints_90d": _("Complaints in 90 days"),
    "nps": _("NPS"),
    "clv": _("Customer lifetime value"),
    "interest_income_12m": _("Interest earned in 12 months"),
    "products": _("Products held"),
}


#: The value score's sub-scores, and each input with where it comes from (the policy page).
SUB_SCORE_LABELS = {
    "contribution": _("Contribution"),
    "potential": _("Potential"),
    "loyalty": _("Loyalty"),
    "risk": _("Risk"),
}
VALUE_INPUT_LABELS = {
    "interest_fee_income": (
        _("Interest and fee income, 12 months"),
        _("interest paid on instalments and the fees recorded on facilities"),
    ),
    "balance": (_("Outstanding balance"), _("drawn amounts of active facilities")),
    "tenure": (_("Days as a client"), _("since the first facility started")),
    "revenue_growth": (_("Revenue growth"), _("the latest two financial statements")),
    "industry_outlook": (_("Industry outlook"), _("the policy's rating of the client's industry")),
    "unused_limit": (_("Unused limit"), _("approved limits less the balance")),
    "predicted_demand": (
        _("Predicted financing demand"),
        _("the latest prediction run's next need and its confidence"),
    ),
    "renewals": (
        _("Renewals"),
        _("facilities starting around an earlier one's maturity (the policy's window)"),
    ),
    "product_count": (_("Product types used"), _("products of the client's facilities")),
    "share_of_wallet": (
        _("Share of wallet"),
        _("our balance over the total liabilities of the latest statement"),
    ),
    "responsiveness": (_("Responsiveness"), _("contacts that reached the client, 12 months")),
    "satisfaction": (
        _("Satisfaction"),
        _("the latest survey's NPS answer, else its overall rating on the same scale"),
    ),
    "knowledge_reads": (
        _("Knowledge reads"),
        _("articles of the knowledge library read in the portal, 12 months"),
    ),
    "event_attendance": (
        _("Event attendance"),
        _("events checked in at of those invited to, 12 months"),
    ),
    "referrals": (
        _("Referrals"),
        _("clients it referred (the referrer on their record) that hold or held a facility"),
    ),
    "credit_grade": (_("Credit grade"), _("the latest credit assessment's grade points")),
    "arrears": (_("Arrears"), _("worst days past due in 12 months, as a penalty")),
    "open_warnings": (_("Open early-warning alerts"), _("a penalty per open alert")),
    "legal_disputes": (
        _("Open legal disputes"),
        _(
            "dishonest-debtor, enforcement and litigation findings of external checks, a "
            "penalty per dispute; never checked: unknown, named in the reasons"
        ),
    ),
}
