from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.financing.models import Product
from fincrm.service.choices import TicketKind


class PortalTicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("This is a"), choices=TicketKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Tell us more"), max_length=5_000, widget=forms.Textarea(attrs={"rows": 4})
    )


class PortalApplicationForm(forms.Form):
    """A client applies: the product's bounds are checked at once; the account manager takes
    it from there."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=16, decimal_places=2, min_value=1
    )
    tenor_months = forms.IntegerField(label=_("Tenor (months)"), min_value=1, max_value=600)
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def clean(self):
        from fincrm.financing.services import check_product_bounds

        data = super().clean()
        if self.errors:
            return data
        product = data["product"]
        try:
            check_product_bounds(
                product=product,
                amount=data["amount"],
                tenor_months=data["tenor_months"],
                rate=None,
                repayment_method=(product.repayment_methods or ["equal_instalment"])[0],
                frequency="monthly",
            )
        except forms.ValidationError as exc:
            for field, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return data


class AssistantForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. When is my next repayment due?")}),
    )
