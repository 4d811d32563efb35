from django import forms
from django.utils.translation import gettext_lazy as _


class ReviewEffectForm(forms.Form):
    """What a review decision changes: the facility and its new limit, rate or guarantee."""

    facility = forms.ModelChoiceField(label=_("Facility"), queryset=None, required=False)
    new_limit = forms.DecimalField(
        label=_("New limit (CNY)"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    new_rate = forms.DecimalField(
        label=_("New annual rate (%)"),
        max_digits=6,
        decimal_places=3,
        min_value=0,
        max_value=100,
        required=False,
    )
    new_guarantee = forms.ChoiceField(label=_("Guarantee required"), required=False)

    def __init__(self, *args, customer, **kwargs):
        from fincrm.financing.choices import GuaranteeType
        from fincrm.financing.models import Facility

        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = Facility.objects.filter(customer=customer)
        self.fields["new_guarantee"].choices = [("", "—"), *GuaranteeType.choices]
