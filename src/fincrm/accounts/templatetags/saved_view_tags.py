"""The saved views of a list page (``accounts.SavedView``), shown above its filters."""

from __future__ import annotations

from django import template

from fincrm.accounts.models import SavedView

register = template.Library()


@register.inclusion_tag("includes/saved_views.html", takes_context=True)
def saved_views(context):
    """The saved views of this list page the reader may open (their own and their team's
    shared ones) and the form that saves the list as it is now."""
    request = context["request"]
    views = (
        SavedView.objects.restrict(request.user, "view")
        .filter(path=request.path)
        .select_related("owner")
    )
    return {"request": request, "views": list(views), "csrf_token": context.get("csrf_token")}
