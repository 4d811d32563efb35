from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.accounts.choices import Role
from fincrm.core.permissions import CustomerOwnedQuerySet, RestrictedQuerySet
from fincrm.core.validators import validate_ric, validate_uscc

from .choices import (
    Channel,
    CityTier,
    ClientType,
    CustomerKind,
    ImportJobStatus,
    Industry,
    NeedsLevel,
    RiskAppetite,
    SourceChannel,
)

#: The labels of the choice columns the client list shows, looked up in one dict: Django's
#: own ``get_FOO_display`` builds a hashable copy of every choice on each call, and the list
#: calls it four times a row (100 a page, ~5 ms of its time at 100k on SQLite).
_INDUSTRY_LABELS = dict(Industry.choices)
_CLIENT_TYPE_LABELS = dict(ClientType.choices)
_CITY_TIER_LABELS = dict(CityTier.choices)


def _label(labels: dict, value):
    """What ``get_FOO_display`` returns: the label in the active language, else the value."""
    return force_str(labels.get(value, value), strings_only=True)


MSG_COMPANY_NEEDS_USCC = _("A company needs a unified social credit code and no resident ID.")
MSG_PERSON_NEEDS_RIC = _("An individual needs a resident ID number and no credit code.")
MSG_SELF_REFERRAL = _("A client cannot refer itself.")
MSG_REFERRAL_CYCLE = _(
    "%(referrer)s was itself brought in by this client (directly or through others): a "
    "referral cannot go round in a circle."
)

MONEY = {"max_digits": 18, "decimal_places": 2}


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(RestrictedQuerySet):
    owner_field = "owner"
    team_field = "team"


