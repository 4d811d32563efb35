"""The 360° page's report card: a preview of this month's report, the reports made so far
(download), and "generate and send now" for those who may change the client."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.models import Customer

from . import services
from .models import ClientReport
from .selectors import report_content


@login_required
def preview(request, customer_pk: int):
    """This month's report as it would read today (an htmx fragment of the 360° page)."""
    customer = get_restricted_or_404(
        request.user, Customer.objects.select_related("owner", "team"), "view", pk=customer_pk
    )
    content = report_content(customer=customer, as_of=timezone.localdate())
    return render(request, "reports/_preview.html", {"report": content})


@login_required
@require_POST
def generate(request, customer_pk: int):
    """Make this month's report again from today's figures and deliver it if it has not
    gone out yet (portal and e-mail)."""
    customer = get_restricted_or_404(request.user, Customer, "change", pk=customer_pk)
    report = services.client_report_generate(
        customer=customer, as_of=timezone.localdate(), replace=True
    )
    delivered = report.delivered_at is not None
    services.client_report_deliver(report=report, created_by=request.user)
    if delivered:
        messages.success(request, _("The report was made again; the client sees the new one."))
    else:
        messages.success(request, _("The report was made and sent to the client."))
    return redirect(reverse("customers:detail", args=[customer.pk]) + "#reports")


@login_required
def download(request, pk: int):
    """A report's PDF, to staff who may see the client."""
    report = get_restricted_or_404(request.user, ClientReport, "view", pk=pk)
    if not report.file:
        raise Http404
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=report.filename,
                        content_type="application/pdf")  # fmt: skip
