"""A client keeps its contact details up to date in the portal (``services.
contact_details_update``: checked, audited, the account manager told)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fincrm.core.views import flash_errors
from fincrm.customers.models import Contact

from . import services
from .forms import ClientDetailsForm, ContactDetailsForm
from .views import portal_login_required

#: At most this many contact persons on the page (the key ones first).
MAX_CONTACTS = 10


@portal_login_required
def contact_details(request):
    customer = request.portal.customer
    contacts = list(Contact.objects.filter(customer=customer).order_by("-is_key", "name", "pk"))
    contacts = contacts[:MAX_CONTACTS]
    data = request.POST if request.method == "POST" else None
    client_form = ClientDetailsForm(
        data, prefix="client",
        initial={f: getattr(customer, f) for f in services.CLIENT_DETAIL_FIELDS},
    )  # fmt: skip
    contact_forms = [
        (
            contact,
            ContactDetailsForm(
                data,
                prefix=f"contact-{contact.pk}",
                initial={f: getattr(contact, f) for f in services.CONTACT_DETAIL_FIELDS},
            ),
        )
        for contact in contacts
    ]
    forms_valid = client_form.is_valid() and all([f.is_valid() for _c, f in contact_forms])
    if request.method == "POST" and forms_valid:
        try:
            changed = services.contact_details_update(
                account=request.portal,
                client=client_form.cleaned_data,
                contacts={c.pk: f.cleaned_data for c, f in contact_forms},
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            if changed:
                messages.success(
                    request, _("Thank you: your contact details were updated and your account "
                               "manager was told.")
                )  # fmt: skip
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("portal:contact_details")
    return render(
        request,
        "portal/contact_details.html",
        {"client_form": client_form, "contact_forms": contact_forms},
    )
