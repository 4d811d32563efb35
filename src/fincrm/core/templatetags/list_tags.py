"""Column headers that sort a list (django-filter's ``o`` parameter) and keep its filters.
The saved views above a list's filters are ``accounts``' (``saved_view_tags``)."""

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
