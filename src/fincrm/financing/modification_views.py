"""The pages' side of extensions and restructurings: the 360° page's request form and the
pending request's approve/reject form post here, and go back to the client's facilities with
what happened (a refusal names the rule and changes nothing)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.views import flash_errors

from . import modifications
from .choices import ModificationStatus
from .forms import DecisionForm, ModificationForm
from .services import policy_current
from .views import flash_form_errors


def _back(facility):
    return redirect(facility.customer.get_absolute_url() + "#facilities")


@login_required
@require_POST
def modification_request(request, pk: int):
    facility = modifications.facility_for_modification(request.user, pk)
    form = ModificationForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back(facility)
    try:
        modifications.modification_request(
            facility=facility, user=request.user, policy=policy_current()[0], **form.cleaned_data
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Request recorded: it waits for an approver."))
    return _back(facility)


@login_required
@require_POST
def modification_decide(request, pk: int):
    modification = modifications.modification_for(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back(modification.facility)
    policy, version = policy_current()
    try:
        decided = modifications.modification_decide(
            modification=modification,
            user=request.user,
            policy=policy,
            policy_version=version,
            **form.cleaned_data,
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not decide this request."))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        if decided.status == ModificationStatus.PENDING:
            messages.success(
                request, _("Your approval is recorded; the request waits for the other approvers.")
            )
        else:
            messages.success(
                request,
                _("Decision recorded: %(status)s.") % {"status": decided.get_status_display()},
            )
    return _back(modification.facility)


@login_required
@require_POST
def modification_cancel(request, pk: int):
    modification = modifications.modification_for(request.user, pk)
    modifications.facility_for_modification(request.user, modification.facility_id)
    try:
        modifications.modification_cancel(modification=modification, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Request withdrawn."))
    return _back(modification.facility)
