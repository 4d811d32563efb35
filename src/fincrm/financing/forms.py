from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import STAGE_TRANSITIONS, Stage


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = STAGE_TRANSITIONS.get(application.stage, frozenset())
        self.fields["to_stage"].choices = [(s.value, s.label) for s in Stage if s.value in allowed]


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    paid_on = forms.DateField(label=_("Paid on"))
    reference = forms.CharField(label=_("Reference"), max_length=40, required=False)

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be dated in the future."))
        return paid_on
