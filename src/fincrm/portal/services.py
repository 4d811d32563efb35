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
