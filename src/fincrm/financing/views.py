from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.views import RestrictedListView, flash_errors
from fincrm.customers.models import Customer
from fincrm.evaluation.selectors import green_channel_tiers

from . import selectors, services
from .choices import pipeline_choices
from .filtersets import ApplicationFilterSet
from .forms import PaymentForm, StageMoveForm
from .models import Application, ApplicationDocument, Installment


class ApplicationListView(RestrictedListView):
    model = Application
    filterset_class = ApplicationFilterSet
    template_name = "financing/application_list.html"

    def get_queryset(self):
        """Green-channel clients' applications first (they jump the queue), then the rest.

        An explicit sort chosen in the filters still wins over the green-channel order.
        """
        green = Q(customer__classification__tier__in=green_channel_tiers())
        qs = (
            super()
            .get_queryset()
            .select_related("customer", "product", "customer__owner")
            .annotate(
                green_channel=Case(
                    When(green, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
            )
        )
        if self.request.GET.get("ordering"):
            return qs
        return qs.order_by("-green_channel", *Application._meta.ordering)


def _application_for(user, pk: int, action: str = "view") -> Application:
    qs = Application.objects.restrict(user, action).select_related("customer", "product")
    return get_object_or_404(qs, pk=pk)


@login_required
def application_detail(request, pk: int):
    application = _application_for(request.user, pk)
    can_change = Application.objects.restrict(request.user, "change").filter(pk=pk).exists()
    context = {
        "application": application,
        "documents": application.documents.all(),
        "changes": application.stage_changes.select_related("changed_by"),
        "pipeline": pipeline_choices(),
        "can_change": can_change,
        "form": StageMoveForm(application=application) if can_change else None,
    }
    return render(request, "financing/application_detail.html", context)


@login_required
@require_POST
def application_move(request, pk: int):
    application = _application_for(request.user, pk, "change")
    form = StageMoveForm(request.POST, application=application)
    if form.is_valid():
        try:
            services.application_move_stage(
                application=application,
                to_stage=form.cleaned_data["to_stage"],
                user=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Stage updated."))
    else:
        messages.error(request, _("Choose a stage this application can move to."))
    return redirect(application)


@login_required
@require_POST
def installment_missed(request, pk: int):
    installment = get_object_or_404(Installment.objects.restrict(request.user, "view"), pk=pk)
    selectors.facility_for_servicing(request.user, installment.facility_id)
    try:
        services.installment_report_missed(installment=installment, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Missed payment recorded; the client was re-evaluated."))
    return redirect(installment.facility.customer.get_absolute_url() + "#facilities")


@login_required
@require_POST
def payment_create(request, pk: int):
    facility = selectors.facility_for_servicing(request.user, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_record(facility=facility, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Payment recorded."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return redirect(facility.customer.get_absolute_url() + "#facilities")


@login_required
def facility_schedule(request, pk: int):
    """A facility's repayment schedule, as the 360° page shows it: loaded when a closed
    facility's schedule is opened (live ones are on the page already)."""
    from django.utils import timezone

    from .models import Facility

    facility = get_object_or_404(
        Facility.objects.restrict(request.user, "view").select_related("customer"), pk=pk
    )
    context = {
        "facility": facility,
        "installments": facility.installments.order_by("number"),
        "can_service": request.user.has_perm("customers.change_customer", facility.customer)
        or request.user.has_perm("risk.decide"),
        "today": timezone.localdate(),
    }
    return render(request, "financing/_schedule.html", context)


@login_required
def document_file(request, pk: int):
    """An uploaded application document, to staff who may see the client (logged); media
    files are never served directly."""
    from django.http import FileResponse, Http404

    from fincrm.core.models import AccessAction, access_log

    document = get_object_or_404(
        ApplicationDocument.objects.select_related("application__customer"),
        pk=pk,
        application__customer__in=Customer.objects.restrict(request.user, "view"),
    )
    if not document.file:
        raise Http404
    access_log(user=request.user, customer=document.application.customer,
               action=AccessAction.DOCUMENT, fields=document.get_kind_display())  # fmt: skip
    return FileResponse(document.file.open("rb"), as_attachment=False,
                        filename=document.file.name.rsplit("/", 1)[-1])  # fmt: skip
