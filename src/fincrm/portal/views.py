"""The client portal: a client's own applications (stage, history, missing documents with
upload), facilities and repayment schedule. Every query starts from the logged-in account's
client; an id of anything else is a 404."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.campaigns.selectors import portal_offers
from fincrm.core.views import flash_errors
from fincrm.events import services as events
from fincrm.events.choices import ResponseSource
from fincrm.events.models import Invitee
from fincrm.financing.choices import CLOSED_STAGES, DocumentStatus, FacilityStatus, pipeline_choices
from fincrm.financing.models import Application, ApplicationDocument, Facility, Installment
from fincrm.loyalty.selectors import loyalty_summary
from fincrm.reports.selectors import portal_reports
from fincrm.service.models import Ticket
from fincrm.service.services import ticket_open
from fincrm.surveys.models import Invitation
from fincrm.surveys.views import answer_form

from . import services
from .forms import AssistantForm, PortalApplicationForm, PortalTicketForm


def portal_login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "portal:login")
        account = getattr(request.user, "portal_account", None)
        if account is None:
            raise Http404  # staff use the CRM, not the portal
        request.portal = account
        return view(request, *args, **kwargs)

    return wrapper


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = False
    next_page = "portal:home"


@portal_login_required
def home(request):
    customer = request.portal.customer
    applications = (
        Application.objects.filter(customer=customer)
        .select_related("product")
        .prefetch_related("documents", "stage_changes")
        .order_by("-created_at")
    )
    today = timezone.localdate()
    facilities = (
        Facility.objects.filter(customer=customer, status=FacilityStatus.ACTIVE)
        .select_related("product")
        .prefetch_related(Prefetch("installments", queryset=Installment.objects.order_by("number")))
    )
    for facility in facilities:
        unpaid = [i for i in facility.installments.all() if i.paid_off_on is None]
        facility.next_due = next((i for i in unpaid if i.due_date >= today), None)
        facility.overdue = [i for i in unpaid if i.due_date < today]
    return render(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "open_applications": [a for a in applications if a.stage not in CLOSED_STAGES],
            "closed_applications": [a for a in applications if a.stage in CLOSED_STAGES],
            "facilities": facilities,
            "pipeline": pipeline_choices(),
            "needs_upload": (DocumentStatus.MISSING, DocumentStatus.REJECTED),
            "loyalty": loyalty_summary(customer=customer),
            "surveys": [
                i
                for i in Invitation.objects.filter(customer=customer, answered_at__isnull=True)
                .select_related("survey")
                .order_by("-sent_at")
                if i.is_open
            ],
            "tickets": Ticket.objects.filter(customer=customer).order_by("-opened_at")[:20],
            "reports": portal_reports(customer=customer)[:24],
            "events": events.invitations_ahead(customer=customer),
            "offers": portal_offers(customer=customer),
            "ticket_form": PortalTicketForm(),
            "apply_form": PortalApplicationForm(),
        },
    )


@portal_login_required
@require_POST
def event_answer(request, pk: int):
    """Answer an event's invitation from the portal (the session proves the client)."""
    invitee = get_object_or_404(Invitee, event_id=pk, customer=request.portal.customer)
    try:
        invitee = events.invitee_respond(
            invitee=invitee,
            attending=request.POST.get("attending") == "1",
            source=ResponseSource.PORTAL,
        )
    except ValidationError as error:
        flash_errors(request, error)
    else:
        messages.success(
            request,
            _("Your answer: %(answer)s.") % {"answer": invitee.get_response_display()},
        )
    return redirect("portal:home")


@portal_login_required
def survey(request, pk: int):
    """Answer an open survey from the portal (the session proves the client: no token)."""
    invitation = get_object_or_404(
        Invitation.objects.select_related("survey"), pk=pk, customer=request.portal.customer
    )
    if not invitation.is_open:
        messages.info(request, _("This survey is closed."))
        return redirect("portal:home")

    def answered():
        messages.success(request, _("Thank you for your answers!"))
        return redirect("portal:home")

    def closed(reason):
        messages.error(request, reason)
        return redirect("portal:home")

    return answer_form(request, invitation, answered=answered, closed=closed)


@portal_login_required
@require_POST
def complaint(request):
    """A complaint or request from the client; it follows its status on the home page."""
    form = PortalTicketForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("portal:home")
    ticket_open(
        customer=request.portal.customer,
        channel="portal",
        source="portal",
        created_by=request.user,
        **form.cleaned_data,
    )
    messages.success(request, _("Thank you: we received it and will reply soon."))
    return redirect(reverse("portal:home") + "#service")


@portal_login_required
@require_POST
def upload(request, pk: int):
    document = get_object_or_404(
        ApplicationDocument, pk=pk, application__customer=request.portal.customer
    )
    file = request.FILES.get("file")
    if file is None:
        messages.error(request, _("Choose a file to upload."))
    else:
        try:
            services.document_upload(document=document, file=file, account=request.portal)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Thank you: the document was received."))
    return redirect("portal:home")


@portal_login_required
@require_POST
def apply(request):
    """The client applies for financing: a lead for the account manager, who is notified;
    the client follows its progress on the home page."""
    from fincrm.financing.services import application_request

    form = PortalApplicationForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(reverse("portal:home") + "#apply")
    application = application_request(customer=request.portal.customer, **form.cleaned_data)
    messages.success(
        request,
        _("Thank you: application %(number)s was received; your account manager will contact you.")
        % {"number": application.number},
    )
    return redirect(reverse("portal:home") + f"#application-{application.pk}")


@portal_login_required
def report(request, pk: int):
    """One of the client's own value-added reports (another client's is a 404)."""
    report = get_object_or_404(portal_reports(customer=request.portal.customer), pk=pk)
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=report.filename,
                        content_type="application/pdf")  # fmt: skip


ASSISTANT_HISTORY = "portal_assistant"
ASSISTANT_KEEP = 6


@portal_login_required
def assistant_page(request):
    """Ask the assistant: answers from the client's own data and the FAQ base; a question it
    cannot answer is passed to a person as a request on demand."""
    from . import assistant

    history = request.session.get(ASSISTANT_HISTORY, [])
    form = AssistantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reply = assistant.answer(
            customer=request.portal.customer,
            question=form.cleaned_data["question"],
            today=timezone.localdate(),
        )
        history = [
            {
                "question": reply.question,
                "text": reply.text,
                "lines": reply.lines,
                "handover": reply.handover,
            },
            *history,
        ][:ASSISTANT_KEEP]
        request.session[ASSISTANT_HISTORY] = history
        return redirect("portal:assistant")
    return render(request, "portal/assistant.html", {"form": form, "history": history})


@portal_login_required
@require_POST
def assistant_handover(request):
    """The assistant's unanswered question goes to the account manager as a request."""
    from . import assistant

    form = AssistantForm(request.POST)
    if not form.is_valid():
        return redirect("portal:assistant")
    ticket = assistant.handover(
        customer=request.portal.customer, question=form.cleaned_data["question"], user=request.user
    )
    history = request.session.get(ASSISTANT_HISTORY, [])
    for item in history:
        if item["question"] == form.cleaned_data["question"]:
            item["handover"] = False
    request.session[ASSISTANT_HISTORY] = history
    messages.success(
        request,
        _("Your question was passed to your account manager (request %(number)s).")
        % {"number": ticket.pk},
    )
    return redirect(reverse("portal:home") + "#service")
