"""What a client does in the portal: upload a missing document."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from fincrm.engagement.services import interaction_log
from fincrm.financing import services as financing
from fincrm.financing.choices import DocumentStatus
from fincrm.financing.models import ApplicationDocument

MSG_NOT_NEEDED = _("This document is not waiting for an upload.")


@transaction.atomic
def document_upload(*, document: ApplicationDocument, file, account) -> ApplicationDocument:
    """Store the client's file for a missing (or rejected) document; the owner sees it on the
    client's timeline as a portal message."""
    document = ApplicationDocument.objects.select_for_update().get(pk=document.pk)
    if document.status not in (DocumentStatus.MISSING, DocumentStatus.REJECTED):
        raise ValidationError(MSG_NOT_NEEDED, code="not_needed")
    document = financing.document_upload(document=document, upload=file, user=account.user)
    interaction_log(
        customer=account.customer,
        channel="portal",
        direction="in",
        subject=str(_("Document uploaded in the portal: %(kind)s"))
        % {"kind": document.get_kind_display()},
        created_by=account.user,
    )
    return document


MSG_NOT_A_MOBILE = _(
    "Enter a mainland mobile number: 11 digits starting with 1 (for example 13800138000)."
)
#: What a client keeps up to date itself: its own and its contact persons' details.
CLIENT_DETAIL_FIELDS = ("phone", "email", "address")
CONTACT_DETAIL_FIELDS = ("name", "title", "phone", "email", "wechat_id")


def _label(model, name: str) -> str:
    """A model field's verbose name, as the client reads it in a notification."""
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def _mobile(field: str, value: str) -> str:
    from fincrm.messaging.services import mainland_mobile

    number = mainland_mobile(value)
    if not number:
        raise ValidationError({field: MSG_NOT_A_MOBILE}, code="not_a_mobile")
    return number


def _changes(obj, data: dict, fields: tuple[str, ...]) -> dict[str, str]:
    """The fields of ``data`` whose (stripped, mobile-normalised) value differs from ``obj``'s."""
    changed = {}
    for field in fields:
        if field not in data:
            continue
        value, stored = (data[field] or "").strip(), getattr(obj, field) or ""
        if value == stored:
            continue  # an office line kept as it is need not be a mobile
        if field == "phone" and value:
            value = _mobile(field, value)
        if value != stored:
            changed[field] = value
    return changed


@transaction.atomic
def contact_details_update(*, account, client: dict, contacts: dict[int, dict]) -> list[str]:
    """A client updates its phone (a mainland mobile), e-mail and address, and its contact
    persons' names, roles, mobiles, e-mails and WeChat IDs. Each change is in the history of
    the client or contact under the portal login (old and new values, when); the account
    manager is notified and the client's timeline shows it, both naming the fields only (the
    values stay behind the masking of the pages that show them). Returns the changed fields'
    names; nothing changed, nothing written."""
    from fincrm.customers import services as book
    from fincrm.customers.models import Contact, Customer
    from fincrm.engagement.choices import NotificationKind
    from fincrm.engagement.models import Notification

    customer = Customer.objects.select_for_update().get(pk=account.customer_id)
    changed_names: list[str] = []
    client_changes = _changes(customer, client, CLIENT_DETAIL_FIELDS)
    if client_changes:
        customer._history_user = account.user
        customer._change_reason = "portal"
        book.customer_update(customer=customer, data=client_changes)
        changed_names += [_label(Customer, f) for f in client_changes]
    own = {c.pk: c for c in Contact.objects.filter(customer=customer, pk__in=list(contacts))}
    for pk, data in contacts.items():
        contact = own.get(pk)
        if contact is None:
            continue  # not this client's: ignored, never written
        try:
            contact_changes = _changes(contact, data, CONTACT_DETAIL_FIELDS)
        except ValidationError as exc:
            raise ValidationError({f"contact-{pk}": exc.messages}) from exc
        if contact_changes:
            contact._history_user = account.user
            contact._change_reason = "portal"
            book.contact_update(contact=contact, data=contact_changes)
            changed_names += [f"{contact.name}: {_label(Contact, f)}" for f in contact_changes]
    if not changed_names:
        return []
    what = _joined(changed_names)
    if customer.owner_id is not None:
        Notification.objects.create(
            recipient_id=customer.owner_id, customer=customer, kind=NotificationKind.TASK,
            message=(str(MSG_DETAILS_UPDATED) % {"client": customer.name, "fields": what})[:300],
            data={"contact_details": True},
        )  # fmt: skip
    interaction_log(
        customer=customer, channel="portal", direction="in", created_by=account.user,
        subject=(str(MSG_DETAILS_UPDATED_TIMELINE) % {"fields": what})[:200],
    )  # fmt: skip
    return changed_names


MSG_DETAILS_UPDATED = _("%(client)s updated its contact details in the portal: %(fields)s")
MSG_DETAILS_UPDATED_TIMELINE = _("Contact details updated in the portal: %(fields)s")


def _joined(names: list[str]) -> str:
    """Names listed the way the reader's language lists them (、 in Chinese)."""
    from django.utils.translation import get_language

    return ("、" if (get_language() or "").startswith("zh") else ", ").join(names)
