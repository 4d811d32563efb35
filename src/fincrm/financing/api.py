"""The lending API: products, opening applications, their documents, decisions, servicing
and the collections queue. Every operation starts from ``restrict(user, action)`` and writes
through the services the pages use.

Refusals keep their reason: a decision outside the user's authority (or by the maker) is a
403 naming the rule, terms that break the grade's controls a 422 naming each control.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from ninja import Field, File, ModelSchema, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from fincrm.core.api_types import Id, IsoDate, PathId
from fincrm.customers.models import Customer

from . import collections, services, servicing, tranches
from .choices import (
    AUTOMATIC_RULE,
    CollectionOutcome,
    Frequency,
    GuaranteeType,
    Overpayment,
    RepaymentMethod,
    Stage,
)
from .models import (
    Application,
    ApplicationDocument,
    CollectionAction,
    Facility,
    Payment,
    Product,
    Tranche,
)
from .selectors import (
    application_for_change,
    application_for_decision,
    document_for_review,
    facility_for_servicing,
    tranche_for_change,
)

LetterFormat = Literal["pdf", "docx"]
MSG_NO_QUOTE = gettext_lazy("The client has no credit grade yet: it cannot be priced.")
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1e13"), decimal_places=2)]


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _refusal(exc: Exception):
    """A refused write: 403 with the rule for authority, 422 with the broken rule for terms."""
    if isinstance(exc, PermissionDenied):
        return HttpError(403, str(exc) or "You may not do this.")
    return HttpError(422, _messages(exc))


# --- products -----------------------------------------------------------------------------

products = Router(tags=["products"])


class ProductOut(ModelSchema):
    type: str
    repayment_methods: list[str]
    required_documents: list[str]

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "min_amount",
            "max_amount",
            "min_tenor_months",
            "max_tenor_months",
            "min_rate",
            "max_rate",
            "day_count",
            "upfront_fee_percent",
            "service_fee_percent",
            "penalty_markup_percent",
        ]

    @staticmethod
    def resolve_type(obj) -> str:
        return obj.product_type


@products.get("/", response=list[ProductOut])
def product_list(request):
    """The products on offer, with their bounds and repayment methods."""
    return Product.objects.filter(is_active=True)


@products.get("/{int:product_id}", response=ProductOut)
def product_detail(request, product_id: PathId):
    return get_object_or_404(Product, pk=product_id)


# --- applications -------------------------------------------------------------------------


class DocumentOut(ModelSchema):
    has_file: bool

    class Meta:
        model = ApplicationDocument
        fields = ["id", "kind", "status", "received_at", "decided_at", "rejection_reason"]

    @staticmethod
    def resolve_has_file(obj) -> bool:
        return bool(obj.file)


class VoteOut(Schema):
    user: str
    role: str
    vote: str
    authority: str
    override_reason: str
    created_at: datetime

    @staticmethod
    def resolve_user(obj) -> str:
        if obj.user is None:  # the automatic-decision rule
            return str(AUTOMATIC_RULE)
        return obj.user.get_full_name() or obj.user.username

    @staticmethod
    def resolve_authority(obj) -> str:
        if obj.user is None:  # the rule and the policy version it ran under
            return gettext("%(rule)s, policy version %(version)s") % {
                "rule": AUTOMATIC_RULE,
                "version": obj.policy_version,
            }
        return obj.authority


class ComponentOut(Schema):
    code: str
    label: str
    bp: int
    basis: str


class PricingOut(Schema):
    """The pricing rule's quote (``financing.pricing``): rates in % a year."""

    components: list[ComponentOut]
    rate: Decimal
    floor: Decimal
    arrangement_fee_percent: Decimal
    fee_waived_share: float
    seasonal: bool
    frequencies: list[str]
    interest_only_months: int


class ApplicationOut(ModelSchema):
    customer_id: int
    product_id: int
    number: str
    facility_id: int | None
    auto_decision_reasons: list[str]
    documents: list[DocumentOut]
    votes: list[VoteOut]
    pricing: PricingOut | None

    class Meta:
        model = Application
        fields = ["id", "amount", "tenor_months", "purpose", "stage", "stage_changed_at",
                  "created_at", "channel", "route", "repayment_method", "frequency", "rate",
                  "guarantee_type", "guarantor", "collateral_value", "margin_percent",
                  "submitted_at", "decided_at", "override_reason", "auto_decision",
                  "contract_number",
                  "signed_on", "first_due_date", "upfront_fee"]  # fmt: skip

    @staticmethod
    def resolve_auto_decision_reasons(obj) -> list[str]:
        from .approval import describe_auto_reasons

        return describe_auto_reasons(obj.auto_decision_reasons)

    @staticmethod
    def resolve_pricing(obj) -> dict | None:
        from .pricing import application_pricing

        return application_pricing(obj)

    @staticmethod
    def resolve_facility_id(obj) -> int | None:
        return Facility.objects.filter(application_id=obj.pk).values_list("pk", flat=True).first()

    @staticmethod
    def resolve_documents(obj):
        return obj.documents.all()

    @staticmethod
    def resolve_votes(obj):
        return obj.votes.select_related("user")


