"""Resources of the API. Every query starts from ``restrict(user, action)``: a token sees
exactly what its user sees in the pages; writes go through the same services."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import (
    Field,
    FilterLookup,
    FilterSchema,
    ModelSchema,
    Query,
    Router,
    Schema,
    Status,
)
from ninja.pagination import paginate

from fincrm.accounts.models import User
from fincrm.core.api_pagination import KeysetPagination
from fincrm.core.api_types import Id, IsoDate, IsoDatetime, PathId
from fincrm.core.masking import shown
from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.choices import CityTier, ClientType, CustomerKind, Industry
from fincrm.customers.filtersets import search_matches
from fincrm.customers.models import Customer
from fincrm.customers.services import customer_create, customer_update
from fincrm.engagement.choices import InteractionChannel
from fincrm.engagement.models import Interaction
from fincrm.engagement.services import interaction_log
from fincrm.evaluation.models import EvaluationRun, Snapshot, SnapshotRecord
from fincrm.financing.api import (
    ApplicationOut,
    PaymentOut,
    extend_applications,
    extend_facilities,
)
from fincrm.financing.api import register as register_lending
from fincrm.financing.choices import Overpayment
from fincrm.financing.models import Application, Facility, Installment, Payment
from fincrm.financing.selectors import facility_for_servicing
from fincrm.financing.services import installment_report_missed, payment_record
from fincrm.risk.choices import CLOSED_ALERT_STATUSES
from fincrm.risk.models import Alert


def _user(request):
    return request.user


def _visible(model, request, action: str = "view"):
    return model.objects.restrict(_user(request), action)


# --- clients --------------------------------------------------------------------------------

customers = Router(tags=["clients"])


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    credit_code: str | None
    id_number: str | None = Field(None, description="masked unless the role needs it")
    phone: str = Field("", description="masked unless the role needs it")
    email: str
    industry: str
    province: str
    city: str
    city_tier: str
    client_type: str
    annual_revenue: Decimal | None
    owner_id: int | None
    team_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id_number(obj, context):
        return shown(obj.id_number, user=context["request"].user) if obj.id_number else None

    @staticmethod
    def resolve_phone(obj, context):
        return shown(obj.phone, user=context["request"].user) if obj.phone else ""


class CustomerIn(Schema):
    kind: Literal[tuple(CustomerKind.values)]  # type: ignore[valid-type]
    name: str = Field(..., min_length=1, max_length=200)
    credit_code: str | None = Field(None, max_length=18)
    id_number: str | None = Field(None, max_length=18)
    phone: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    industry: Literal[tuple(Industry.values)]  # type: ignore[valid-type]
    province: str = Field(..., min_length=1, max_length=20)
    city: str = Field(..., min_length=1, max_length=30)
    city_tier: Literal[tuple(CityTier.values)] | None = None  # type: ignore[valid-type]
    client_type: Literal[tuple(ClientType.values)]  # type: ignore[valid-type]
    annual_revenue: Decimal | None = Field(None, ge=0, le=Decimal("1e15"), decimal_places=2)


class CustomerPatch(Schema):
    """Only the fields sent change; ``null`` is refused where the field cannot be empty."""

    # ``str`` with a default of None on purpose: a field left out stays unset, and pydantic
    # refuses an explicit null (the default is not validated), hence the ignores below.
    name: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    phone: str = Field(None, max_length=20)  # type: ignore[assignment]
    email: str = Field(None, max_length=254)  # type: ignore[assignment]
    industry: Literal[tuple(Industry.values)] = None  # type: ignore[valid-type]
    province: str = Field(None, min_length=1, max_length=20)  # type: ignore[assignment]
    city: str = Field(None, min_length=1, max_length=30)  # type: ignore[assignment]
    client_type: Literal[tuple(ClientType.values)] = None  # type: ignore[valid-type]
    annual_revenue: Decimal | None = Field(None, ge=0, le=Decimal("1e15"), decimal_places=2)


class CustomerFilter(FilterSchema):
    q: str | None = Field(
        None,
        max_length=100,
        description="name contains, credit code starts with; ID number and phones start with "
        "for roles that see them unmasked, else equal the full value (logged)",
    )
    industry: str | None = Field(None, max_length=1)
    city_tier: str | None = Field(None, max_length=4)
    client_type: str | None = Field(None, max_length=12)
    owner_id: Id | None = None
    tier: Annotated[str | None, FilterLookup("classification__tier")] = Field(None, max_length=10)
    updated_since: Annotated[IsoDatetime | None, FilterLookup("updated_at__gte")] = None
    #: The caller, set by the endpoint: the search sees what this user may see.
    _user: User | None = None

    def filter_q(self, value):
        from django.db.models import Q

        matches = search_matches(value, user=self._user, via="api")
        return Q() if matches is None else Q(pk__in=matches)


@customers.get("/", response=list[CustomerOut])
@paginate(KeysetPagination, orderings=("id", "name", "created_at", "updated_at"))
def customer_list(request, filters: Query[CustomerFilter]):
    filters._user = _user(request)
    return filters.filter(_visible(Customer, request))


@customers.get("/{int:customer_id}", response=CustomerOut)
def customer_detail(request, customer_id: PathId):
    return get_restricted_or_404(_user(request), Customer, pk=customer_id)


@customers.post("/", response={201: CustomerOut})
def customer_new(request, payload: CustomerIn):
    user = _user(request)
    if not user.has_perm("customers.add_customer"):
        raise PermissionDenied
    data = payload.dict()
    data["owner"] = user
    return Status(201, customer_create(data=data, created_by=user))


@customers.patch("/{int:customer_id}", response=CustomerOut)
def customer_change(request, customer_id: PathId, payload: CustomerPatch):
    customer = get_restricted_or_404(_user(request), Customer, "change", pk=customer_id)
    customer._history_user = _user(request)
    data = payload.dict(exclude_unset=True)
    return customer_update(customer=customer, data=data)


# --- applications ---------------------------------------------------------------------------

applications = Router(tags=["applications"])


class ApplicationFilter(FilterSchema):
    customer_id: Id | None = None
    stage: str | None = Field(None, max_length=16)


@applications.get("/", response=list[ApplicationOut])
@paginate(KeysetPagination, orderings=("id", "created_at", "stage_changed_at"))
def application_list(request, filters: Query[ApplicationFilter]):
    return filters.filter(_visible(Application, request))


@applications.get("/{int:application_id}", response=ApplicationOut)
def application_detail(request, application_id: PathId):
    return get_restricted_or_404(_user(request), Application, pk=application_id)


# --- facilities, instalments, payments ----------------------------------------------------

facilities = Router(tags=["facilities"])


class FacilityOut(ModelSchema):
    customer_id: int
    product_id: int

    class Meta:
        model = Facility
        fields = ["id", "contract_number", "approved_limit", "drawn_amount", "rate",
                  "tenor_months", "start_date", "maturity_date", "guarantee_type", "status",
                  "days_past_due", "loan_class"]  # fmt: skip


class InstallmentOut(ModelSchema):
    facility_id: int

    class Meta:
        model = Installment
        fields = ["id", "number", "due_date", "principal_due", "interest_due", "amount_paid",
                  "paid_off_on", "missed_reported_at"]  # fmt: skip


class PaymentIn(Schema):
    amount: Decimal = Field(..., gt=0, le=Decimal("1e13"), decimal_places=2)
    paid_on: IsoDate
    reference: str = Field("", max_length=40)
    #: What an amount beyond the instalments due does: runs on into the next instalments
    #: (hold), or prepays principal for a shorter tenor or a lower instalment.
    overpayment: Overpayment = Overpayment.HOLD


class FacilityFilter(FilterSchema):
    customer_id: Id | None = None
    status: str | None = Field(None, max_length=12)
    loan_class: str | None = Field(None, max_length=16)


@facilities.get("/", response=list[FacilityOut])
@paginate(KeysetPagination, orderings=("id", "maturity_date", "start_date"))
def facility_list(request, filters: Query[FacilityFilter]):
    return filters.filter(_visible(Facility, request))


@facilities.get("/{int:facility_id}", response=FacilityOut)
def facility_detail(request, facility_id: PathId):
    return get_restricted_or_404(_user(request), Facility, pk=facility_id)


@facilities.get("/{int:facility_id}/installments", response=list[InstallmentOut])
@paginate(KeysetPagination, orderings=("id", "number", "due_date"), default="number")
def installment_list(request, facility_id: PathId):
    facility = get_restricted_or_404(_user(request), Facility, pk=facility_id)
    return Installment.objects.filter(facility=facility)


@facilities.post(
    "/{int:facility_id}/installments/{int:installment_id}/missed", response=InstallmentOut
)
def installment_missed(request, facility_id: PathId, installment_id: PathId):
    """Loan servicing reports an instalment unpaid: arrears, class and the client's alerts are
    updated before the response returns."""
    facility = facility_for_servicing(_user(request), facility_id)
    installment = get_object_or_404(Installment, pk=installment_id, facility=facility)
    with transaction.atomic():
        installment_report_missed(installment=installment, user=_user(request))
    installment.refresh_from_db()
    return installment


@facilities.get("/{int:facility_id}/payments", response=list[PaymentOut])
@paginate(KeysetPagination, orderings=("id", "paid_on"))
def payment_list(request, facility_id: PathId):
    facility = get_restricted_or_404(_user(request), Facility, pk=facility_id)
    return Payment.objects.filter(facility=facility)


@facilities.post("/{int:facility_id}/payments", response={201: PaymentOut})
def payment_new(request, facility_id: PathId, payload: PaymentIn):
    facility = facility_for_servicing(_user(request), facility_id)
    return Status(201, payment_record(facility=facility, user=_user(request), **payload.dict()))


# --- interactions -------------------------------------------------------------------------

interactions = Router(tags=["interactions"])


class InteractionOut(ModelSchema):
    customer_id: int
    contact_id: int | None = None

    class Meta:
        model = Interaction
        fields = ["id", "channel", "direction", "occurred_at", "subject", "summary", "outcome",
                  "next_step"]  # fmt: skip


class InteractionIn(Schema):
    customer_id: Id
    channel: Literal[tuple(InteractionChannel.values)]  # type: ignore[valid-type]
    subject: str = Field(..., min_length=1, max_length=200)
    summary: str = Field("", max_length=5000)
    outcome: str = Field("", max_length=20)
    next_step: str = Field("", max_length=200)
    occurred_at: IsoDatetime | None = None
    direction: Literal["in", "out"] = "out"


class InteractionFilter(FilterSchema):
    customer_id: Id | None = None
    channel: str | None = Field(None, max_length=10)
    since: Annotated[IsoDatetime | None, FilterLookup("occurred_at__gte")] = None


@interactions.get("/", response=list[InteractionOut])
@paginate(KeysetPagination, orderings=("id", "occurred_at"))
def interaction_list(request, filters: Query[InteractionFilter]):
    return filters.filter(_visible(Interaction, request))


@interactions.post("/", response={201: InteractionOut})
def interaction_new(request, payload: InteractionIn):
    """Logging an interaction changes the client's record: the rule of the page (change on
    the client), so roles that only read the book get the page's 404."""
    customer = get_restricted_or_404(_user(request), Customer, "change", pk=payload.customer_id)
    data = payload.dict(exclude={"customer_id"})
    return Status(201, interaction_log(customer=customer, created_by=_user(request), **data))


