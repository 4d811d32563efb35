from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.policy import policy_errors

MAX_POLICY_BYTES = 200_000


class PolicyForm(forms.Form):
    """The policy as JSON text: parsed, then validated by the analytics policy schema."""

    config = forms.CharField(
        label=_("Policy (JSON)"),
        widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "false", "class": "mono"}),
        max_length=MAX_POLICY_BYTES,
    )
    note = forms.CharField(label=_("What changed and why"), max_length=200, required=False)

    def clean_config(self) -> dict:
        text = self.cleaned_data["config"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: line %(line)s, column %(col)s: %(msg)s"),
                params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg},
            ) from exc
        if not isinstance(data, dict):
            raise forms.ValidationError(_("The policy must be a JSON object."))
        errors = policy_errors(data)
        if errors:
            raise forms.ValidationError(errors)
        return data
