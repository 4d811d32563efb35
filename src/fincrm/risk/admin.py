from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Alert, ControlProposal, CreditAssessment, Review, ScorecardModel


@admin.register(ScorecardModel)
class ScorecardModelAdmin(admin.ModelAdmin):
    list_display = ("created_at", "n_train", "n_defaults", "auc_train", "auc_holdout", "is_active")


@admin.register(CreditAssessment)
class CreditAssessmentAdmin(admin.ModelAdmin):
    list_display = ("customer", "assessed_at", "method", "score", "pd", "grade")
    raw_id_fields = ("customer",)


@admin.register(ControlProposal)
class ControlProposalAdmin(SimpleHistoryAdmin):
    list_display = ("customer", "from_grade", "to_grade", "status", "created_at")
    raw_id_fields = ("customer",)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("customer", "rule_code", "severity", "status", "raised_on", "assigned_to")
    list_filter = ("severity", "status")
    raw_id_fields = ("customer",)


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    list_display = ("customer", "due_on", "frequency", "status", "decision")
    raw_id_fields = ("customer",)
