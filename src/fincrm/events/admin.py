from django.contrib import admin

from .models import Event, Invitee


class InviteeInline(admin.TabularInline):
    model = Invitee
    extra = 0
    raw_id_fields = ("customer", "message", "checked_in_by")
    readonly_fields = ("invited_at", "responded_at", "checked_in_at")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "starts_at", "capacity", "organiser", "invited_at")
    list_filter = ("kind",)
    search_fields = ("title", "place")
    raw_id_fields = ("organiser",)
    inlines = [InviteeInline]
