from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Case, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from fincrm.core.excel import local_time
from fincrm.core.params import query_id
from fincrm.core.policy import green_channel_tiers
from fincrm.core.redirects import redirect_next
from fincrm.core.templatetags.fincrm_tags import person
from fincrm.core.views import RestrictedListView, flash_errors
from fincrm.customers.models import Customer

from . import pricing, selectors, services, tranches
from .choices import LETTER_STEPS, CollectionStatus, Stage, pipeline_choices
from .filtersets import ApplicationFilterSet
from .forms import (
    ApplicationForm,
    CollectionOutcomeForm,
    DecisionForm,
    DocumentRejectForm,
    DocumentUploadForm,
    PaymentForm,
    StageMoveForm,
    TermsForm,
    TranchePlanFormSet,
)
from .models import (
    Application,
    ApplicationDocument,
    CollectionAction,
    Installment,
    Payment,
    Product,
)


class ApplicationListView(RestrictedListView):
    model = Application
    filterset_class = ApplicationFilterSet
    template_name = "financing/application_list.html"
    export_name = "applications"
    export_title = gettext_lazy("Applications")
    export_columns = (
        (gettext_lazy("Number"), lambda a: a.number),
        (gettext_lazy("Client"), lambda a: a.customer.name),
        (gettext_lazy("Product"), lambda a: a.product.name),
        (gettext_lazy("Amount"), lambda a: a.amount),
        (gettext_lazy("Tenor (months)"), lambda a: a.tenor_months),
        (gettext_lazy("Stage"), lambda a: a.get_stage_display()),
        (gettext_lazy("Stage since"), lambda a: local_time(a.stage_changed_at)),
        (gettext_lazy("Account manager"), lambda a: person(a.customer.owner, "")),
        (gettext_lazy("Green channel"), lambda a: "✓" if a.green_channel else ""),
    )

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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_open"] = Customer.objects.restrict(self.request.user, "change").exists()
        return context


class GreenChannelQueueView(RestrictedListView):
    """The green channel's own queue: core clients' applications by decision deadline, the
    clock from submission for review to the decision, and how the channel keeps its word."""

    model = Application
    template_name = "financing/green_channel.html"

    def get_queryset(self):
        self.now = timezone.now()
        queue, self.figures = selectors.green_channel_queue(
            self.request.user, now=self.now, policy=services.policy_current()[0]
        )
        return queue

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        hours = self.figures["hours"]
        context["figures"] = self.figures
        context["rows"] = [
            (a, selectors.sla_clock(a, now=self.now, hours=hours)) for a in context["object_list"]
        ]
        return context


def _application_for(user, pk: int, action: str = "view") -> Application:
    qs = Application.objects.restrict(user, action).select_related("customer", "product")
    return get_object_or_404(qs, pk=pk)


@login_required
def application_detail(request, pk: int):
    application = _application_for(request.user, pk)
    context = {
        "application": application,
        "pipeline": pipeline_choices(),
        **selectors.application_panels(request.user, application),
    }
    if context["can_change"]:
        context["form"] = StageMoveForm(
            application=application, allowed=services.allowed_stages(application)
        )
    context.update(selectors.tranche_panel(application, can_change=context["can_change"]))
    context["pricing"] = pricing.application_pricing(application)
    if context["tranche_plan_open"]:
        context["tranche_formset"] = TranchePlanFormSet(
            prefix="tranches",
            initial=[{"amount": t.amount, "planned_on": t.planned_on} for t in context["tranches"]],
        )
    return render(request, "financing/application_detail.html", context)


