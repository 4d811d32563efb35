from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.service.choices import TicketKind


class PortalTicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("This is a"), choices=TicketKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Tell us more"), max_length=5_000, widget=forms.Textarea(attrs={"rows": 4})
    )
