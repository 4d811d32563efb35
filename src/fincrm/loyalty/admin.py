from django.contrib import admin

from .models import PointsEntry


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only (corrections are new ``adjust`` entries)."""

    list_display = ("customer", "kind", "reason", "points", "occurred_at", "expires_on")
    list_filter = ("kind", "reason")
    raw_id_fields = ("customer",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
