import django_filters
from django.forms import HiddenInput
from django.utils.translation import gettext_lazy as _

from fincrm.core.params import MAX_ID

from .choices import Stage
from .models import Application, Product


class ApplicationFilterSet(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    product = django_filters.ModelChoiceFilter(label=_("Product"), queryset=Product.objects.all())
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    # A client id: a whole number within 64 bits (else the form refuses it, a 400: PostgreSQL
    # would compare a 23-digit number and quietly match nothing).
    customer = django_filters.NumberFilter(
        field_name="customer_id", widget=HiddenInput, min_value=1, max_value=MAX_ID,
        decimal_places=0,
    )  # fmt: skip
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("created_at", "created_at"),
            ("amount", "amount"),
            ("stage_changed_at", "stage_changed_at"),
            ("customer__name", "client"),
            ("tenor_months", "tenor"),
        ),
        field_labels={
            "created_at": _("Created"),
            "amount": _("Amount"),
            "stage_changed_at": _("Stage since"),
            "customer__name": _("Client"),
            "tenor_months": _("Tenor"),
        },
    )

    class Meta:
        model = Application
        fields: list[str] = []
