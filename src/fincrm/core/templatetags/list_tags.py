"""Column headers that sort a list (django-filter's ``o`` parameter) and keep its filters."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label, param: str = "o") -> str:
    """A header link sorting by ``key`` (in the query's ``param``); pressed again it
    reverses; an arrow shows the order."""
    query = context["request"].GET.copy()
    current = query.get(param, "")
    query.pop("page", None)
    query.pop("export", None)
    query[param] = f"-{key}" if current == key else key
    arrow = {key: " ↑", f"-{key}": " ↓"}.get(current, "")
    return format_html('<a class="sort" href="?{}">{}{}</a>', query.urlencode(), label, arrow)


@register.inclusion_tag("includes/saved_views.html", takes_context=True)
def saved_views(context):
    """The saved views of this list page the reader may open (their own and their team's
    shared ones) and the form that saves the list as it is now."""
    from fincrm.accounts.models import SavedView

    request = context["request"]
    views = (
        SavedView.objects.restrict(request.user, "view")
        .filter(path=request.path)
        .select_related("owner")
    )
    return {"request": request, "views": list(views), "csrf_token": context.get("csrf_token")}
