"""A facility after disbursement: its evidence of the use of funds, the guarantees and
insurance covering it, and claims. Every object in a URL goes through the permission path
(``restrict`` / ``postloan.selectors``): unseen is a 404, seen but not allowed a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fincrm.core.files import stored_file_response
from fincrm.core.views import flash_errors
from fincrm.customers.models import Customer
from fincrm.financing.models import Facility
from fincrm.financing.views import flash_form_errors

from . import selectors, services
from .forms import (
    ClaimDecideForm,
    ClaimForm,
    EvidenceUploadForm,
    GuaranteeForm,
    PolicyForm,
    RejectForm,
)
from .models import Claim, EvidenceItem, GuaranteeContract, InsurancePolicy

MSG_NO_CLIENT = gettext_lazy("No client of yours has this number.")


def _page(facility_pk: int) -> str:
    return reverse("postloan:facility", args=[facility_pk])


def _covers(facility: Facility) -> list[tuple[str, str]]:
    guarantees = GuaranteeContract.objects.filter(facilities=facility)
    policies = InsurancePolicy.objects.filter(facilities=facility)
    return [
        (f"g{g.pk}", f"{GuaranteeContract._meta.verbose_name} {g.number}") for g in guarantees
    ] + [(f"p{p.pk}", f"{InsurancePolicy._meta.verbose_name} {p}") for p in policies]


@login_required
def facility_page(request, pk: int):
    facility = get_object_or_404(
        Facility.objects.restrict(request.user, "view").select_related("customer", "product"),
        pk=pk,
    )
    user = request.user
    may_record = user.has_perm("customers.change_customer", facility.customer) or user.has_perm(
        "risk.decide"
    )
    today = timezone.localdate()
    context = {
        "facility": facility,
        "today": today,
        "may_record": may_record,
        "may_review": selectors.may_review(user),
        "may_decide_claims": user.has_perm("risk.decide"),
        "defaulted": services.is_defaulted(facility),
        "upload_form": EvidenceUploadForm(),
        "guarantee_form": GuaranteeForm(customer=facility.customer),
        "policy_form": PolicyForm(customer=facility.customer),
        "claim_form": ClaimForm(covers=_covers(facility), initial={"filed_on": today}),
        "decide_form": ClaimDecideForm(initial={"decided_on": today}),
        **selectors.facility_postloan(facility=facility, today=today),
    }
    return render(request, "postloan/facility.html", context)


def _item_for_upload(user, pk: int) -> EvidenceItem:
    item = get_object_or_404(EvidenceItem.objects.restrict(user, "view"), pk=pk)
    selectors.facility_for_postloan(user, item.facility_id)
    return item


@login_required
@require_POST
def evidence_upload(request, pk: int):
    item = _item_for_upload(request.user, pk)
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(_page(item.facility_id))
    try:
        item = services.evidence_upload(
            item=item,
            upload=form.cleaned_data["file"],
            payee=form.cleaned_data["payee"],
            amount=form.cleaned_data["amount"],
            user=request.user,
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        if item.flags:
            messages.warning(
                request,
                _("Evidence received, but it does not fit: %(why)s.")
                % {"why": "；".join(item.flag_labels)},
            )
        else:
            messages.success(request, _("Evidence received: it waits for a reviewer."))
    return redirect(_page(item.facility_id))


@login_required
@require_POST
def evidence_decide(request, pk: int, decision: str):
    item = selectors.evidence_for_review(request.user, pk)
    form = RejectForm(request.POST) if decision == "reject" else None
    if form is not None and not form.is_valid():
        flash_form_errors(request, form)
        return redirect(_page(item.facility_id))
    try:
        services.evidence_decide(
            item=item,
            user=request.user,
            accept=decision == "accept",
            reason=form.cleaned_data["reason"] if form else "",
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(
            request, _("Evidence accepted.") if decision == "accept" else _("Evidence rejected.")
        )
    return redirect(_page(item.facility_id))


@login_required
def evidence_file(request, pk: int):
    """An evidence file, to staff who may see the client (logged); media files are never
    served directly."""
    item = get_object_or_404(
        EvidenceItem.objects.select_related("facility__customer"),
        pk=pk,
        facility__customer__in=Customer.objects.restrict(request.user, "view"),
    )
    return stored_file_response(
        item.file, user=request.user, customer=item.facility.customer, what=item.get_kind_display()
    )


def _record(request, pk: int, form_class, service, extra=None):
    facility = selectors.facility_for_postloan(request.user, pk)
    form = form_class(request.POST, customer=facility.customer)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(_page(facility.pk))
    data = dict(form.cleaned_data)
    facilities = list(data.pop("facilities"))
    try:
        if extra:
            data = extra(request.user, data)
        service(customer=facility.customer, facilities=facilities, user=request.user, **data)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Recorded."))
    return redirect(_page(facility.pk))


def _guarantor(user, data):
    """The guarantor client by its number, among the clients the user sees."""
    number = data.pop("guarantor_client")
    if number:
        data["guarantor_client"] = Customer.objects.restrict(user, "view").filter(pk=number).first()
        if data["guarantor_client"] is None:
            raise ValidationError(MSG_NO_CLIENT)
    return data


@login_required
@require_POST
def guarantee_create(request, pk: int):
    return _record(request, pk, GuaranteeForm, services.guarantee_record, _guarantor)


@login_required
@require_POST
def policy_create(request, pk: int):
    return _record(request, pk, PolicyForm, services.policy_record)


@login_required
@require_POST
def claim_create(request, pk: int):
    facility = selectors.facility_for_postloan(request.user, pk)
    form = ClaimForm(request.POST, covers=_covers(facility))
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(_page(facility.pk))
    code = form.cleaned_data["cover"]
    model = GuaranteeContract if code[0] == "g" else InsurancePolicy
    cover = model.objects.get(pk=int(code[1:]))
    try:
        services.claim_file(
            facility=facility,
            amount=form.cleaned_data["amount_claimed"],
            filed_on=form.cleaned_data["filed_on"],
            note=form.cleaned_data["note"],
            user=request.user,
            **{"guarantee" if model is GuaranteeContract else "policy": cover},
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Claim filed."))
    return redirect(_page(facility.pk))


@login_required
@require_POST
def claim_decide(request, pk: int):
    """Risk officers record the guarantor's or insurer's answer (``risk.decide``)."""
    from django.core.exceptions import PermissionDenied

    claim = get_object_or_404(Claim.objects.restrict(request.user, "view"), pk=pk)
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    form = ClaimDecideForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(_page(claim.facility_id))
    try:
        services.claim_decide(
            claim=claim,
            user=request.user,
            paid=form.cleaned_data["outcome"] == "paid",
            on=form.cleaned_data["decided_on"],
            amount_recovered=form.cleaned_data["amount_recovered"],
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Claim decided."))
    return redirect(_page(claim.facility_id))
