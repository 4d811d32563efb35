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


class ClientDetailsForm(forms.Form):
    """The client's own phone (a mainland mobile), e-mail and address."""

    phone = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def clean_phone(self) -> str:
        return _checked_mobile(self.cleaned_data["phone"], self.initial.get("phone", ""))


class ContactDetailsForm(forms.Form):
    """One contact person's details (the key contact first)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Role"), max_length=60, required=False)
    phone = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=60, required=False)

    def clean_phone(self) -> str:
        return _checked_mobile(self.cleaned_data["phone"], self.initial.get("phone", ""))


def _checked_mobile(value: str, stored: str) -> str:
    """A changed number must be a mainland mobile (normalised: ``+86 138-0013-8000`` →
    ``13800138000``); the stored one may stay as it is (an office line kept)."""
    from fincrm.messaging.services import mainland_mobile

    from .services import MSG_NOT_A_MOBILE

    value = (value or "").strip()
    if not value or value == (stored or ""):
        return value
    number = mainland_mobile(value)
    if not number:
        raise forms.ValidationError(MSG_NOT_A_MOBILE, code="not_a_mobile")
    return number
