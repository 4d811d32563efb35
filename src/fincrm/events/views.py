"""Event pages: the events a user may see, one with its invitees (only the clients the user
may see), a new one or a change for those who organise, invitations, check-in at the door,
follow-up; and the answer page an invitation link opens (the signed token is the credential)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.permissions import get_restricted_or_404
from fincrm.messaging.choices import BlockReason

from . import services
from .choices import ResponseSource
from .forms import AnswerForm, CheckInForm, EventForm
from .models import Event, Invitee

#: Who may organise events: the invitees are always clients they may act on.
ORGANISERS = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN)


def _may_organise(user) -> bool:
    return bool(user.is_superuser or user.role in ORGANISERS)


@login_required
def event_list(request):
    events = Event.objects.restrict(request.user, "view").select_related("organiser")
    return render(
        request,
        "events/event_list.html",
        {"events": events, "may_organise": _may_organise(request.user)},
    )


def _save(request, form: EventForm, *, organiser) -> Event | None:
    if request.method != "POST" or not form.is_valid():
        return None
    event = form.save(commit=False)
    event.audience = form.audience()
    event.organiser = organiser
    try:
        event.full_clean()
    except ValidationError as error:
        form.add_error(None, error)
        return None
    event.save()
    return event


@login_required
def event_new(request):
    if not _may_organise(request.user):
        raise PermissionDenied
    form = EventForm(request.POST or None)
    event = _save(request, form, organiser=request.user)
    if event is not None:
        return redirect("events:detail", pk=event.pk)
    return render(request, "events/event_form.html", {"form": form})


@login_required
def event_edit(request, pk: int):
    event = get_restricted_or_404(request.user, Event, "change", pk=pk)
    form = EventForm(request.POST or None, instance=event)
    saved = _save(request, form, organiser=event.organiser)
    if saved is not None:
        return redirect("events:detail", pk=saved.pk)
    return render(request, "events/event_form.html", {"form": form, "event": event})


@login_required
def event_detail(request, pk: int):
    event = get_restricted_or_404(request.user, Event, "view", pk=pk)
    invitees = (
        Invitee.objects.restrict(request.user, "view")
        .filter(event=event)
        .select_related("customer", "message")
    )
    may_change = Event.objects.restrict(request.user, "change").filter(pk=event.pk).exists()
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "invitees": invitees,
            "counts": services.event_counts(event=event),
            "may_change": may_change,
            "audience_size": (
                len(services.event_audience(event=event, user=request.user)) if may_change else None
            ),
        },
    )


@login_required
@require_POST
def event_invite(request, pk: int):
    event = get_restricted_or_404(request.user, Event, "change", pk=pk)
    result = services.event_invite(event=event, user=request.user)
    messages.success(
        request,
        _("%(invited)s clients invited.") % {"invited": result["invited"]},
    )
    for code, n in result["skipped"].items():
        label = BlockReason(code).label if code in BlockReason.values else code
        messages.info(request, _("Not invited, %(reason)s: %(n)s") % {"reason": label, "n": n})
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_check_in(request, pk: int):
    """Check in the ticked invitees (one button per row, or several ticked at once)."""
    event = get_restricted_or_404(request.user, Event, "change", pk=pk)
    invitees = Invitee.objects.restrict(request.user, "change").filter(event=event)
    form = CheckInForm(request.POST, invitee_ids=invitees.values_list("pk", flat=True))
    if not form.is_valid():
        messages.error(request, _("Tick the clients to check in."))
        return redirect("events:detail", pk=event.pk)
    count = services.invitees_check_in(
        invitees=invitees.filter(pk__in=form.cleaned_data["invitees"]), user=request.user
    )
    messages.success(request, _("%(count)s clients checked in.") % {"count": count})
    return redirect("events:detail", pk=event.pk)


@login_required
@require_POST
def event_follow_up(request, pk: int):
    event = get_restricted_or_404(request.user, Event, "change", pk=pk)
    counts = services.event_follow_up(event=event)
    messages.success(
        request,
        _("Follow-up tasks: %(attended)s attendees, %(no_show)s no-shows.") % counts,
    )
    return redirect("events:detail", pk=event.pk)


def rsvp_link(request, token: str):
    """The answer page of an invitation link: no login, the signed token names the event and
    the client; a tampered or unknown token is a 404."""
    invitee = services.invitee_for_token(token)
    if invitee is None:
        raise Http404
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitee = services.invitee_respond(
                invitee=invitee,
                attending=form.cleaned_data["attending"],
                source=ResponseSource.LINK,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "events/rsvp_done.html", {"invitee": invitee})
    return render(request, "events/rsvp.html", {"invitee": invitee, "form": form})
