"""Writes of the accounts app: a user's saved views of list pages."""

from __future__ import annotations

from django.db import transaction

from .models import SavedView


@transaction.atomic
def saved_view_save(*, owner, path: str, name: str, query: str, shared: bool) -> SavedView:
    """Save (or overwrite, same page and name) the owner's view of a list page."""
    view = SavedView.objects.filter(owner=owner, path=path, name=name).first() or SavedView(
        owner=owner, path=path, name=name
    )
    view.query = query
    view.shared = shared
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView) -> None:
    view.delete()
