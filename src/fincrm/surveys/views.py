from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.views import flash_errors
from fincrm.customers.selectors import customer_get

from . import selectors, services
from .forms import QuestionFormSet, SurveyForm, answer_fields
from .models import Survey

#: Who builds surveys and reads every result they may see.
BUILDER_ROLES = frozenset({Role.SERVICE_AGENT, Role.TEAM_LEAD, Role.ADMIN})


def _builder(user) -> None:
    if not (user.is_superuser or user.role in BUILDER_ROLES):
        raise PermissionDenied


@login_required
def survey_list(request):
    surveys = Survey.objects.annotate(
        sent=Count("invitations"),
        answered=Count("invitations", filter=Q(invitations__answered_at__isnull=False)),
    )
    may_build = request.user.is_superuser or request.user.role in BUILDER_ROLES
    return render(request, "surveys/survey_list.html", {"surveys": surveys, "may_build": may_build})


@login_required
def survey_create(request):
    _builder(request.user)
    form = SurveyForm(request.POST or None)
    rows = QuestionFormSet(request.POST or None, prefix="q")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        specs = [spec for row in rows if (spec := row.spec())]
        try:
            survey = services.survey_create(questions=specs, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("surveys:detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "rows": rows})


@login_required
def survey_detail(request, pk: int):
    survey = get_object_or_404(Survey, pk=pk)
    try:
        days = max(7, min(int(request.GET.get("days", 90)), 730))
    except ValueError:
        days = 90
    results = selectors.survey_results(
        user=request.user, survey=survey, by=request.GET.get("by", "tier"), days=days
    )
    return render(request, "surveys/survey_detail.html", {"survey": survey, **results})


@login_required
@require_POST
def survey_invite(request, customer_pk: int):
    """Invite one client by hand; the link is shown once (only its hash is kept)."""
    customer = customer_get(user=request.user, pk=customer_pk, action="change")
    survey_pk = request.POST.get("survey", "")
    if not survey_pk.isdigit():
        raise Http404
    survey = get_object_or_404(Survey, pk=int(survey_pk), is_active=True)
    _invitation, token = services.survey_invite(
        survey=survey, customer=customer, cause=f"manual:{request.user.pk}:{survey.pk}"
    )
    if token:
        messages.success(
            request,
            _("Invitation created. Link (shown once): %(url)s")
            % {"url": services.answer_url(token)},
        )
    else:
        messages.info(request, _("This client was already invited to this survey."))
    return redirect(customer.get_absolute_url())


def answer_form(request, invitation, *, answered, closed):
    """Show an invitation's questions and take the answers (the public token page and the
    portal share it). ``answered()`` and ``closed(message)`` make the responses after a
    successful answer and when the survey closed meanwhile; field errors stay on the form."""
    errors = {}
    if request.method == "POST":
        data = {k: request.POST.getlist(k) for k in request.POST if k.startswith("q")}
        try:
            services.survey_answer(invitation=invitation, data=data)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # answered or expired meanwhile
                return closed(exc.messages[0])
            errors = {name: messages_[0] for name, messages_ in exc.message_dict.items()}
        else:
            return answered()
    fields = answer_fields(list(invitation.survey.questions.all()))
    for field in fields:
        field["error"] = errors.get(field["name"])
        field["value"] = request.POST.getlist(field["name"]) if request.method == "POST" else []
    return render(request, "surveys/answer.html", {"invitation": invitation, "fields": fields})


def answer(request, token: str):
    """The public answer page: no login; the token decides the client and works once."""

    def closed(reason, status=410):
        return render(request, "surveys/answer_closed.html", {"reason": reason}, status=status)

    invitation = services.invitation_for_token(token)
    if invitation is None:
        return closed(_("This survey link is not valid."), status=404)
    if invitation.answered_at or not invitation.is_open:
        return closed(
            services.MSG_ALREADY_ANSWERED if invitation.answered_at else services.MSG_EXPIRED
        )
    return answer_form(
        request,
        invitation,
        answered=lambda: render(
            request, "surveys/answer_thanks.html", {"survey": invitation.survey}
        ),
        closed=closed,
    )
