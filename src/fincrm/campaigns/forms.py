from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.models import SavedView
from fincrm.core.classes import Lifecycle, Tier
from fincrm.engagement.models import MessageTemplate
from fincrm.messaging.choices import MessageChannel

from .models import Campaign

MSG_TEXT_OR_TEMPLATE = _("Write the text or choose a template.")


def _template_label(template) -> str:
    from fincrm.engagement.care import OCCASION_NAMES

    name = OCCASION_NAMES.get(template.occasion, template.occasion)
    return f"{name} · {template.get_channel_display() or '*'} · {template.language}"


def programme_choices() -> list[tuple[str, str]]:
    """The programmes of the active policy's strategies (``policy.strategies.programmes``):
    a campaign may reach the clients the nightly run enrolled in them."""
    from django.utils.translation import get_language

    from fincrm.core.policy import policy_active, policy_config

    programmes = policy_config(policy_active()).strategies.programmes
    chinese = (get_language() or "").startswith("zh")
    return [(code, p.name_zh if chinese else p.name_en) for code, p in programmes.items()]


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
    programmes = forms.MultipleChoiceField(
        label=_("Programmes of the strategies"),
        choices=(),  # the active policy's, named in the user's language (__init__)
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

    preview_client = forms.IntegerField(
        label=_("Preview for the client (client number)"), required=False, min_value=1
    )

    class Meta:
        model = Campaign
        fields = ["name", "link", "control_share", "conversion_days"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved_view"].queryset = SavedView.objects.restrict(user, "view").filter(
            path=reverse("customers:list")
        )
        self.fields["programmes"].choices = programme_choices()
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
            "programmes": data["programmes"],
            "segments": split(data["segments"]),
            "products": split(data["products"]),
            "customers": data["customers"],
        }
        if data.get("saved_view"):
            view = data["saved_view"]
            spec["saved_view"] = {"id": view.pk, "name": view.name, "query": view.query}
        return {key: value for key, value in spec.items() if value}


class ChannelForm(forms.Form):
    """One channel of a campaign (the form's prefix is the channel's code): used or not, its
    place in the order, its template and the text of each variant (a template's text when
    left empty)."""

    use = forms.BooleanField(label=_("Use this channel"), required=False)
    position = forms.IntegerField(label=_("Order"), min_value=1, max_value=9, required=False)
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=MessageTemplate.objects.none(), required=False
    )
    template_b = forms.ModelChoiceField(
        label=_("Template of variant B"), queryset=MessageTemplate.objects.none(), required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    text_b = forms.CharField(
        label=_("Text of variant B"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, prefix=channel, **kwargs)
        self.channel = channel
        self.label = MessageChannel(channel).label
        templates = MessageTemplate.objects.filter(
            Q(channel=channel) | Q(channel=""), is_active=True
        )
        for name in ("template", "template_b"):
            self.fields[name].queryset = templates
            self.fields[name].label_from_instance = _template_label
        if channel != MessageChannel.EMAIL:
            del self.fields["subject"]
        self.fields["position"].initial = list(MessageChannel.values).index(channel) + 1

    def clean(self):
        data = super().clean()
        if data.get("use") and not (data.get("text") or "").strip() and not data.get("template"):
            self.add_error("text", MSG_TEXT_OR_TEMPLATE)
        return data

    def entry(self) -> dict:
        """This channel as ``campaigns.services.campaign_create`` takes it."""
        data = self.cleaned_data
        return {"channel": self.channel, "template": data.get("template"),
                "template_b": data.get("template_b"), "subject": data.get("subject") or "",
                "text": data.get("text") or "", "text_b": data.get("text_b") or ""}  # fmt: skip


class CampaignForms:
    """The campaign form and one :class:`ChannelForm` per channel, valid together: at least
    one channel, variant B on every channel or none, the link placeholder in every text when
    there is a link, and a gateway for each channel used."""

    def __init__(self, data=None, *, user):
        self.campaign = CampaignForm(data, user=user)
        self.channels = [ChannelForm(data, channel=code) for code in MessageChannel.values]
        self.errors: list[str] = []

    def is_valid(self) -> bool:
        from .services import channels_check

        valid = self.campaign.is_valid()
        valid = all([form.is_valid() for form in self.channels]) and valid
        if not valid:
            return False
        try:
            channels_check(entries=self.entries(), link=self.campaign.cleaned_data["link"])
        except ValidationError as error:
            self.errors = error.messages
            return False
        return True

    def entries(self) -> list[dict]:
        """The channels used, in their order (ties in the order of the form)."""
        used = [(f.cleaned_data.get("position") or i + 1, i, f)
                for i, f in enumerate(self.channels) if f.cleaned_data.get("use")]  # fmt: skip
        return [form.entry() for _p, _i, form in sorted(used, key=lambda t: t[:2])]


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(label=_("Send at"), required=False)
