from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Ticket


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin):
    list_display = ("subject", "customer", "category", "severity", "status", "opened_at")
    list_filter = ("status", "category", "severity")
    raw_id_fields = ("customer", "contact", "assignee", "escalated_to", "created_by")
