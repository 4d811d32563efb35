from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fincrm.financing.choices import FacilityStatus
from fincrm.financing.models import Facility

from .choices import ClaimStatus, GuaranteeKind

DATE = forms.DateInput(attrs={"type": "date"})
MONEY = {"max_digits": 18, "decimal_places": 2, "min_value": 0}


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    payee = forms.CharField(label=_("Payee"), max_length=100)
    amount = forms.DecimalField(label=_("Amount (CNY)"), required=False, **MONEY)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=300)


class _CoverForm(forms.Form):
    start_on = forms.DateField(label=_("Start"), widget=DATE)
    expires_on = forms.DateField(label=_("Expiry"), widget=DATE)
    facilities = forms.ModelMultipleChoiceField(
        label=_("Facilities"), queryset=Facility.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilities"].queryset = Facility.objects.filter(customer=customer).exclude(
            status=FacilityStatus.CLOSED
        )
        self.fields["facilities"].label_from_instance = lambda f: f.contract_number


class GuaranteeForm(_CoverForm):
    number = forms.CharField(label=_("Contract number"), max_length=40)
    kind = forms.ChoiceField(label=_("Type"), choices=GuaranteeKind.choices)
    guarantor_name = forms.CharField(label=_("Guarantor"), max_length=100, required=False)
    guarantor_client = forms.IntegerField(
        label=_("Guarantor's client number"), required=False, min_value=1,
        help_text=_("When the guarantor is a client: its number, instead of a name."),
    )  # fmt: skip
    amount_covered = forms.DecimalField(label=_("Amount covered (CNY)"), **MONEY)

    field_order = ["number", "kind", "guarantor_name", "guarantor_client", "amount_covered"]


class PolicyForm(_CoverForm):
    insurer = forms.CharField(label=_("Insurer"), max_length=100)
    policy_number = forms.CharField(label=_("Policy number"), max_length=40)
    coverage_share = forms.DecimalField(
        label=_("Share covered (%)"), required=False, max_digits=5, decimal_places=2,
        min_value=0, max_value=100,
    )  # fmt: skip
    coverage_amount = forms.DecimalField(label=_("Amount covered (CNY)"), required=False, **MONEY)
    premium = forms.DecimalField(label=_("Premium (CNY)"), **MONEY)

    field_order = ["insurer", "policy_number", "coverage_share", "coverage_amount", "premium"]


class ClaimForm(forms.Form):
    cover = forms.ChoiceField(label=_("Under"))
    amount_claimed = forms.DecimalField(label=_("Amount claimed (CNY)"), **MONEY)
    filed_on = forms.DateField(label=_("Filed on"), widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, covers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cover"].choices = covers


class ClaimDecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s.value, s.label) for s in (ClaimStatus.PAID, ClaimStatus.REJECTED)],
    )
    amount_recovered = forms.DecimalField(
        label=_("Amount recovered (CNY)"), required=False, **MONEY
    )
    decided_on = forms.DateField(label=_("Date"), widget=DATE)
