from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import InteractionChannel
from .models import Interaction

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".txt")


class InteractionForm(forms.ModelForm):
    """Quick-add from the 360° page; contacts limited to the client's own."""

    class Meta:
        model = Interaction
        fields = ["channel", "contact", "subject", "summary", "outcome", "next_step", "attachment"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()
        self.fields["contact"].required = False

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return upload
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError(_("The attachment is larger than 10 MB."))
        if not upload.name.lower().endswith(ALLOWED_ATTACHMENT_TYPES):
            raise forms.ValidationError(
                _("Attach a PDF, image, Word, Excel or text file."), code="type"
            )
        return upload


class CareSendForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=InteractionChannel.choices)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))


class InteractionImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."), code="type")
        if upload.size > 50 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 50 MB."), code="size")
        return upload