class ApplicationIn(Schema):
    customer_id: Id
    product_id: Id
    amount: Money
    tenor_months: Annotated[int, Field(ge=1, le=600)]
    purpose: str = Field("", max_length=200)
    repayment_method: RepaymentMethod | None = None
    frequency: Frequency = Frequency.MONTHLY
    rate: Annotated[Decimal, Field(ge=0, le=100, decimal_places=3)] | None = None


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


def application_create(request, payload: ApplicationIn):
    """Open an application for a client the user may change; the product's bounds are
    checked at once (422 by field)."""
    user = request.user
    customer = get_object_or_404(Customer.objects.restrict(user, "change"), pk=payload.customer_id)
    product = get_object_or_404(Product, pk=payload.product_id)
    try:
        application = services.application_create(
            customer=customer,
            product=product,
            amount=payload.amount,
            tenor_months=payload.tenor_months,
            purpose=payload.purpose,
            repayment_method=payload.repayment_method,
            frequency=payload.frequency,
            rate=payload.rate,
            created_by=user,
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc
    return Status(201, application)


def document_upload(request, application_id: int, document_id: int, file: UploadedFile):
    application = get_object_or_404(
        Application.objects.restrict(request.user, "change"), pk=application_id
    )
    document = get_object_or_404(ApplicationDocument, pk=document_id, application=application)
    try:
        return services.document_upload(document=document, upload=file, user=request.user)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc


def _decide_document(request, application_id: int, document_id: int, *, accept, reason=""):
    document = document_for_review(request.user, application_id, document_id)
    try:
        return services.document_decide(
            document=document, user=request.user, accept=accept, reason=reason
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc


class StageIn(Schema):
    to_stage: Stage
    note: str = Field("", max_length=300)
    override_reason: str = Field("", max_length=300)


def application_stage(request, application_id: int, payload: StageIn):
    """Move an application. Approval and rejection are decisions within authority (403
    naming the rule, the maker included) and the grade's controls (422 naming each); the
    other moves need the right to change the client's applications."""
    user = request.user
    if payload.to_stage in services.DECISIONS:
        application = application_for_decision(user, application_id)
    else:
        application = get_object_or_404(
            Application.objects.restrict(user, "change"), pk=application_id
        )
    try:
        return services.application_move_stage(
            application=application,
            to_stage=payload.to_stage,
            user=user,
            note=payload.note,
            override_reason=payload.override_reason,
        )
    except (PermissionDenied, ValidationError) as exc:
        raise _refusal(exc) from exc


def extend_applications(router: Router) -> None:
    """Add the lending operations to the API's applications router."""
    router.post("/", response={201: ApplicationOut}, summary="Open an application")(
        application_create
    )
    router.post(
        "/{int:application_id}/documents/{int:document_id}/file",
        response=DocumentOut,
        summary="Upload a document's file",
    )(_typed_upload)
    router.post("/{int:application_id}/documents/{int:document_id}/accept",
                response=DocumentOut, summary="Accept a document")(_accept)  # fmt: skip
    router.post("/{int:application_id}/documents/{int:document_id}/reject",
                response=DocumentOut, summary="Reject a document")(_reject)  # fmt: skip
    router.post("/{int:application_id}/stage", response=ApplicationOut,
                summary="Move an application")(_stage)  # fmt: skip
    router.get("/{int:application_id}/tranches", response=list[TrancheOut],
               summary="The tranche plan and what was drawn")(_tranche_list)  # fmt: skip
    router.put("/{int:application_id}/tranches", response=list[TrancheOut],
               summary="Set the tranche plan (contract stage)")(_tranche_plan)  # fmt: skip
    tranche = "/{int:application_id}/tranches/{int:tranche_id}"
    router.post(f"{tranche}/disburse", response=TrancheOut,
                summary="Draw a tranche today")(_tranche_disburse)  # fmt: skip
    router.post(f"{tranche}/cancel", response=TrancheOut,
                summary="Cancel a planned tranche")(_tranche_cancel)  # fmt: skip


def _typed_upload(request, application_id: PathId, document_id: PathId, file: File[UploadedFile]):
    return document_upload(request, application_id, document_id, file)


def _accept(request, application_id: PathId, document_id: PathId):
    return _decide_document(request, application_id, document_id, accept=True)


def _reject(request, application_id: PathId, document_id: PathId, payload: RejectIn):
    return _decide_document(request, application_id, document_id, accept=False,
                            reason=payload.reason)  # fmt: skip


def _stage(request, application_id: PathId, payload: StageIn):
    return application_stage(request, application_id, payload)


# --- tranches -----------------------------------------------------------------------------


class TrancheOut(ModelSchema):
    application_id: int
    facility_id: int | None
    disbursed_by_id: int | None

    class Meta:
        model = Tranche
        fields = ["id", "number", "amount", "planned_on", "status", "disbursed_on"]


class TrancheIn(Schema):
    #: Checked by the service, which names the tranche (positive, in yuan and fen).
    amount: Annotated[Decimal, Field(ge=Decimal("-1e13"), le=Decimal("1e13"), decimal_places=2)]
    planned_on: IsoDate


class TranchePlanIn(Schema):
    tranches: list[TrancheIn] = Field(..., max_length=tranches.MAX_TRANCHES)


def _tranche_list(request, application_id: PathId):
    """The plan as it stands: each tranche, drawn (into which facility, when, by whom),
    planned or cancelled."""
    application = get_object_or_404(
        Application.objects.restrict(request.user, "view"), pk=application_id
    )
    return application.tranches.all()


def _tranche_plan(request, application_id: PathId, payload: TranchePlanIn):
    """Replace the plan at the contract stage (an empty list: the whole amount at once);
    422 naming every rule the plan breaks, 403 to whoever may not move the application."""
    application = application_for_change(request.user, application_id)
    try:
        return tranches.tranches_set(
            application=application,
            plan=[(t.amount, t.planned_on) for t in payload.tranches],
            user=request.user,
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc


def _tranche_disburse(request, application_id: PathId, tranche_id: PathId):
    """Draw the tranche today into the application's facility (its schedule recomputed)."""
    tranche = tranche_for_change(request.user, application_id, tranche_id)
    try:
        return tranches.tranche_disburse(
            tranche=tranche, user=request.user, on=timezone.localdate()
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc


def _tranche_cancel(request, application_id: PathId, tranche_id: PathId):
    """Cancel a planned tranche after the disbursement: the facility's limit falls by it."""
    tranche = tranche_for_change(request.user, application_id, tranche_id)
    try:
        return tranches.tranche_cancel(tranche=tranche, user=request.user)
    except ValidationError as exc:
        raise _refusal(exc) from exc


# --- servicing ----------------------------------------------------------------------------


class QuoteOut(Schema):
    on: date
    overdue: Decimal
    principal: Decimal
    accrued_interest: Decimal
    credit: Decimal
    total: Decimal


class ReverseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=40)


class PaymentOut(ModelSchema):
    facility_id: int
    allocation: dict

    class Meta:
        model = Payment
        fields = ["id", "paid_on", "amount", "reference", "recorded_at", "kind", "allocation"]


def _quote(request, facility_id: PathId, on: IsoDate | None = None):
    facility = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=facility_id)
    on = on or timezone.localdate()
    return {"on": on, **servicing.settlement_quote(facility=facility, on=on)}


def _reverse(request, facility_id: PathId, payment_id: PathId, payload: ReverseIn):
    facility = facility_for_servicing(request.user, facility_id)
    payment = get_object_or_404(Payment, pk=payment_id, facility=facility)
    try:
        return Status(
            201,
            servicing.payment_reverse(payment=payment, user=request.user, reason=payload.reason),
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc


def extend_facilities(router: Router) -> None:
    from .modification_api import extend as extend_modifications

    extend_modifications(router)
    router.get("/{int:facility_id}/quote", response=QuoteOut,
               summary="Early-settlement quote")(_quote)  # fmt: skip
    router.post("/{int:facility_id}/payments/{int:payment_id}/reverse",
                response={201: PaymentOut}, summary="Reverse a payment")(_reverse)  # fmt: skip


# --- collections --------------------------------------------------------------------------

collections_router = Router(tags=["collections"])


class CollectionOut(ModelSchema):
    facility_id: int
    customer_id: int
    assigned_to_id: int | None

    class Meta:
        model = CollectionAction
        fields = ["id", "step", "episode", "days_past_due", "amount_overdue", "due_on",
                  "status", "outcome", "promise_date", "promise_amount", "promise_status",
                  "note", "created_at", "completed_at"]  # fmt: skip

    @staticmethod
    def resolve_customer_id(obj) -> int:
        return obj.facility.customer_id


class OutcomeIn(Schema):
    outcome: CollectionOutcome
    note: str = Field("", max_length=300)
    promise_date: IsoDate | None = None
    promise_amount: Money | None = None


@collections_router.get("/", response=list[CollectionOut])
def collection_list(request, mine: bool = False, open: bool = True):
    """The collections queue the user may see, highest arrears first."""
    actions = CollectionAction.objects.restrict(request.user, "view").select_related("facility")
    if mine:
        actions = actions.filter(assigned_to=request.user)
    if open:
        actions = actions.filter(status="open")
    return actions.order_by("-days_past_due", "due_on", "id")[:500]


@collections_router.post("/{int:action_id}/outcome", response=CollectionOut)
def collection_outcome(request, action_id: PathId, payload: OutcomeIn):
    from .selectors import collection_action_for

    action = collection_action_for(request.user, action_id)
    try:
        return collections.collection_record_outcome(
            action=action,
            user=request.user,
            outcome=payload.outcome,
            note=payload.note,
            promise_date=payload.promise_date,
            promise_amount=payload.promise_amount,
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc


_BINARY = {"schema": {"type": "string", "format": "binary"}}
LETTER_RESPONSES = {
    200: {
        "description": "The letter, as an attachment.",
        "content": {
            "application/pdf": _BINARY,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _BINARY,
        },
    }
}


@collections_router.get("/{int:action_id}/letter", openapi_extra={"responses": LETTER_RESPONSES})
def collection_letter(request, action_id: PathId, format: LetterFormat = "pdf"):
    """The action's letter (催收函, 担保人通知函 or 律师函 by its step) with the client's figures
    of today, as PDF or Word, to whoever may work the action; each download is recorded on
    the action. 422: the step is not a letter, or nothing is overdue."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    from .letters import CONTENT_TYPES, collection_letter_issue, letter_filename
    from .selectors import collection_action_for

    action = collection_action_for(request.user, action_id)
    try:
        record, content = collection_letter_issue(
            action=action, user=request.user, file_format=format
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from exc
    disposition = content_disposition_header(True, letter_filename(record))
    return HttpResponse(content, content_type=CONTENT_TYPES[format],
                        headers={"Content-Disposition": disposition})  # fmt: skip


class QuoteIn(Schema):
    customer_id: Id
    amount: Money
    tenor_months: Annotated[int, Field(ge=1, le=600)]
    #: Default: what the client's grade controls ask for (as an application is proposed).
    guarantee_type: GuaranteeType | None = None
    collateral_value: Annotated[Decimal, Field(ge=0, le=Decimal("1e13"), decimal_places=2)] = (
        Decimal(0)
    )


@products.post("/{int:product_id}/quote", response=PricingOut, summary="Price a loan")
def product_quote(request, product_id: PathId, payload: QuoteIn):
    """The rate the pricing rule offers a client the user may open applications for, with
    its components and floor, before an application is opened (404: another's client; 422:
    a client without a credit grade)."""
    from .approval import PROPOSED_GUARANTEE
    from .pricing import quote_as_dict, quote_for

    customer = get_object_or_404(
        Customer.objects.restrict(request.user, "change").select_related("classification"),
        pk=payload.customer_id,
    )
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    policy = services.policy_current()[0]
    grade = getattr(getattr(customer, "classification", None), "grade", None)
    controls = policy.grade_controls.get(grade or "")
    if controls is None:
        raise HttpError(422, str(MSG_NO_QUOTE))
    quote = quote_for(
        customer=customer,
        product=product,
        amount=payload.amount,
        tenor_months=payload.tenor_months,
        guarantee_type=payload.guarantee_type or PROPOSED_GUARANTEE[controls.guarantee],
        collateral_value=payload.collateral_value,
        policy=policy,
    )
    return quote_as_dict(quote)


def register(api) -> None:
    api.add_router("/products", products)
    api.add_router("/collections", collections_router)


__all__ = ["ApplicationOut", "Overpayment", "extend_applications", "extend_facilities", "register"]
