from django.contrib import admin

from .models import Interaction


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["customer", "channel", "direction", "occurred_at", "subject", "outcome"]
    list_filter = ["channel", "outcome"]
    raw_id_fields = ["customer", "contact"]
    list_select_related = ["customer"]
