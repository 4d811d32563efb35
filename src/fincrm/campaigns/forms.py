from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.evaluation.choices import Lifecycle, Tier

from .models import Campaign


def _template_label(template) -> str:
    from fincrm.engagement.care import OCCASION_NAMES

    name = OCCASION_NAMES.get(template.occasion, template.occasion)
    return f"{name} · {template.get_channel_display() or '*'} · {template.language}"


class CampaignForm(forms.ModelForm):
    tiers = forms.MultipleChoiceField(
        label=_("Tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lifecycles = forms.MultipleChoiceField(
        label=_("Lifecycle stages"),
        choices=Lifecycle.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    segments = forms.CharField(label=_("Segments (codes, comma separated)"), required=False)
    products = forms.CharField(
        label=_("Holders of products (codes, comma separated)"), required=False
    )
    customers = forms.CharField(
        label=_("Uploaded list (client numbers, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "channel",
            "subject",
            "text",
            "text_b",
            "template",
            "control_share",
            "conversion_days",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "text_b": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].label_from_instance = _template_label

    def clean_customers(self):
        raw = self.cleaned_data["customers"].replace(",", "\n").split()
        if any(not item.isdigit() for item in raw):
            raise forms.ValidationError(_("Client numbers are whole numbers."))
        return [int(item) for item in raw]

    def audience(self) -> dict:
        data = self.cleaned_data
        split = lambda text: [t.strip() for t in text.split(",") if t.strip()]  # noqa: E731
        spec = {
            "tiers": data["tiers"],
            "lifecycles": data["lifecycles"],
            "segments": split(data["segments"]),
            "products": split(data["products"]),
            "customers": data["customers"],
        }
        return {key: value for key, value in spec.items() if value}


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(label=_("Send at"), required=False)
