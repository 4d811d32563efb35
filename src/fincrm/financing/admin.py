from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    CollectionLetter,
    CollectionLetterTemplate,
    Facility,
    FacilityModification,
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


@admin.register(CollectionLetterTemplate)
class CollectionLetterTemplateAdmin(SimpleHistoryAdmin):
    """The letters of the dunning ladder: an administrator edits their text (history kept);
    the placeholders a template may use are listed on the form."""

    list_display = ["title", "step", "language", "is_active", "updated_at"]
    list_filter = ["step", "language", "is_active"]

    def get_fieldsets(self, request, obj=None):
        from .letters import PLACEHOLDERS

        names = "; ".join(f"{{{name}}} {label}" for name, label in PLACEHOLDERS.items())
        return [(None, {"fields": ["step", "language", "title", "body", "is_active"],
                        "description": names})]  # fmt: skip


@admin.register(CollectionLetter)
class CollectionLetterAdmin(admin.ModelAdmin):
    """Every letter produced, as it left: read only."""

    list_display = ["reference", "title", "file_format", "created_at", "created_by"]
    list_filter = ["file_format"]
    search_fields = ["reference", "title"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FacilityModification)
class FacilityModificationAdmin(SimpleHistoryAdmin):
    """Extensions and restructurings, read only: they are requested and decided through
    ``financing.modifications`` (authority, maker–checker, the schedule rebuilt)."""

    list_display = ["facility", "kind", "status", "extension_months", "new_rate", "requested_at",
                    "decided_at"]  # fmt: skip
    list_filter = ["kind", "status"]
    list_select_related = ["facility"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