@login_required
def application_new(request):
    """Open an application: from the 360° page (the client fixed) or the applications list."""
    customers = Customer.objects.restrict(request.user, "change").order_by("name")
    initial = {"frequency": "monthly", "repayment_method": "equal_instalment"}
    customer_id = query_id(request.GET, "customer")
    if customer_id:
        initial["customer"] = get_object_or_404(customers, pk=customer_id)
    form = ApplicationForm(request.POST or None, initial=initial, customers=customers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.application_create(
                customer=data["customer"],
                product=data["product"],
                amount=data["amount"],
                tenor_months=data["tenor_months"],
                purpose=data["purpose"],
                repayment_method=data["repayment_method"],
                frequency=data["frequency"],
                rate=data["rate"],
                created_by=request.user,
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(
                request, _("Application opened: %(number)s.") % {"number": application.number}
            )
            return redirect(application)
    products = Product.objects.filter(is_active=True)
    context = {
        "form": form,
        "products": products,
        "pricing_rules": pricing.rule_rows(services.policy_current()[0]),
    }
    return render(request, "financing/application_form.html", context)


@login_required
@require_POST
def application_terms(request, pk: int):
    application = _application_for(request.user, pk, "change")
    form = TermsForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            services.application_set_terms(
                application=application, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Terms saved."))
    return redirect(application)


@login_required
@require_POST
def application_decide(request, pk: int):
    """Approve or reject within the user's authority: a refusal says which rule."""
    application = selectors.application_for_decision(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect(application)
    target = Stage.APPROVED if form.cleaned_data["vote"] == "approve" else Stage.REJECTED
    try:
        moved = services.application_move_stage(
            application=application,
            to_stage=target,
            user=request.user,
            note=form.cleaned_data["note"],
            override_reason=form.cleaned_data["override_reason"],
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not decide this application."))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        if moved.stage == Stage.CREDIT_REVIEW:
            messages.success(
                request,
                _("Your approval is recorded; the application waits for the other approvers."),
            )
        else:
            messages.success(
                request, _("Decision recorded: %(stage)s.") % {"stage": moved.get_stage_display()}
            )
    return redirect(application)


@login_required
@require_POST
def document_upload(request, pk: int):
    document = get_object_or_404(
        ApplicationDocument.objects.restrict(request.user, "change"), pk=pk
    )
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            services.document_upload(
                document=document, upload=form.cleaned_data["file"], user=request.user
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Document uploaded: it waits for a reviewer."))
    return redirect(document.application)


@login_required
@require_POST
def document_decide(request, pk: int, decision: str):
    document = selectors.document_for_review(
        request.user,
        ApplicationDocument.objects.values_list("application_id", flat=True).filter(pk=pk).first()
        or 0,
        pk,
    )
    form = DocumentRejectForm(request.POST) if decision == "reject" else None
    if form is not None and not form.is_valid():
        flash_form_errors(request, form)
        return redirect(document.application)
    try:
        services.document_decide(
            document=document,
            user=request.user,
            accept=decision == "accept",
            reason=form.cleaned_data["reason"] if form else "",
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Document accepted.")
            if decision == "accept"
            else _("Document rejected; the uploader sees the reason."),
        )
    return redirect(document.application)


@login_required
@require_POST
def application_move(request, pk: int):
    application = _application_for(request.user, pk, "change")
    form = StageMoveForm(
        request.POST, application=application, allowed=services.allowed_stages(application)
    )
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


def _to_tranches(application: Application):
    return redirect(application.get_absolute_url() + "#tranches")


@login_required
@require_POST
def application_tranches(request, pk: int):
    """Set the tranche plan at the contract stage (empty rows are no tranche; no row at all:
    the whole amount at once)."""
    application = selectors.application_for_change(request.user, pk)
    formset = TranchePlanFormSet(request.POST, prefix="tranches")
    if not formset.is_valid():
        for form in formset:
            flash_form_errors(request, form)
        for error in formset.non_form_errors():
            messages.error(request, error)
        return _to_tranches(application)
    try:
        tranches.tranches_set(application=application, plan=formset.plan(), user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Tranche plan saved."))
    return _to_tranches(application)


@login_required
@require_POST
def tranche_disburse(request, pk: int, tranche_id: int):
    """Draw a planned tranche today into the application's facility."""
    tranche = selectors.tranche_for_change(request.user, pk, tranche_id)
    try:
        tranches.tranche_disburse(tranche=tranche, user=request.user, on=timezone.localdate())
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Tranche %(number)s disbursed: %(amount)s CNY.")
            % {"number": tranche.number, "amount": f"{tranche.amount:,.2f}"},
        )
    return _to_tranches(tranche.application)


@login_required
@require_POST
def tranche_cancel(request, pk: int, tranche_id: int):
    """Cancel a planned tranche after the disbursement: the facility's limit falls by it."""
    tranche = selectors.tranche_for_change(request.user, pk, tranche_id)
    try:
        tranches.tranche_cancel(tranche=tranche, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Tranche %(number)s cancelled.") % {"number": tranche.number})
    return _to_tranches(tranche.application)


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
            services.payment_record(facility=facility, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Payment recorded."))
    else:
        flash_form_errors(request, form)
    return redirect(facility.customer.get_absolute_url() + "#facilities")


@login_required
@require_POST
def payment_reverse(request, pk: int):
    from .servicing import payment_reverse as reverse_payment

    payment = get_object_or_404(Payment.objects.restrict(request.user, "view"), pk=pk)
    facility = selectors.facility_for_servicing(request.user, payment.facility_id)
    try:
        reverse_payment(payment=payment, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Payment reversed by a counter-entry."))
    return redirect(facility.customer.get_absolute_url() + "#facilities")


class CollectionListView(RestrictedListView):
    """The collections queue: open actions first, the longest arrears first; ``?mine=1``
    the user's own."""

    model = CollectionAction
    template_name = "financing/collection_list.html"

    def get_queryset(self):
        qs = (
            super()
            .get_queryset()
            .select_related("facility__customer", "assigned_to", "message")
            .prefetch_related("letters__created_by")
        )
        if self.request.GET.get("mine"):
            qs = qs.filter(assigned_to=self.request.user)
        if self.request.GET.get("all") != "1":
            qs = qs.filter(status=CollectionStatus.OPEN)
        return qs.order_by("status", "-days_past_due", "due_on", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["outcome_form"] = CollectionOutcomeForm()
        context["letter_steps"] = LETTER_STEPS
        return context


@login_required
@require_POST
def collection_outcome(request, pk: int):
    from .collections import collection_record_outcome

    action = selectors.collection_action_for(request.user, pk)
    form = CollectionOutcomeForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
    else:
        try:
            collection_record_outcome(action=action, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Outcome recorded."))
    return redirect_next(request, "financing:collections")


@login_required
@require_GET
def collection_letter(request, pk: int):
    """The letter of a collection action at a letter step, ``?format=pdf`` or ``docx``, to
    whoever may work the action (``selectors.collection_action_for``); each download is
    recorded on the action and in the access log. Refused (nothing overdue): back to the
    queue with the reason."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    from .letters import CONTENT_TYPES, collection_letter_issue, letter_filename

    action = selectors.collection_action_for(request.user, pk)
    try:
        record, content = collection_letter_issue(
            action=action, user=request.user, file_format=request.GET.get("format", "pdf")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect_next(request, "financing:collections")
    disposition = content_disposition_header(True, letter_filename(record))
    return HttpResponse(content, content_type=CONTENT_TYPES[record.file_format],
                        headers={"Content-Disposition": disposition})  # fmt: skip


def flash_form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


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
    from fincrm.core.files import stored_file_response

    document = get_object_or_404(
        ApplicationDocument.objects.select_related("application__customer"),
        pk=pk,
        application__customer__in=Customer.objects.restrict(request.user, "view"),
    )
    return stored_file_response(
        document.file,
        user=request.user,
        customer=document.application.customer,
        what=document.get_kind_display(),
    )