# --- alerts and snapshots (read-only) --------------------------------------------------------

alerts = Router(tags=["alerts"])


class AlertOut(ModelSchema):
    customer_id: int
    assigned_to_id: int | None = None

    class Meta:
        model = Alert
        fields = ["id", "rule_code", "signal", "value", "threshold", "severity", "status",
                  "raised_on", "raised_at", "action_plan", "resolution"]  # fmt: skip


class AlertFilter(FilterSchema):
    customer_id: Id | None = None
    severity: str | None = Field(None, max_length=10)
    status: str | None = Field(None, max_length=14)
    open: bool | None = None

    def filter_open(self, value):
        from django.db.models import Q

        if value is None:
            return Q()
        closed = Q(status__in=CLOSED_ALERT_STATUSES)
        return ~closed if value else closed


@alerts.get("/", response=list[AlertOut])
@paginate(KeysetPagination, orderings=("id", "raised_at"))
def alert_list(request, filters: Query[AlertFilter]):
    return filters.filter(_visible(Alert, request))


snapshots = Router(tags=["evaluation"])


class ReasonOut(Schema):
    """One reason of a value score: ``value_score = 50 + Σ points``."""

    code: str = Field(..., description="the rule or feature, e.g. revenue_growth")
    component: str = Field("", description="the sub-score it moved: contribution, potential, "
                           "loyalty or risk")  # fmt: skip
    value: float | None = Field(None, description="the client's value of the feature")
    points: float | None = Field(None, description="points it added to (or took from) the score")


