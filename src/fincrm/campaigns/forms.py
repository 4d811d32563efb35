from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.models import SavedView
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
    saved_view = forms.ModelChoiceField(
        label=_("Saved view of the client list"),
        queryset=SavedView.objects.none(),
        required=False,
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
            "link",
            "template",
            "control_share",
            "conversion_days",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "text_b": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].label_from_instance = _template_label
        self.fields["saved_view"].queryset = SavedView.objects.restrict(user, "view").filter(
            path=reverse("customers:list")
        )
        self.fields["link"].help_text = _(
            "A page of this site (a path starting with /) or an address on an allowed host; "
            "the link placeholder in the text becomes each client's own tracked link."
        )

    def clean_link(self):
        from .services import MSG_LINK_NOT_ALLOWED, link_allowed

        link = self.cleaned_data["link"].strip()
        if link and not link_allowed(link):
            raise forms.ValidationError(MSG_LINK_NOT_ALLOWED)
        return link

    def clean(self):
        from .services import LINK, MSG_LINK_MISSING, MSG_LINK_UNUSED

        data = super().clean()
        texts = [data.get("text") or "", data.get("text_b") or ""]
        uses = [LINK in t for t in texts if t.strip()]
        if data.get("link") and not all(uses):
            self.add_error("text", MSG_LINK_UNUSED)
        elif not data.get("link") and any(uses) and "link" not in self.errors:
            self.add_error("link", MSG_LINK_MISSING)
        return data

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
        if data.get("saved_view"):
            view = data["saved_view"]
            spec["saved_view"] = {"id": view.pk, "name": view.name, "query": view.query}
        return {key: value for key, value in spec.items() if value}


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(label=_("Send at"), required=False)
