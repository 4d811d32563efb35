from django import forms
from django.conf import settings

from fincrm.engagement.care import OCCASION_NAMES
from fincrm.engagement.models import MessageTemplate


class MessageTemplateForm(forms.ModelForm):
    occasion = forms.ChoiceField(label=MessageTemplate._meta.get_field("occasion").verbose_name)
    language = forms.ChoiceField(
        label=MessageTemplate._meta.get_field("language").verbose_name, choices=settings.LANGUAGES
    )

    class Meta:
        model = MessageTemplate
        fields = ["occasion", "language", "channel", "body", "provider_code", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occasion"].choices = list(OCCASION_NAMES.items())
