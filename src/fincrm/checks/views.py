"""A client's external checks: every finding with its source and dates, the checks made, a
check run now, and the import of bought reports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.permissions import get_restricted_or_404
from fincrm.core.views import flash_errors
from fincrm.customers.models import Customer

from . import selectors, services
from .choices import CheckReason
from .providers import configured
from .rules import may_import


@login_required
def customer_checks(request, pk: int):
    customer = get_restricted_or_404(request.user, Customer, "view", pk=pk)
    return render(
        request,
        "checks/customer_checks.html",
        {
            "customer": customer,
            "findings": selectors.findings_for(user=request.user, customer=customer),
            "checks": selectors.checks_for(user=request.user, customer=customer)[:20],
            "may_run": request.user.has_perm("customers.change_customer", customer)
            and configured() is not None,
        },
    )


@login_required
@require_POST
def check_now(request, pk: int):
    customer = get_restricted_or_404(request.user, Customer, "change", pk=pk)
    try:
        check = services.check_run(customer=customer, reason=CheckReason.MANUAL, user=request.user)
    except ValidationError as error:
        flash_errors(request, error)
    else:
        if check.error:
            messages.error(request, _("The source did not answer: %(e)s") % {"e": check.error})
        else:
            messages.success(
                request,
                _("Checked: %(n)s findings, %(new)s new.")
                % {"n": check.findings_count, "new": check.new_count},
            )
    return redirect("checks:customer", pk=customer.pk)


@login_required
def findings_import(request):
    if not may_import(request.user):
        raise PermissionDenied
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file to upload."))
        else:
            try:
                result = services.findings_import(data=upload.read(), user=request.user)
            except ValidationError as error:
                flash_errors(request, error)
            else:
                messages.success(
                    request,
                    _("Imported %(f)s findings for %(c)s clients, %(new)s new.")
                    % {"f": result.findings, "c": result.checks, "new": result.new},
                )
                return redirect("checks:import")
    chinese = (get_language() or "").startswith("zh")
    columns = services.CSV_COLUMNS_ZH if chinese else services.CSV_COLUMNS
    return render(request, "checks/import.html", {"columns": columns})
