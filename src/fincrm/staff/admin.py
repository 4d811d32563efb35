from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from fincrm.accounts.choices import Role

from .models import Course, TrainingRecord


class CourseForm(forms.ModelForm):
    required_roles = forms.MultipleChoiceField(
        label=_("required for roles"), choices=Role.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    class Meta:
        model = Course
        fields = ["code", "name", "required_roles", "validity_months", "active"]


@admin.register(Course)
class CourseAdmin(SimpleHistoryAdmin):
    form = CourseForm
    list_display = ["code", "name", "validity_months", "active"]
    search_fields = ["code", "name"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(SimpleHistoryAdmin):
    list_display = ["user", "course", "taken_on", "completed", "score", "expires_on"]
    list_filter = ["completed", "course"]
    raw_id_fields = ["user", "recorded_by"]
