from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Customer, FinancialStatement, Tag


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "client_type", "industry", "city", "city_tier", "owner", "team"]
    list_filter = ["kind", "client_type", "industry", "city_tier", "team"]
    search_fields = ["name", "credit_code", "id_number", "phone"]
    raw_id_fields = ["owner"]
    inlines = [ContactInline]
    list_select_related = ["owner", "team"]


@admin.register(FinancialStatement)
class FinancialStatementAdmin(SimpleHistoryAdmin):
    list_display = ["customer", "period_end", "revenue", "net_profit", "total_assets"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


admin.site.register(Tag)
