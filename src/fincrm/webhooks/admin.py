from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Delivery, Subscriber
from .services import redeliver


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "is_active", "created_at")
    readonly_fields = ("created_at", "created_by")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log; "redeliver" sends the selected deliveries again now."""

    list_display = ("id", "event", "subscriber", "status", "attempts", "last_status_code",
                    "last_error", "created_at", "delivered_at", "next_attempt_at")  # fmt: skip
    list_filter = ("status", "event", "subscriber")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["redeliver_now"]

    @admin.action(description=_("Redeliver now"))
    def redeliver_now(self, request, queryset):
        done = [redeliver(d) for d in queryset.select_related("subscriber")[:100]]
        ok = sum(d.status == "delivered" for d in done)
        messages.info(request, _("%(ok)s of %(n)s delivered.") % {"ok": ok, "n": len(done)})

    def has_add_permission(self, request):
        return False
