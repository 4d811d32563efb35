"""Form widgets rendered in Python where Django's templates cost too much.

A ``<select>`` rendered by Django's form templates includes one template per option and
another per option's attributes: the client list's filter form (13 selects, ~130 options)
spent more time there than in all its SQL (26 of ~75 ms a request at 100k on SQLite, machine
loaded). ``FastSelect`` writes the same HTML, byte for byte, from the same widget context
(``tests/test_fast_select.py`` compares them); anything it does not know (another option
template) goes through Django's templates as before.
"""

from __future__ import annotations

from django import forms
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

OPTION_TEMPLATE = forms.Select.option_template_name


def _text(value) -> str:
    """``{{ value }}`` in a template: localized, escaped unless already safe."""
    return conditional_escape(value if isinstance(value, str) else localize(value))


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe value safe."""
    text = str(value)  # what "%s" % value gives (a tuple as str(tuple), as the filter does)
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``."""
    return "".join(
        f" {_text(name)}" + ("" if value is True else f'="{_formatted(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


class FastSelect(forms.Select):
    def _render(self, template_name, context, renderer=None):
        widget = context["widget"]
        if template_name != self.template_name or any(
            option["template_name"] != OPTION_TEMPLATE
            for _group, options, _index in widget["optgroups"]
            for option in options
        ):
            return super()._render(template_name, context, renderer)
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(f'\n  <optgroup label="{_text(group)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                    f"{_text(option['label'])}</option>\n"  # the option template's own newline
                )
            if group:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


def with_fast_selects(form_class: type[forms.BaseForm]) -> type[forms.BaseForm]:
    """The form class with each plain ``Select`` of its fields rendered by ``FastSelect`` (the
    widgets' class swapped: attributes, choices and state stay as the fields set them)."""
    fields: dict[str, forms.Field] = getattr(form_class, "base_fields", {})
    for field in fields.values():
        if type(field.widget) is forms.Select:
            field.widget.__class__ = FastSelect
    return form_class
