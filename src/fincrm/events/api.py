"""The events API: events the caller may see, their invitees (only clients the caller may
see), and an answer recorded by staff (a client's phone call). Registered by ``fincrm.api``."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import StrictBool

from fincrm.core.api_types import PathId
from fincrm.core.permissions import get_restricted_or_404

from . import services
from .choices import EventKind, Response, ResponseSource
from .models import Event, Invitee

router = Router(tags=["events"])


class Page(LimitOffsetPagination):
    """``?limit=&offset=`` within bounds the database accepts (a limit past 64 bits is a
    422, not a driver error)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=10**9)


class EventOut(Schema):
    id: int
    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str
    online_url: str
    capacity: int
    organiser_id: int


class InviteeOut(Schema):
    id: int
    event_id: int
    customer_id: int
    response: Response
    responded_at: datetime | None
    checked_in_at: datetime | None


class AnswerIn(Schema):
    attending: StrictBool


@router.get("/", response=list[EventOut])
@paginate(Page)
def event_list(request):
    return Event.objects.restrict(request.user, "view").order_by("-starts_at", "-id")


@router.get("/{int:event_id}/invitees", response=list[InviteeOut])
@paginate(Page)
def invitee_list(request, event_id: PathId):
    event = get_restricted_or_404(request.user, Event, "view", pk=event_id)
    return Invitee.objects.restrict(request.user, "view").filter(event=event).order_by("pk")


@router.post("/{int:event_id}/invitees/{int:invitee_id}/answer", response=InviteeOut)
def invitee_answer(request, event_id: PathId, invitee_id: PathId, payload: AnswerIn):
    """Record a client's answer (a seat, the waiting list, or no); 422 once the event is
    over."""
    invitee = get_restricted_or_404(
        request.user, Invitee.objects.filter(event_id=event_id), "change", pk=invitee_id
    )
    return services.invitee_respond(
        invitee=invitee, attending=payload.attending, source=ResponseSource.STAFF
    )


def register(api) -> None:
    api.add_router("/events", router)
