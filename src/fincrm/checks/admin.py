from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ExternalCheck, Finding


@admin.register(ExternalCheck)
class ExternalCheckAdmin(admin.ModelAdmin):
    list_display = ("customer", "provider", "reason", "status", "new_count", "checked_at")
    list_filter = ("provider", "reason", "status")
    raw_id_fields = ("customer", "requested_by")


@admin.register(Finding)
class FindingAdmin(SimpleHistoryAdmin):
    list_display = ("customer", "category", "key", "source", "first_seen_at", "resolved_at")
    list_filter = ("category", "source")
    raw_id_fields = ("customer", "first_seen")
