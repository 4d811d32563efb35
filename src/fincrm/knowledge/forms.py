from __future__ import annotations

from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from fincrm.core.validators import validate_document_file
from fincrm.customers.choices import Industry

from .choices import ArticleKind

MSG_PDF_ONLY = _("The attachment is a PDF file.")


def validate_pdf(file) -> None:
    if Path(file.name or "").suffix.lower() != ".pdf":
        raise ValidationError(MSG_PDF_ONLY, code="type")
    validate_document_file(file)


class ArticleForm(forms.Form):
    """An article's text and whom it is for: no industry and no segment means everyone."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ArticleKind.choices)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    body = forms.CharField(
        # Not stripped: Markdown's trailing spaces and newlines are the author's, and an
        # untouched form saved back must not change the article (tests/test_forms_round_trip).
        strip=False,
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Markdown: headings (#), lists (-), **bold**, links, tables."),
    )  # fmt: skip
    industries = forms.MultipleChoiceField(
        label=_("For industries"), choices=Industry.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every industry."),
    )  # fmt: skip
    segments = forms.MultipleChoiceField(
        label=_("For segments"), choices=(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every segment."),
    )  # fmt: skip
    attachment = forms.FileField(
        label=_("PDF attachment"), required=False, validators=[validate_pdf]
    )
    remove_attachment = forms.BooleanField(label=_("Remove the attachment"), required=False)

    def __init__(self, *args, segments: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = segments
