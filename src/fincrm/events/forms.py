import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.campaigns.forms import CampaignForm, programme_choices

from .choices import Response
from .models import Event

_AUDIENCE = ("tiers", "lifecycles", "programmes", "segments", "products", "customers")


class EventForm(forms.ModelForm):
    """The event and its audience, picked with the campaign form's fields."""

    class Meta:
        model = Event
        fields = ["kind", "title", "description", "starts_at", "ends_at", "place", "online_url",
                  "capacity", "channel"]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        base = CampaignForm.base_fields
        for name in _AUDIENCE:
            self.fields[name] = copy.deepcopy(base[name])
        # an investor forum for the mature clients' programme, a seminar for the startups'
        self.fields["programmes"].choices = programme_choices()
        if self.instance.pk and not self.is_bound:
            spec = self.instance.audience or {}
            for name in _AUDIENCE:
                value = spec.get(name)
                if value and name in ("segments", "products"):
                    value = ", ".join(value)
                elif value and name == "customers":
                    value = "\n".join(str(v) for v in value)
                self.initial[name] = value

    clean_customers = CampaignForm.clean_customers
    audience = CampaignForm.audience


class AnswerForm(forms.Form):
    attending = forms.TypedChoiceField(
        label=_("Will you attend?"),
        choices=[("1", _("Yes, I will attend")), ("0", _("No, I cannot attend"))],
        coerce=lambda v: v == "1",
    )


class CheckInForm(forms.Form):
    invitees = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def __init__(self, *args, invitee_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitees"].choices = [(pk, pk) for pk in invitee_ids]


RESPONSE_LABELS = dict(Response.choices)
