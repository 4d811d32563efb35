"""Column headers that sort a list (django-filter's ``o`` parameter) and keep its filters."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label) -> str:
    """A header link sorting by ``key``; pressed again it reverses; an arrow shows the order."""
    query = context["request"].GET.copy()
    current = query.get("o", "")
    query.pop("page", None)
    query["o"] = f"-{key}" if current == key else key
    arrow = {key: " ↑", f"-{key}": " ↓"}.get(current, "")
    return format_html('<a class="sort" href="?{}">{}{}</a>', query.urlencode(), label, arrow)
