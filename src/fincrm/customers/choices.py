from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Individual")


class Industry(models.TextChoices):
    """GB/T 4754-2017 sections (门类)."""

    A = "A", _("Agriculture, forestry, animal husbandry and fishery")
    B = "B", _("Mining")
    C = "C", _("Manufacturing")
    D = "D", _("Electricity, heat, gas and water supply")
    E = "E", _("Construction")
    F = "F", _("Wholesale and retail")
    G = "G", _("Transport, storage and postal services")
    H = "H", _("Accommodation and catering")
    I = "I", _("Information transmission, software and IT services")  # noqa: E741
    J = "J", _("Finance")
    K = "K", _("Real estate")
    L = "L", _("Leasing and business services")
    M = "M", _("Scientific research and technical services")
    N = "N", _("Water, environment and public facilities management")
    O = "O", _("Resident services, repair and other services")  # noqa: E741
    P = "P", _("Education")
    Q = "Q", _("Health and social work")
    R = "R", _("Culture, sports and entertainment")
    S = "S", _("Public administration, social security and social organisations")
    T = "T", _("International organisations")


class CityTier(models.TextChoices):
    TIER_1 = "1", _("Tier 1")
    NEW_TIER_1 = "new1", _("New tier 1")
    TIER_2 = "2", _("Tier 2")
    TIER_3 = "3", _("Tier 3")
    TIER_4_PLUS = "4", _("Tier 4 and below")


class ClientType(models.TextChoices):
    SME_OWNER = "sme_owner", _("Individual SME owner")
    SME = "sme", _("SME")
    LARGE_ENTERPRISE = "large", _("Large enterprise")
    INSTITUTION = "institution", _("Institution")
    HIGH_NET_WORTH = "hnw", _("High-net-worth individual")


#: Client types that are people, not organisations.
PERSON_CLIENT_TYPES = frozenset({ClientType.SME_OWNER, ClientType.HIGH_NET_WORTH})


class NeedsLevel(models.TextChoices):
    BASIC = "basic", _("Basic")
    COMPREHENSIVE = "comprehensive", _("Comprehensive")
    PREMIUM = "premium", _("High-end")  # not "Premium": that is an insurance premium (保费)


class RiskAppetite(models.TextChoices):
    CONSERVATIVE = "conservative", _("Conservative")
    STEADY = "steady", _("Steady")
    AGGRESSIVE = "aggressive", _("Aggressive")


class SourceChannel(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    BRANCH = "branch", _("Branch walk-in")
    ONLINE = "online", _("Online")
    PARTNER = "partner", _("Partner / supply chain anchor")
    EVENT = "event", _("Event")
    COLD_CALL = "cold_call", _("Outbound call")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")
