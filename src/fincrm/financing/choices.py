from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProductType(models.TextChoices):
    WORKING_CAPITAL = "working_capital", _("Working-capital loan")
    EQUIPMENT_LEASING = "equipment_leasing", _("Equipment leasing")
    FACTORING = "factoring", _("Factoring")
    SUPPLY_CHAIN = "supply_chain", _("Supply-chain finance")
    PROJECT = "project", _("Project finance")
    BILL_DISCOUNTING = "bill_discounting", _("Bill discounting")


class Stage(models.TextChoices):
    LEAD = "lead", _("Lead")
    SUBMITTED = "submitted", _("Submitted")
    DOCUMENTS = "documents", _("Documents")
    DUE_DILIGENCE = "due_diligence", _("Due diligence")
    CREDIT_REVIEW = "credit_review", _("Credit review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CONTRACT = "contract", _("Contract")
    DISBURSED = "disbursed", _("Disbursed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: The pipeline: which stage may follow which. Rejection ends an application at review;
#: a client may withdraw at any open stage.
STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.LEAD: frozenset({Stage.SUBMITTED, Stage.WITHDRAWN}),
    Stage.SUBMITTED: frozenset({Stage.DOCUMENTS, Stage.WITHDRAWN}),
    Stage.DOCUMENTS: frozenset({Stage.DUE_DILIGENCE, Stage.WITHDRAWN}),
    Stage.DUE_DILIGENCE: frozenset({Stage.CREDIT_REVIEW, Stage.DOCUMENTS, Stage.WITHDRAWN}),
    Stage.CREDIT_REVIEW: frozenset({Stage.APPROVED, Stage.REJECTED, Stage.DUE_DILIGENCE}),
    Stage.APPROVED: frozenset({Stage.CONTRACT, Stage.WITHDRAWN}),
    Stage.CONTRACT: frozenset({Stage.DISBURSED, Stage.WITHDRAWN}),
    Stage.REJECTED: frozenset(),
    Stage.DISBURSED: frozenset(),
    Stage.WITHDRAWN: frozenset(),
}

#: Stages in pipeline order, for progress bars and funnels.
PIPELINE: tuple[str, ...] = (
    Stage.LEAD,
    Stage.SUBMITTED,
    Stage.DOCUMENTS,
    Stage.DUE_DILIGENCE,
    Stage.CREDIT_REVIEW,
    Stage.APPROVED,
    Stage.CONTRACT,
    Stage.DISBURSED,
)
CLOSED_STAGES = frozenset({Stage.REJECTED, Stage.DISBURSED, Stage.WITHDRAWN})


class DocumentKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    ID_CARD = "id_card", _("ID card of the legal representative")
    FINANCIAL_STATEMENTS = "financial_statements", _("Financial statements (3 years)")
    BANK_STATEMENTS = "bank_statements", _("Bank statements (12 months)")
    TAX_RECORDS = "tax_records", _("Tax records")
    TRADE_CONTRACTS = "trade_contracts", _("Trade contracts and invoices")
    COLLATERAL = "collateral", _("Collateral title documents")
    EQUIPMENT_QUOTE = "equipment_quote", _("Equipment quotation")
    PROJECT_PLAN = "project_plan", _("Project feasibility study")


class DocumentStatus(models.TextChoices):
    MISSING = "missing", _("Missing")
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class GuaranteeType(models.TextChoices):
    CREDIT = "credit", _("Unsecured (credit)")
    GUARANTEE = "guarantee", _("Third-party guarantee")
    MORTGAGE = "mortgage", _("Mortgage")
    PLEDGE = "pledge", _("Pledge")
    RECEIVABLES = "receivables", _("Receivables assignment")


class TrancheStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DISBURSED = "disbursed", pgettext_lazy("tranche", "Disbursed")
    CANCELLED = "cancelled", _("Cancelled")


class FacilityStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    WRITTEN_OFF = "written_off", _("Written off")


class LoanClass(models.TextChoices):
    """China's five-tier loan classification (贷款五级分类)."""

    NORMAL = "normal", pgettext_lazy("loan class", "Normal")
    SPECIAL_MENTION = "special_mention", _("Special mention")
    SUBSTANDARD = "substandard", _("Substandard")
    DOUBTFUL = "doubtful", _("Doubtful")
    LOSS = "loss", _("Loss")


def pipeline_choices() -> list[tuple[str, str]]:
    """(stage, label) in pipeline order, for progress bars."""
    return [(stage, Stage(stage).label) for stage in PIPELINE]


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALMENT = "equal_instalment", _("Equal instalments (principal and interest)")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")
    INTEREST_ONLY = "interest_only", _("Interest first, principal at maturity")
    BULLET = "bullet", _("Principal and interest at maturity")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class DayCount(models.TextChoices):
    THIRTY_360 = "30/360", "30/360"
    ACT_360 = "act/360", "ACT/360"
    ACT_365 = "act/365", "ACT/365"


class Channel(models.TextChoices):
    STAFF = "staff", _("Opened by staff")
    PORTAL = "portal", _("Applied in the portal")
    RECOMMENDATION = "recommendation", _("From a recommendation")
    RENEWAL = "renewal", _("Renewal")


class Route(models.TextChoices):
    STANDARD = "standard", _("Standard")
    GREEN = "green", _("Green channel")


class Vote(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class AutoDecision(models.TextChoices):
    """What the automatic-decision rule did when an application reached credit review."""

    APPROVED = "approved", _("Approved by the rule")
    SAMPLED = "sampled", _("Within the rule, sampled for a person's review")
    REFERRED = "referred", _("Outside the rule, referred to the approvers")


#: The role recorded on a vote cast by the automatic-decision rule, and its name.
RULE_ROLE = "rule"
AUTOMATIC_RULE = _("automatic-decision rule")


class FeeKind(models.TextChoices):
    UPFRONT = "upfront", _("Arrangement fee")
    SERVICE = "service", _("Service fee")
    PENALTY = "penalty", _("Penalty interest")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REVERSAL = "reversal", _("Reversal")
    RECOVERY = "recovery", _("Recovery after write-off")


class Overpayment(models.TextChoices):
    HOLD = "hold", _("Apply to the next instalments")
    REDUCE_TENOR = "reduce_tenor", _("Prepay: shorter tenor")
    REDUCE_INSTALMENT = "reduce_instalment", _("Prepay: lower instalment")


class CollectionStep(models.TextChoices):
    SMS = "sms", _("SMS reminder")
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Formal letter")
    GUARANTOR = "guarantor", _("Guarantor notice")
    LEGAL = "legal", _("Legal action")
    PROMISE_BROKEN = "promise_broken", _("Broken promise follow-up")


class CollectionOutcome(models.TextChoices):
    CONTACTED = "contacted", _("Contacted")
    PROMISE = "promise", _("Promise to pay")
    REFUSED = "refused", _("Refused to pay")
    UNREACHABLE = "unreachable", _("Unreachable")
    PAID = "paid", _("Paid")


class CollectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled (arrears cleared)")


class PromiseStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


#: The rungs of the dunning ladder worked with a letter from a template.
LETTER_STEPS = (CollectionStep.LETTER, CollectionStep.GUARANTOR, CollectionStep.LEGAL)


#: The files a letter is produced as (a plain list, not choices: "pdf" is a file extension
#: on every page, not a code to translate).
LETTER_FORMATS = [("pdf", "PDF"), ("docx", "Word")]


class ModificationKind(models.TextChoices):
    EXTENSION = "extension", _("Extension")
    RESTRUCTURING = "restructuring", _("Restructuring")


class ModificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
