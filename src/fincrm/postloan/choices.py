from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fincrm.analytics.postloan import AMOUNT_OVER_DISBURSED, PAYEE_IS_BORROWER, PAYEE_IS_RELATED


class EvidenceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoices")
    PAYEE_CONTRACT = "payee_contract", _("Contract with the payee")
    BANK_STATEMENT = "bank_statement", _("Bank statement of the payment")


class EvidenceStatus(models.TextChoices):
    MISSING = "missing", pgettext_lazy("evidence", "Missing")
    RECEIVED = "received", pgettext_lazy("evidence", "Awaiting review")
    ACCEPTED = "accepted", pgettext_lazy("evidence", "Accepted")
    REJECTED = "rejected", pgettext_lazy("evidence", "Rejected")


#: Not proven: what the deadline counts (an item waiting for review was provided in time).
UNPROVEN = (EvidenceStatus.MISSING, EvidenceStatus.REJECTED)

FLAG_LABELS = {
    PAYEE_IS_BORROWER: _("the payee is the borrower itself"),
    PAYEE_IS_RELATED: _("the payee is a related party of the borrower"),
    AMOUNT_OVER_DISBURSED: _("the amount is more than was disbursed"),
}


class GuaranteeKind(models.TextChoices):
    GUARANTEE = "guarantee", _("Guarantee (suretyship)")
    MORTGAGE = "mortgage", _("Mortgage")
    PLEDGE = "pledge", _("Pledge")


class ClaimStatus(models.TextChoices):
    FILED = "filed", pgettext_lazy("claim", "Filed")
    PAID = "paid", pgettext_lazy("claim", "Paid")
    REJECTED = "rejected", pgettext_lazy("claim", "Rejected")
