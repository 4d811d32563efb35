from django.contrib import admin

from .models import FaqEntry, PortalAccount


@admin.register(PortalAccount)
class PortalAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "customer", "created_at")
    raw_id_fields = ("user", "customer")


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ("question", "language", "published", "order")
    list_filter = ("language", "published")
    search_fields = ("question", "keywords", "answer")
