from django.db import models
from django.utils.translation import gettext_lazy as _


class FindingCategory(models.TextChoices):
    """What a reputation and legal data source reports about a company (seed 004)."""

    DISHONEST = "dishonest", _("Dishonest judgment debtor (失信被执行人)")
    ENFORCEMENT = "enforcement", _("Judgment debtor under enforcement")
    LITIGATION = "litigation", _("Litigation")
    PENALTY = "penalty", _("Administrative penalty")
    REGISTRATION = "registration", _("Change in registration")
    SHAREHOLDER = "shareholder", _("Change in shareholders")


#: Categories that are legal disputes (the value tiering's legal-dispute input).
LEGAL = frozenset(
    {FindingCategory.DISHONEST, FindingCategory.ENFORCEMENT, FindingCategory.LITIGATION}
)


class CheckReason(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    PRE_APPROVAL = "pre_approval", _("Before approval")
    MONTHLY = "monthly", _("Monthly review of the book")
    MANUAL = "manual", _("Asked for by staff")
    IMPORT = "import", _("Imported report")


class CheckStatus(models.TextChoices):
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
