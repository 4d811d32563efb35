"""Stored files (documents, evidence, certificates, attachments) are never served from the
media directory: a view checks the user may see the row, then answers through here."""

from __future__ import annotations

from django.http import FileResponse, Http404

from .models import AccessAction, access_log


def stored_file_response(field_file, *, user=None, customer=None, what: str = "") -> FileResponse:
    """``field_file`` shown inline under its own name; 404 when nothing is stored. With
    ``customer`` the opening is written to the access log (a client's document)."""
    if not field_file:
        raise Http404
    if customer is not None:
        access_log(user=user, customer=customer, action=AccessAction.DOCUMENT, fields=what)
    return FileResponse(
        field_file.open("rb"), as_attachment=False, filename=field_file.name.rsplit("/", 1)[-1]
    )