class SnapshotOut(ModelSchema):
    customer_id: int
    run_id: int
    segments: list[str] = Field([], description="codes of the rule segments the client is in")
    reasons: list[ReasonOut] = Field([], description="the largest contributions first")

    class Meta:
        model = Snapshot
        fields = ["id", "created_at", "contribution", "potential", "loyalty", "risk",
                  "value_score", "tier", "grade", "grade_source", "size_band", "lifecycle",
                  "cluster"]  # fmt: skip

    @staticmethod
    def resolve_segments(obj):
        return obj.segments or []

    @staticmethod
    def resolve_reasons(obj):
        return obj.reasons or []


class SnapshotFilter(FilterSchema):
    customer_id: Id | None = None
    run_id: Id | None = None
    tier: str | None = Field(None, max_length=10)


@snapshots.get("/", response=list[SnapshotOut])
@paginate(KeysetPagination, orderings=("id", "created_at"))
def snapshot_list(request, filters: Query[SnapshotFilter]):
    """Snapshots of the recent runs; with ``run_id`` of an archived run, that run's archived
    snapshots (same fields, same ids)."""
    model: type[SnapshotRecord] = Snapshot
    if filters.run_id is not None:
        run = EvaluationRun.objects.filter(pk=filters.run_id).first()
        model = run.snapshot_model if run else Snapshot
    return filters.filter(_visible(model, request))


def register(api) -> None:
    extend_applications(applications)
    extend_facilities(facilities)
    register_lending(api)
    api.add_router("/customers", customers)
    api.add_router("/applications", applications)
    api.add_router("/facilities", facilities)
    api.add_router("/interactions", interactions)
    api.add_router("/alerts", alerts)
    api.add_router("/snapshots", snapshots)
