"""The after-disbursement API: a facility's evidence of the use of funds (list, provide,
review), its guarantees and insurance policies (list, record) and claims (list, file,
decide). Reads start from ``restrict``; writes check the same rules as the pages
(``postloan.selectors``) and go through the same services. Registered by ``fincrm.api``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from fincrm.core.api_types import Id, IsoDate, PathId
from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.models import Customer
from fincrm.financing.models import Facility

from . import selectors, services
from .choices import ClaimStatus, EvidenceKind, EvidenceStatus, GuaranteeKind
from .models import Claim, EvidenceItem, GuaranteeContract, InsurancePolicy

router = Router(tags=["after disbursement"])
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1e13"), decimal_places=2)]


def _refusal(exc: ValidationError) -> HttpError:
    return HttpError(422, " ".join(str(m) for m in exc.messages))


class EvidenceOut(Schema):
    id: int
    facility_id: int
    kind: EvidenceKind
    due_on: date
    status: EvidenceStatus
    payee: str
    amount: Decimal | None
    flags: list[str]
    received_at: datetime | None
    decided_at: datetime | None
    rejection_reason: str


class GuaranteeIn(Schema):
    number: str = Field(..., min_length=1, max_length=40)
    kind: GuaranteeKind
    guarantor_name: str = Field("", max_length=100)
    guarantor_client_id: Id | None = None
    amount_covered: Money
    start_on: IsoDate
    expires_on: IsoDate
    facility_ids: list[Id] = Field(..., min_length=1, max_length=100)
    note: str = Field("", max_length=300)


class GuaranteeOut(Schema):
    id: int
    customer_id: int
    number: str
    kind: GuaranteeKind
    guarantor: str
    guarantor_client_id: int | None
    amount_covered: Decimal
    start_on: date
    expires_on: date
    facility_ids: list[int]

    @staticmethod
    def resolve_facility_ids(obj) -> list[int]:
        return sorted(f.pk for f in obj.facilities.all())


class PolicyIn(Schema):
    insurer: str = Field(..., min_length=1, max_length=100)
    policy_number: str = Field(..., min_length=1, max_length=40)
    coverage_share: Decimal | None = Field(None, gt=0, le=100, decimal_places=2)
    coverage_amount: Money | None = None
    premium: Decimal = Field(Decimal(0), ge=0, le=Decimal("1e13"), decimal_places=2)
    start_on: IsoDate
    expires_on: IsoDate
    facility_ids: list[Id] = Field(..., min_length=1, max_length=100)
    note: str = Field("", max_length=300)


class PolicyOut(Schema):
    id: int
    customer_id: int
    insurer: str
    policy_number: str
    coverage_share: Decimal | None
    coverage_amount: Decimal | None
    premium: Decimal
    start_on: date
    expires_on: date
    facility_ids: list[int]

    @staticmethod
    def resolve_facility_ids(obj) -> list[int]:
        return sorted(f.pk for f in obj.facilities.all())


class ClaimIn(Schema):
    guarantee_id: Id | None = None
    policy_id: Id | None = None
    amount_claimed: Money
    filed_on: IsoDate
    note: str = Field("", max_length=300)


class ClaimOut(Schema):
    id: int
    facility_id: int
    guarantee_id: int | None
    policy_id: int | None
    amount_claimed: Decimal
    status: ClaimStatus
    amount_recovered: Decimal
    filed_on: date
    decided_on: date | None
    payment_id: int | None


class ClaimDecisionIn(Schema):
    outcome: Literal["paid", "rejected"]
    on: IsoDate
    amount_recovered: Money | None = None


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


# --- evidence ---------------------------------------------------------------------------


@router.get("/facilities/{int:facility_id}/evidence", response=list[EvidenceOut])
def evidence_list(request, facility_id: PathId):
    facility = get_restricted_or_404(request.user, Facility, "view", pk=facility_id)
    return EvidenceItem.objects.filter(facility=facility)


@router.post("/facilities/{int:facility_id}/evidence/{int:item_id}/file", response=EvidenceOut)
def evidence_upload(
    request,
    facility_id: PathId,
    item_id: PathId,
    file: File[UploadedFile],
    payee: Form[str],
    amount: Form[Money | None] = None,
):
    """Provide an item: the file, the payee and the amount paid; what does not fit is in
    ``flags``."""
    facility = selectors.facility_for_postloan(request.user, facility_id)
    item = get_object_or_404(EvidenceItem, pk=item_id, facility=facility)
    try:
        return services.evidence_upload(
            item=item, upload=file, payee=payee, amount=amount, user=request.user
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc


def _decide(request, item_id: int, *, accept: bool, reason: str = ""):
    item = selectors.evidence_for_review(request.user, item_id)
    try:
        return services.evidence_decide(item=item, user=request.user, accept=accept,
                                        reason=reason)  # fmt: skip
    except ValidationError as exc:
        raise _refusal(exc) from exc


@router.post("/evidence/{int:item_id}/accept", response=EvidenceOut)
def evidence_accept(request, item_id: PathId):
    return _decide(request, item_id, accept=True)


@router.post("/evidence/{int:item_id}/reject", response=EvidenceOut)
def evidence_reject(request, item_id: PathId, payload: RejectIn):
    return _decide(request, item_id, accept=False, reason=payload.reason)


# --- guarantees and insurance -------------------------------------------------------------


def _facilities(facility: Facility, ids: list[int]) -> list[Facility]:
    found = list(Facility.objects.filter(customer_id=facility.customer_id, pk__in=ids))
    if len(found) != len(set(ids)):
        raise HttpError(422, str(services.MSG_OTHER_CLIENT))
    return found


@router.get("/facilities/{int:facility_id}/guarantees", response=list[GuaranteeOut])
def guarantee_list(request, facility_id: PathId):
    facility = get_restricted_or_404(request.user, Facility, "view", pk=facility_id)
    return (
        GuaranteeContract.objects.filter(facilities=facility)
        .select_related("guarantor_client")
        .prefetch_related("facilities")
    )


@router.post("/facilities/{int:facility_id}/guarantees", response={201: GuaranteeOut})
def guarantee_create(request, facility_id: PathId, payload: GuaranteeIn):
    facility = selectors.facility_for_postloan(request.user, facility_id)
    data = payload.dict()
    facilities = _facilities(facility, data.pop("facility_ids"))
    client_id = data.pop("guarantor_client_id")
    if client_id is not None:
        data["guarantor_client"] = get_restricted_or_404(
            request.user, Customer, "view", pk=client_id
        )
    try:
        guarantee = services.guarantee_record(
            customer=facility.customer, facilities=facilities, user=request.user, **data
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc
    return Status(201, guarantee)


@router.get("/facilities/{int:facility_id}/policies", response=list[PolicyOut])
def policy_list(request, facility_id: PathId):
    facility = get_restricted_or_404(request.user, Facility, "view", pk=facility_id)
    return InsurancePolicy.objects.filter(facilities=facility).prefetch_related("facilities")


@router.post("/facilities/{int:facility_id}/policies", response={201: PolicyOut})
def policy_create(request, facility_id: PathId, payload: PolicyIn):
    facility = selectors.facility_for_postloan(request.user, facility_id)
    data = payload.dict()
    facilities = _facilities(facility, data.pop("facility_ids"))
    try:
        policy = services.policy_record(
            customer=facility.customer, facilities=facilities, user=request.user, **data
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc
    return Status(201, policy)


# --- claims ------------------------------------------------------------------------------


@router.get("/facilities/{int:facility_id}/claims", response=list[ClaimOut])
def claim_list(request, facility_id: PathId):
    facility = get_restricted_or_404(request.user, Facility, "view", pk=facility_id)
    return Claim.objects.filter(facility=facility)


@router.post("/facilities/{int:facility_id}/claims", response={201: ClaimOut})
def claim_create(request, facility_id: PathId, payload: ClaimIn):
    """File a claim under one guarantee or policy covering the facility (422 unless the
    facility has defaulted)."""
    facility = selectors.facility_for_postloan(request.user, facility_id)
    guarantee = policy = None
    if payload.guarantee_id is not None:
        guarantee = get_object_or_404(
            GuaranteeContract, pk=payload.guarantee_id, customer_id=facility.customer_id
        )
    if payload.policy_id is not None:
        policy = get_object_or_404(
            InsurancePolicy, pk=payload.policy_id, customer_id=facility.customer_id
        )
    try:
        claim = services.claim_file(
            facility=facility, amount=payload.amount_claimed, filed_on=payload.filed_on,
            guarantee=guarantee, policy=policy, note=payload.note, user=request.user,
        )  # fmt: skip
    except ValidationError as exc:
        raise _refusal(exc) from exc
    return Status(201, claim)


@router.post("/claims/{int:claim_id}/decide", response=ClaimOut)
def claim_decide(request, claim_id: PathId, payload: ClaimDecisionIn):
    """The guarantor's or insurer's answer (risk officers); a payment is booked on the
    facility."""
    claim = get_restricted_or_404(request.user, Claim, "view", pk=claim_id)
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    try:
        return services.claim_decide(
            claim=claim, user=request.user, paid=payload.outcome == "paid", on=payload.on,
            amount_recovered=payload.amount_recovered,
        )  # fmt: skip
    except ValidationError as exc:
        raise _refusal(exc) from exc


def register(api) -> None:
    api.add_router("/postloan", router)
