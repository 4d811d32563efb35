"""The API of extensions and restructurings, on the facilities router
(``api.extend_facilities``): request one, list a facility's, decide one.

Refusals change nothing and keep their reason: a request by someone who may not change the
client, or a decision outside the user's authority (or by the requester), is a 403 naming the
rule; terms the rules refuse (the regulator's extension limit, the grade's controls on the new
terms) a 422 naming each.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Field, ModelSchema, Router, Schema, Status
from ninja.errors import HttpError

from fincrm.core.api_types import PathId

from . import modifications
from .choices import ModificationKind, RepaymentMethod
from .models import FacilityModification
from .services import policy_current


class ModificationIn(Schema):
    kind: ModificationKind
    reason: str = Field(..., min_length=1, max_length=300)
    #: Months the maturity moves out (a whole number of repayment periods).
    extension_months: Annotated[int, Field(ge=0, le=600)] = 0
    new_rate: Annotated[Decimal, Field(gt=0, le=100, decimal_places=3)] | None = None
    new_method: RepaymentMethod | None = None
    capitalise_overdue: bool = False


class DecideIn(Schema):
    vote: Literal["approve", "reject"]
    note: str = Field("", max_length=300)
    override_reason: str = Field("", max_length=300)


class ModificationVoteOut(Schema):
    user: str
    role: str
    vote: str
    authority: str
    breaches: list[dict]
    override_reason: str
    note: str
    created_at: datetime

    @staticmethod
    def resolve_user(obj) -> str:
        return obj.user.get_full_name() or obj.user.username


class ModificationOut(ModelSchema):
    facility_id: int
    requested_by_id: int | None
    decided_by_id: int | None
    revision_id: int | None
    new_tenor_months: int
    maturity_date: date
    votes: list[ModificationVoteOut]

    class Meta:
        model = FacilityModification
        fields = ["id", "kind", "status", "reason", "extension_months", "new_rate",
                  "new_method", "capitalise_overdue", "outstanding_principal", "old_maturity",
                  "old_rate", "old_method", "old_tenor_months", "requested_at", "decided_at",
                  "effective_on", "override_reason"]  # fmt: skip

    @staticmethod
    def resolve_maturity_date(obj) -> date:
        """The facility's maturity now (the new one once approved)."""
        return obj.facility.maturity_date

    @staticmethod
    def resolve_votes(obj):
        return obj.votes.select_related("user")


def _refusal(exc: Exception) -> HttpError:
    if isinstance(exc, PermissionDenied):
        return HttpError(403, str(exc) or "You may not do this.")
    return HttpError(422, " ".join(str(m) for m in exc.messages))


def _request(request, facility_id: PathId, payload: ModificationIn):
    facility = modifications.facility_for_modification(request.user, facility_id)
    try:
        modification = modifications.modification_request(
            facility=facility,
            user=request.user,
            kind=payload.kind,
            reason=payload.reason,
            extension_months=payload.extension_months,
            new_rate=payload.new_rate,
            new_method=payload.new_method or "",
            capitalise_overdue=payload.capitalise_overdue,
            policy=policy_current()[0],
        )
    except ValidationError as exc:
        raise _refusal(exc) from exc
    return Status(201, modification)


def _list(request, facility_id: PathId):
    from django.shortcuts import get_object_or_404

    from .models import Facility

    facility = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=facility_id)
    return facility.modifications.select_related("facility").order_by("-requested_at", "-pk")


def _decide(request, facility_id: PathId, modification_id: PathId, payload: DecideIn):
    modification = modifications.modification_for(
        request.user, modification_id, facility_id=facility_id
    )
    policy, version = policy_current()
    try:
        return modifications.modification_decide(
            modification=modification,
            user=request.user,
            vote=payload.vote,
            note=payload.note,
            override_reason=payload.override_reason,
            policy=policy,
            policy_version=version,
        )
    except (PermissionDenied, ValidationError) as exc:
        raise _refusal(exc) from exc


def extend(router: Router) -> None:
    router.post("/{int:facility_id}/modifications", response={201: ModificationOut},
                summary="Request an extension or restructuring")(_request)  # fmt: skip
    router.get("/{int:facility_id}/modifications", response=list[ModificationOut],
               summary="A facility's extensions and restructurings")(_list)  # fmt: skip
    router.post("/{int:facility_id}/modifications/{int:modification_id}/decide",
                response=ModificationOut,
                summary="Approve or reject an extension or restructuring")(_decide)  # fmt: skip
