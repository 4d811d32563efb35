from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.engagement.choices import InteractionChannel

from .choices import RootCause, Severity, TicketCategory, TicketKind


class TicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=TicketKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=InteractionChannel.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial="medium")
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("Suggest from the text")), *TicketCategory.choices],
        required=False,
    )
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))
    root_cause = forms.ChoiceField(label=_("Root cause"), choices=RootCause.choices)
    category = forms.ChoiceField(label=_("Category"), choices=TicketCategory.choices)


class RateForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("Client's satisfaction"), coerce=int, choices=[(i, str(i)) for i in range(1, 6)]
    )
