from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REQUEST = "request", _("Request")


class TicketCategory(models.TextChoices):
    """Matches the categoriser's codes (``fincrm.analytics.text.CATEGORY_RULES``)."""

    FEES = "fees", _("Fees and pricing")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    PROCESSING_SPEED = "processing_speed", _("Processing speed")
    REPAYMENT = "repayment", _("Repayment and collection")
    DOCUMENTS = "documents", _("Documents and contracts")
    SYSTEM = "system", _("Online systems")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class RootCause(models.TextChoices):
    PROCESS = "process", _("Process design")
    STAFF = "staff", _("Staff conduct or skill")
    SYSTEM = "system", _("System fault")
    POLICY = "policy", _("Pricing or credit policy")
    COMMUNICATION = "communication", _("Communication gap")
    CLIENT = "client", _("Client misunderstanding")
    THIRD_PARTY = "third_party", _("Third party")


class SuggestionSource(models.TextChoices):
    """What proposed a ticket's category (``fincrm.analytics.text.Suggestion.source``)."""

    MODEL = "model", _("trained classifier")
    RULES = "rules", _("keyword rules")


class SlaState(models.TextChoices):
    MET = "met", _("Met")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


class TicketSource(models.TextChoices):
    STAFF = "staff", _("Logged by staff")
    PORTAL = "portal", _("Client portal")
    API = "api", _("API")
