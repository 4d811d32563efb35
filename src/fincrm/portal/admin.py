from django.contrib import admin

from .models import PortalAccount


@admin.register(PortalAccount)
class PortalAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "customer", "created_at")
    raw_id_fields = ("user", "customer")
