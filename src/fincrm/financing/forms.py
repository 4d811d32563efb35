from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    CollectionOutcome,
    Frequency,
    GuaranteeType,
    ModificationKind,
    Overpayment,
    RepaymentMethod,
    Stage,
    Vote,
)
from .models import Product


class StageMoveForm(forms.Form):
    """The moves the application's route allows; approval and rejection are decisions, made
    in the decision panel by whoever has the authority."""

    to_stage = forms.ChoiceField(label=_("Move to"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, application, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [
            (s.value, s.label)
            for s in Stage
            if s.value in allowed and s.value not in (Stage.APPROVED, Stage.REJECTED)
        ]


class ApplicationForm(forms.Form):
    """Opening an application: the product's bounds are checked at once."""

    customer = forms.ModelChoiceField(label=_("Client"), queryset=None)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    tenor_months = forms.IntegerField(label=_("Tenor (months)"), min_value=1, max_value=600)
    repayment_method = forms.ChoiceField(
        label=_("Repayment method"), choices=RepaymentMethod.choices
    )
    frequency = forms.ChoiceField(label=_("Repayment frequency"), choices=Frequency.choices)
    rate = forms.DecimalField(
        label=_("Proposed annual rate (%)"),
        max_digits=6,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text=_("Leave empty to propose the grade's floor within the product's range."),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers

    def clean(self):
        from .services import check_product_bounds

        data = super().clean()
        if self.errors:
            return data
        try:
            check_product_bounds(
                product=data["product"],
                amount=data["amount"],
                tenor_months=data["tenor_months"],
                rate=data.get("rate"),
                repayment_method=data["repayment_method"],
                frequency=data["frequency"],
            )
        except forms.ValidationError as exc:
            for field, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return data


class TermsForm(forms.Form):
    """The terms, while the application is prepared, and the contract's details."""

    rate = forms.DecimalField(
        label=_("Annual rate (%)"), max_digits=6, decimal_places=3, min_value=0
    )
    repayment_method = forms.ChoiceField(
        label=_("Repayment method"), choices=RepaymentMethod.choices
    )
    frequency = forms.ChoiceField(label=_("Repayment frequency"), choices=Frequency.choices)
    guarantee_type = forms.ChoiceField(label=_("Guarantee"), choices=GuaranteeType.choices)
    guarantor = forms.CharField(label=_("Guarantor"), max_length=100, required=False)
    collateral_value = forms.DecimalField(
        label=_("Collateral value (CNY)"), max_digits=16, decimal_places=2, min_value=0
    )
    margin_percent = forms.DecimalField(
        label=_("Cash margin (%)"), max_digits=6, decimal_places=3, min_value=0, max_value=100
    )
    signed_on = forms.DateField(label=_("Signed on"), required=False)
    first_due_date = forms.DateField(label=_("First due date"), required=False)
    upfront_fee = forms.DecimalField(
        label=_("Arrangement fee (CNY)"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
    )


class DecisionForm(forms.Form):
    vote = forms.ChoiceField(label=_("Decision"), choices=Vote.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    override_reason = forms.CharField(
        label=_("Reason for an exception to the controls"), max_length=300, required=False
    )


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))


class DocumentRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CollectionOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CollectionOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    promise_date = forms.DateField(label=_("Promised for"), required=False)
    promise_amount = forms.DecimalField(
        label=_("Promised amount (CNY)"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    paid_on = forms.DateField(label=_("Paid on"))
    reference = forms.CharField(label=_("Reference"), max_length=40, required=False)
    overpayment = forms.ChoiceField(
        label=_("Beyond what is due"),
        choices=Overpayment.choices,
        initial=Overpayment.HOLD,
        required=False,
    )

    def clean_overpayment(self):
        return self.cleaned_data.get("overpayment") or Overpayment.HOLD

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be dated in the future."))
        return paid_on


class TrancheForm(forms.Form):
    """One row of the tranche plan; a row left empty is no tranche."""

    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        max_digits=16,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "aria-label": _("Amount (CNY)")}),
    )
    planned_on = forms.DateField(
        label=_("Planned for"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "aria-label": _("Planned for")}, format="%Y-%m-%d"
        ),
    )

    def clean(self):
        data = super().clean()
        if (data.get("amount") is None) != (data.get("planned_on") is None):
            raise forms.ValidationError(_("Give each tranche both its amount and its date."))
        return data


class BaseTranchePlanFormSet(forms.BaseFormSet):
    def plan(self) -> list[tuple]:
        """The rows filled in, in order: (amount, planned date)."""
        return [
            (row["amount"], row["planned_on"])
            for row in self.cleaned_data
            if row.get("amount") is not None
        ]


TranchePlanFormSet = forms.formset_factory(
    TrancheForm, formset=BaseTranchePlanFormSet, extra=3, max_num=60, absolute_max=60
)


class ModificationForm(forms.Form):
    """An extension or restructuring request (``modifications.modification_request``)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ModificationKind.choices)
    extension_months = forms.IntegerField(
        label=_("Extend by (months)"), min_value=0, max_value=600, required=False
    )
    new_rate = forms.DecimalField(
        label=_("New annual rate (%)"), min_value=Decimal("0.001"), max_value=Decimal(100),
        decimal_places=3, required=False,
    )  # fmt: skip
    new_method = forms.ChoiceField(
        label=_("New repayment method"),
        choices=[("", _("Unchanged")), *RepaymentMethod.choices],
        required=False,
    )
    capitalise_overdue = forms.BooleanField(label=_("Capitalise what is overdue"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_extension_months(self):
        return self.cleaned_data["extension_months"] or 0