class Customer(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_uscc],
    )
    id_number = models.CharField(
        _("resident ID number"),
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_ric],
    )
    # Indexed for prefix search in Meta (one index, not Django's plain + pattern pair).
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices)
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30)
    city_tier = models.CharField(_("city tier"), max_length=4, choices=CityTier.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    registered_capital = models.DecimalField(
        _("registered capital (CNY)"), null=True, blank=True, **MONEY
    )
    annual_revenue = models.DecimalField(_("annual revenue (CNY)"), null=True, blank=True, **MONEY)
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    client_type = models.CharField(_("client type"), max_length=12, choices=ClientType.choices)
    needs_level = models.CharField(
        _("needs level"), max_length=14, choices=NeedsLevel.choices, default=NeedsLevel.BASIC
    )
    risk_appetite = models.CharField(
        _("risk appetite"),
        max_length=12,
        choices=RiskAppetite.choices,
        default=RiskAppetite.STEADY,
    )
    source_channel = models.CharField(
        _("source channel"), max_length=12, choices=SourceChannel.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        db_index=False,  # the (owner or team, -created_at) index in Meta serves it
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        db_index=False,  # the (owner or team, -created_at) index in Meta serves it
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    #: The client who introduced this one (issue 21, point 5): a referral is a link, so the
    #: referrer's value counts the clients it brought who became active.
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    founded_on = models.DateField(_("founding date"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    # The history is read per client (id) and by user and date (the audit page): the copies
    # of the client's own search indexes would only slow every write down.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        no_db_index=[
            "name",
            "credit_code",
            "id_number",
            "created_at",
            "owner",
            "team",
            "referred_by",
        ],
    )
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's default order is (-created_at, -id): the id in the index too, or a
            # filtered first page sorts every client sharing a timestamp (a bulk import's or the
            # demo's batch writes thousands at once: 14-27 ms against 0.3 ms at 100k on SQLite).
            models.Index(fields=["owner", "-created_at", "-id"]),
            models.Index(fields=["team", "-created_at", "-id"]),
            models.Index(fields=["industry", "-created_at", "-id"]),
            models.Index(fields=["city_tier", "-created_at", "-id"]),
            models.Index(fields=["province", "city"]),
            models.Index(fields=["client_type"]),
            # The list's sorts: an index per sort key serves its first page without a sort.
            models.Index(fields=["-annual_revenue", "-id"]),
            models.Index(fields=["-registered_capital", "-id"]),
            # Phone search is by prefix (LIKE 'x%'): the pattern operator class on PostgreSQL
            # (other databases ignore it), which also serves equality.
            models.Index(
                fields=["phone"], name="customers_phone_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="customer_identifier_matches_kind",
                condition=(
                    Q(kind="company", credit_code__isnull=False, id_number__isnull=True)
                    | Q(kind="person", id_number__isnull=False, credit_code__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def get_industry_display(self):
        return _label(_INDUSTRY_LABELS, self.industry)

    def get_client_type_display(self):
        return _label(_CLIENT_TYPE_LABELS, self.client_type)

    def get_city_tier_display(self):
        return _label(_CITY_TIER_LABELS, self.city_tier)

    @property
    def is_company(self) -> bool:
        return self.kind == CustomerKind.COMPANY

    @property
    def identifier(self) -> str:
        return (self.credit_code if self.is_company else self.id_number) or ""

    def clean(self) -> None:
        if self.kind == CustomerKind.COMPANY and (not self.credit_code or self.id_number):
            raise ValidationError({"credit_code": MSG_COMPANY_NEEDS_USCC})
        if self.kind == CustomerKind.PERSON and (not self.id_number or self.credit_code):
            raise ValidationError({"id_number": MSG_PERSON_NEEDS_RIC})
        # Not a CHECK constraint: adding one makes SQLite rebuild the client table (and its
        # search index's triggers); a cycle through others is the service's check.
        if self.pk is not None and self.referred_by_id == self.pk:
            raise ValidationError({"referred_by": MSG_SELF_REFERRAL})


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("role"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=60, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE
    )
    is_key = models.BooleanField(_("key contact"), default=False)

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_key", "name"]

    def __str__(self) -> str:
        return self.name


class FinancialStatement(models.Model):
    """One period's figures for a client, in CNY."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="financial_statements",
    )
    period_end = models.DateField(_("period end"))
    revenue = models.DecimalField(_("revenue"), **MONEY)
    cost = models.DecimalField(_("cost of sales"), **MONEY)
    net_profit = models.DecimalField(_("net profit"), **MONEY)
    total_assets = models.DecimalField(_("total assets"), **MONEY)
    total_liabilities = models.DecimalField(_("total liabilities"), **MONEY)
    current_assets = models.DecimalField(_("current assets"), **MONEY)
    current_liabilities = models.DecimalField(_("current liabilities"), **MONEY)
    inventory = models.DecimalField(_("inventory"), **MONEY)
    receivables = models.DecimalField(_("receivables"), **MONEY)
    operating_cash_flow = models.DecimalField(_("operating cash flow"), **MONEY)
    interest_expense = models.DecimalField(_("interest expense"), **MONEY)
    audited = models.BooleanField(_("audited"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("financial statement")
        verbose_name_plural = _("financial statements")
        ordering = ["customer", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "period_end"], name="one_statement_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.period_end:%Y-%m}"


class ImportJobQuerySet(models.QuerySet):
    """An import job is its user's business, not a client's: the user who started it and
    admins see it, nobody else (``restrict``, the one permission path of
    ``fincrm.core.permissions``, with this scope)."""

    def restrict(self, user, action: str = "view") -> ImportJobQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser or user.role == Role.ADMIN:
            return self
        return self.filter(user=user)


class ImportJob(models.Model):
    """A large client import run by a background task (``customers.tasks``): its upload (the
    token of ``MEDIA_ROOT/imports/<token>/``), who started it and when, its progress and its
    outcome. The rows it writes are audited as every import's are (history per client)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    token = models.CharField(_("upload"), max_length=64, unique=True)
    filename = models.CharField(_("file"), max_length=200)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=True)
    #: The language of the page that started it: the errors are written in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    #: An estimate from the file (line count), until the job has read every row.
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created = models.PositiveIntegerField(_("clients created"), default=0)
    updated = models.PositiveIntegerField(_("clients updated"), default=0)
    unchanged = models.PositiveIntegerField(_("clients unchanged"), default=0)
    bad_rows = models.PositiveIntegerField(_("bad rows"), default=0)
    #: All or nothing was chosen and a row was bad: nothing was written.
    aborted = models.BooleanField(_("nothing written"), default=False)
    errors_file = models.FileField(_("errors file"), blank=True)
    #: Why the job failed as a whole (an unreadable file, a mapping that no longer fits).
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("customers:import_job", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportJobStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
