from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.core.validators import validate_document_file

from .models import Course

DATE = forms.DateInput(attrs={"type": "date"})


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class TrainingRecordForm(forms.Form):
    """A sitting of a course, entered by a lead (for their teams) or an admin."""

    user = PersonChoiceField(label=_("Staff member"), queryset=None)
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.filter(active=True))
    taken_on = forms.DateField(label=_("Date"), widget=DATE)
    completed = forms.BooleanField(label=_("Completed"), required=False)
    score = forms.DecimalField(
        label=_("Score"), required=False, min_value=0, max_value=100, decimal_places=1
    )
    certificate = forms.FileField(
        label=_("Certificate"), required=False, validators=[validate_document_file]
    )

    def __init__(self, *args, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people.order_by("last_name", "first_name", "username")

    def clean(self):
        data = super().clean()
        if data.get("certificate") and not data.get("completed"):
            self.add_error("certificate", _("A certificate is attached to a completed course."))
        return data
