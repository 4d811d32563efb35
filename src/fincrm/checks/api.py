"""The external checks API: a client's checks and findings (what the caller may see), and a
check run now by someone who may change the client. Registered by ``fincrm.api``."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Router, Schema
from ninja.errors import HttpError

from fincrm.core.api_types import PathId
from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.models import Customer

from . import selectors, services
from .choices import CheckReason, CheckStatus, FindingCategory

router = Router(tags=["checks"])


class FindingOut(Schema):
    id: int
    category: FindingCategory
    key: str
    title: str
    amount: Decimal | None
    occurred_on: date | None
    source: str
    first_seen_at: datetime
    resolved_at: datetime | None


class CheckOut(Schema):
    id: int
    provider: str
    reason: CheckReason
    status: CheckStatus
    error: str
    findings_count: int
    new_count: int
    checked_at: datetime


class ChecksOut(Schema):
    checks: list[CheckOut]
    findings: list[FindingOut]


@router.get("/customers/{int:customer_id}", response=ChecksOut)
def checks_of(request, customer_id: PathId):
    customer = get_restricted_or_404(request.user, Customer, "view", pk=customer_id)
    return {
        "checks": list(selectors.checks_for(user=request.user, customer=customer)[:50]),
        "findings": list(selectors.findings_for(user=request.user, customer=customer)),
    }


@router.post("/customers/{int:customer_id}", response={201: CheckOut})
def check_now(request, customer_id: PathId):
    """Run a check now (422 when no source is configured); a failed lookup is recorded."""
    customer = get_restricted_or_404(request.user, Customer, "change", pk=customer_id)
    try:
        check = services.check_run(customer=customer, reason=CheckReason.MANUAL, user=request.user)
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from error
    return 201, check


def register(api) -> None:
    api.add_router("/checks", router)
