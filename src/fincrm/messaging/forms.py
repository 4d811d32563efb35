from django import forms

from fincrm.engagement.models import MessageTemplate


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["occasion", "language", "channel", "body", "provider_code", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
