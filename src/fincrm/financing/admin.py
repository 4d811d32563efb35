from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Payment,
    Product,
    Tranche,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "product_type", "min_rate", "max_rate", "is_active"]


class StageChangeInline(admin.TabularInline):
    model = ApplicationStageChange
    extra = 0
    readonly_fields = ["from_stage", "to_stage", "changed_at", "changed_by", "note"]


class DocumentInline(admin.TabularInline):
    model = ApplicationDocument
    extra = 0


class TrancheInline(admin.TabularInline):
    """Read-only: plans and drawdowns change through ``financing.tranches`` (the schedule
    and the facility move with them)."""

    model = Tranche
    extra = 0
    can_delete = False
    readonly_fields = ["number", "amount", "planned_on", "status", "disbursed_on", "facility",
                       "disbursed_by"]  # fmt: skip

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    list_display = ["customer", "product", "amount", "stage", "stage_changed_at"]
    list_filter = ["stage", "product"]
    raw_id_fields = ["customer"]
    inlines = [DocumentInline, StageChangeInline, TrancheInline]
    list_select_related = ["customer", "product"]


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0


@admin.register(Facility)
class FacilityAdmin(SimpleHistoryAdmin):
    list_display = [
        "contract_number",
        "customer",
        "product",
        "approved_limit",
        "drawn_amount",
        "days_past_due",
        "loan_class",
        "status",
    ]
    list_filter = ["loan_class", "status", "product"]
    raw_id_fields = ["customer", "application"]
    inlines = [InstallmentInline]
    list_select_related = ["customer", "product"]


@admin.register(Payment)
class PaymentAdmin(SimpleHistoryAdmin):
    list_display = ["facility", "paid_on", "amount", "reference"]
    raw_id_fields = ["facility"]
