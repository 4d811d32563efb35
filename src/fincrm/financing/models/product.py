"""The financing products a lender offers."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import DayCount, DocumentKind, ProductType, RepaymentMethod
from .base import MONEY, RATE


def _all_repayment_methods() -> list[str]:
    return list(RepaymentMethod.values)


class Product(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    product_type = models.CharField(_("type"), max_length=20, choices=ProductType.choices)
    min_rate = models.DecimalField(_("minimum rate (%)"), **RATE)
    max_rate = models.DecimalField(_("maximum rate (%)"), **RATE)
    min_tenor_months = models.PositiveSmallIntegerField(_("minimum tenor (months)"))
    max_tenor_months = models.PositiveSmallIntegerField(_("maximum tenor (months)"))
    min_amount = models.DecimalField(_("minimum amount (CNY)"), **MONEY)
    max_amount = models.DecimalField(_("maximum amount (CNY)"), **MONEY)
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    repayment_methods = models.JSONField(
        _("repayment methods"), default=_all_repayment_methods, blank=True
    )
    day_count = models.CharField(
        _("day count"), max_length=8, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    #: Penalty interest (罚息) on overdue principal: the contract rate raised by this share.
    penalty_markup_percent = models.DecimalField(
        _("penalty rate markup (%)"), default=Decimal(50), **RATE
    )
    upfront_fee_percent = models.DecimalField(
        # xgettext:no-python-format
        _("arrangement fee (% of the amount)"),
        default=Decimal(0),
        **RATE,
    )
    #: Yearly service fee on the outstanding principal, charged with each instalment.
    service_fee_percent = models.DecimalField(
        _("service fee (% a year)"), default=Decimal(0), **RATE
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="product_rate_range", condition=Q(min_rate__lte=models.F("max_rate"))
            ),
            models.CheckConstraint(
                name="product_tenor_range",
                condition=Q(min_tenor_months__lte=models.F("max_tenor_months")),
            ),
            models.CheckConstraint(
                name="product_amount_range", condition=Q(min_amount__lte=models.F("max_amount"))
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def document_labels(self) -> list[str]:
        labels = dict(DocumentKind.choices)
        return [str(labels.get(code, code)) for code in self.required_documents]

    def repayment_method_choices(self) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in RepaymentMethod if m.value in self.repayment_methods]
