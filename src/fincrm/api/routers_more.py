"""More resources of the API: contacts, financial statements, tasks, complaints, survey
results. Same rules as ``routers``: every read starts from ``restrict(user, action)``, every
write goes through the app's service (or ``full_clean`` and the audit history)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, FilterLookup, FilterSchema, ModelSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictBool

from fincrm.accounts.models import User
from fincrm.core.api_pagination import KeysetPagination
from fincrm.core.masking import shown
from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.models import Contact, Customer, FinancialStatement
from fincrm.engagement.choices import InteractionChannel, TaskStatus
from fincrm.engagement.models import Task
from fincrm.engagement.services import task_complete
from fincrm.service import services as desk
from fincrm.service.choices import RootCause, Severity, TicketCategory, TicketKind
from fincrm.service.models import Ticket
from fincrm.service.views import may_log_ticket
from fincrm.surveys.models import Response, Survey
from fincrm.surveys.selectors import DIMENSIONS, survey_results

from .routers import Id, IsoDate, IsoDatetime, PathId, _user, _visible

Money = Field(..., ge=0, le=Decimal("1e15"), decimal_places=2)

# --- contacts -------------------------------------------------------------------------------

contacts = Router(tags=["contacts"])


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    phone: str = Field("", description="masked unless the role needs it")
    email: str
    wechat_id: str
    birthday: date | None
    is_key: bool

    @staticmethod
    def resolve_phone(obj, context):
        return shown(obj.phone, user=context["request"].user) if obj.phone else ""


class ContactIn(Schema):
    customer_id: Id
    name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=60)
    phone: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    wechat_id: str = Field("", max_length=60)
    birthday: IsoDate | None = None
    is_key: StrictBool = False


class ContactFilter(FilterSchema):
    customer_id: Id | None = None
    is_key: bool | None = None


@contacts.get("/", response=list[ContactOut])
@paginate(KeysetPagination, orderings=("id",))
def contact_list(request, filters: Query[ContactFilter]):
    return filters.filter(_visible(Contact, request))


@contacts.post("/", response={201: ContactOut})
def contact_new(request, payload: ContactIn):
    customer = get_restricted_or_404(_user(request), Customer, "change", pk=payload.customer_id)
    contact = Contact(customer=customer, **payload.dict(exclude={"customer_id"}))
    contact.full_clean()
    contact.save()
    return Status(201, contact)


# --- financial statements -------------------------------------------------------------------

statements = Router(tags=["financial statements"])


class StatementOut(ModelSchema):
    customer_id: int

    class Meta:
        model = FinancialStatement
        fields = ["id", "period_end", "revenue", "cost", "net_profit", "total_assets",
                  "total_liabilities", "current_assets", "current_liabilities", "inventory",
                  "receivables", "operating_cash_flow", "interest_expense", "audited"]  # fmt: skip


class StatementIn(Schema):
    customer_id: Id
    period_end: IsoDate
    revenue: Decimal = Money
    cost: Decimal = Money
    net_profit: Decimal = Field(..., ge=Decimal("-1e15"), le=Decimal("1e15"), decimal_places=2)
    total_assets: Decimal = Money
    total_liabilities: Decimal = Money
    current_assets: Decimal = Money
    current_liabilities: Decimal = Money
    inventory: Decimal = Money
    receivables: Decimal = Money
    operating_cash_flow: Decimal = Field(
        ..., ge=Decimal("-1e15"), le=Decimal("1e15"), decimal_places=2
    )
    interest_expense: Decimal = Money
    audited: StrictBool = False


class StatementFilter(FilterSchema):
    customer_id: Id | None = None


@statements.get("/", response=list[StatementOut])
@paginate(KeysetPagination, orderings=("id", "period_end"))
def statement_list(request, filters: Query[StatementFilter]):
    return filters.filter(_visible(FinancialStatement, request))


@statements.post("/", response={201: StatementOut})
def statement_new(request, payload: StatementIn):
    """A statement is credit-relevant: it is audited (who, when) like a change in the pages,
    and the client is re-evaluated."""
    from fincrm.core.events import customer_changed

    customer = get_restricted_or_404(_user(request), Customer, "change", pk=payload.customer_id)
    with transaction.atomic():
        statement = FinancialStatement(customer=customer, **payload.dict(exclude={"customer_id"}))
        statement._history_user = _user(request)  # type: ignore[attr-defined]  # simple_history
        statement.full_clean()
        statement.save()
        customer_changed(customer.pk)
    return Status(201, statement)


# --- tasks ----------------------------------------------------------------------------------

tasks = Router(tags=["tasks"])


class TaskOut(ModelSchema):
    customer_id: int
    owner_id: int

    class Meta:
        model = Task
        fields = ["id", "kind", "title", "detail", "channel", "priority", "due_on", "status",
                  "source_key", "created_at", "completed_at"]  # fmt: skip


class TaskFilter(FilterSchema):
    customer_id: Id | None = None
    status: Literal[tuple(TaskStatus.values)] | None = None  # type: ignore[valid-type]
    mine: bool | None = Field(None, description="only the caller's own tasks")
    due_before: Annotated[IsoDate | None, FilterLookup("due_on__lte")] = None
    #: The caller, set by the endpoint (``mine``).
    _user: User | None = None

    def filter_mine(self, value):
        from django.db.models import Q

        return Q(owner=self._user) if value else Q()


@tasks.get("/", response=list[TaskOut])
@paginate(KeysetPagination, orderings=("id", "due_on"))
def task_list(request, filters: Query[TaskFilter]):
    filters._user = _user(request)
    return filters.filter(_visible(Task, request))


@tasks.post("/{int:task_id}/complete", response=TaskOut)
def task_done(request, task_id: PathId):
    task = get_restricted_or_404(_user(request), Task, "change", pk=task_id)
    return task_complete(task=task)


# --- complaints and requests ------------------------------------------------------------------

complaints = Router(tags=["complaints"])


class TicketOut(ModelSchema):
    customer_id: int
    assignee_id: int | None = None

    class Meta:
        model = Ticket
        fields = ["id", "kind", "channel", "source", "subject", "description", "category",
                  "suggested_category", "severity", "status", "opened_at", "respond_by",
                  "resolve_by", "responded_at", "resolved_at", "closed_at", "escalated_at",
                  "resolution", "root_cause", "satisfaction"]  # fmt: skip


class TicketIn(Schema):
    customer_id: Id
    kind: Literal[tuple(TicketKind.values)] = "complaint"  # type: ignore[valid-type]
    channel: Literal[tuple(InteractionChannel.values)]  # type: ignore[valid-type]
    severity: Literal[tuple(Severity.values)] = "medium"  # type: ignore[valid-type]
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=5000)
    category: Literal[("", *TicketCategory.values)] = ""  # type: ignore[valid-type]


class ResolveIn(Schema):
    resolution: str = Field(..., min_length=1, max_length=5000)
    root_cause: Literal[tuple(RootCause.values)]  # type: ignore[valid-type]


class TicketFilter(FilterSchema):
    customer_id: Id | None = None
    status: str | None = Field(None, max_length=12)
    category: str | None = Field(None, max_length=20)
    since: Annotated[IsoDatetime | None, FilterLookup("opened_at__gte")] = None


@complaints.get("/", response=list[TicketOut])
@paginate(KeysetPagination, orderings=("id", "opened_at"))
def ticket_list(request, filters: Query[TicketFilter]):
    return filters.filter(_visible(Ticket, request))


@complaints.post("/", response={201: TicketOut})
def ticket_new(request, payload: TicketIn):
    """A complaint or request from another channel (WeChat mini-program, call centre); the
    category is suggested from the text when not given, the SLA clock starts."""
    customer = get_restricted_or_404(_user(request), Customer, pk=payload.customer_id)
    if not may_log_ticket(_user(request), customer):
        raise PermissionDenied
    data = payload.dict(exclude={"customer_id"})
    ticket = desk.ticket_open(customer=customer, created_by=_user(request), source="api", **data)
    return Status(201, ticket)


@complaints.post("/{int:ticket_id}/resolve", response=TicketOut)
def ticket_resolve(request, ticket_id: PathId, payload: ResolveIn):
    ticket = get_restricted_or_404(_user(request), Ticket, "change", pk=ticket_id)
    return desk.ticket_resolve(ticket=ticket, user=_user(request), **payload.dict())


# --- survey results -------------------------------------------------------------------------

surveys = Router(tags=["surveys"])


class SurveyOut(Schema):
    id: int
    name: str
    trigger: str
    channel: str
    is_active: bool


class ResponseOut(Schema):
    id: int
    customer_id: int
    survey_id: int = Field(..., alias="invitation.survey_id")
    submitted_at: datetime
    nps_score: int | None
    rating: int | None
    sentiment: str
    keywords: list[str]


class ResultRow(Schema):
    group: str | None
    sent: int
    answered: int
    response_rate: float | None
    nps: float | None
    csat: float | None
    previous_nps: float | None = None
    nps_delta: float | None = None


class ResponseFilter(FilterSchema):
    customer_id: Id | None = None
    survey_id: Annotated[Id | None, FilterLookup("invitation__survey_id")] = None


@surveys.get("/", response=list[SurveyOut])
@paginate(KeysetPagination, orderings=("id",))
def survey_list(request):
    return Survey.objects.all()


@surveys.get("/responses", response=list[ResponseOut])
@paginate(KeysetPagination, orderings=("id", "submitted_at"))
def response_list(request, filters: Query[ResponseFilter]):
    return filters.filter(_visible(Response, request).select_related("invitation"))


@surveys.get("/{int:survey_id}/results", response=list[ResultRow])
def survey_result(
    request,
    survey_id: PathId,
    by: Literal[tuple(DIMENSIONS)] = "tier",  # type: ignore[valid-type]
    days: int = Query(90, ge=7, le=730),
):
    """NPS, CSAT and response rate by tier, segment, product, manager or month, over the
    invitations the caller may see, with the previous period where it applies."""
    survey = get_object_or_404(Survey, pk=survey_id)
    results = survey_results(user=_user(request), survey=survey, by=by, days=days)
    return [{**row, "group": None if row.get(by) is None else str(row[by])}
            for row in results["rows"]]  # fmt: skip


def register(api) -> None:
    api.add_router("/contacts", contacts)
    api.add_router("/statements", statements)
    api.add_router("/tasks", tasks)
    api.add_router("/complaints", complaints)
    api.add_router("/surveys", surveys)
