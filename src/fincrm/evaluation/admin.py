from django.contrib import admin

from .models import Classification, EvaluationRun, PolicyVersion, Snapshot, TierChange


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "is_active", "created_at", "created_by", "note")
    readonly_fields = ("number", "config", "created_at", "created_by")


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "status", "started_at", "customers_evaluated", "tier_changes")


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("customer", "run", "tier", "value_score", "grade", "lifecycle")
    raw_id_fields = ("customer", "run")


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ("customer", "tier", "value_score", "grade", "lifecycle", "evaluated_at")
    list_filter = ("tier", "lifecycle")
    raw_id_fields = ("customer", "run")


@admin.register(TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ("customer", "from_tier", "to_tier", "changed_at")
    raw_id_fields = ("customer", "run")
