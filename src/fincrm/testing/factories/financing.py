"""Factories for lending: products, applications and their stages, documents, votes and
tranches; facilities, schedules, payments, fees, collections and modifications."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from fincrm.accounts.choices import Role
from fincrm.financing.choices import (
    CollectionStep,
    DocumentKind,
    FeeKind,
    ModificationKind,
    ProductType,
    Stage,
    Vote,
)
from fincrm.financing.models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    ApprovalVote,
    CollectionAction,
    CollectionLetter,
    CollectionLetterTemplate,
    Facility,
    FacilityModification,
    Fee,
    Installment,
    ModificationVote,
    Payment,
    Product,
    ScheduleRevision,
    Tranche,
)

from .accounts import UserFactory
from .customers import CustomerFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"WC{n:03d}")
    name = "流动资金贷款"
    product_type = ProductType.WORKING_CAPITAL
    min_rate = Decimal("3.8")
    max_rate = Decimal("9.5")
    min_tenor_months = 6
    max_tenor_months = 36
    min_amount = Decimal("500000")
    max_amount = Decimal("30000000")
    required_documents = ["business_licence", "financial_statements"]


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    amount = Decimal("3000000")
    tenor_months = 12


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    contract_number = factory.Sequence(lambda n: f"HT2025{n:06d}")
    approved_limit = Decimal("3000000")
    drawn_amount = Decimal("3000000")
    rate = Decimal("6.5")
    tenor_months = 12
    start_date = date(2025, 1, 15)
    maturity_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=365))


class ApplicationStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationStageChange

    application = factory.SubFactory(ApplicationFactory)
    from_stage = Stage.LEAD
    to_stage = Stage.SUBMITTED
    changed_by = factory.LazyAttribute(lambda o: o.application.customer.owner)


class ApplicationDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationDocument

    application = factory.SubFactory(ApplicationFactory)
    kind = DocumentKind.BUSINESS_LICENCE
    file = factory.django.FileField(filename="营业执照.pdf", data=b"%PDF-1.4 licence")


class ApprovalVoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalVote

    application = factory.SubFactory(ApplicationFactory)
    user = factory.SubFactory(UserFactory, role=Role.RISK_OFFICER)
    role = Role.RISK_OFFICER
    vote = Vote.APPROVE
    authority = "风控审批 ≤ 5,000,000"


class TrancheFactory(factory.django.DjangoModelFactory):
    """A planned drawdown of an application (not yet disbursed, so no facility)."""

    class Meta:
        model = Tranche

    application = factory.SubFactory(ApplicationFactory)
    number = factory.Sequence(lambda n: n + 1)
    amount = Decimal("1000000")
    planned_on = date(2026, 7, 1)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    facility = factory.SubFactory(FacilityFactory)
    paid_on = factory.LazyAttribute(lambda o: o.facility.start_date + timedelta(days=31))
    amount = Decimal("266000")


class FeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fee

    facility = factory.SubFactory(FacilityFactory)
    kind = FeeKind.UPFRONT
    amount = Decimal("15000")
    charged_on = factory.LazyAttribute(lambda o: o.facility.start_date)


class ScheduleRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleRevision

    facility = factory.SubFactory(FacilityFactory)
    reason = "展期"
    rows = factory.LazyAttribute(
        lambda o: [
            {
                "number": 1,
                "due_date": (o.facility.start_date + timedelta(days=31)).isoformat(),
                "principal_due": "250000.00",
                "interest_due": "16250.00",
            }
        ]
    )


class CollectionActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionAction

    facility = factory.SubFactory(FacilityFactory)
    step = CollectionStep.CALL
    episode = factory.LazyAttribute(lambda o: o.facility.start_date + timedelta(days=31))
    days_past_due = 5
    amount_overdue = Decimal("266000")
    due_on = factory.LazyAttribute(lambda o: o.episode + timedelta(days=5))


class CollectionLetterTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionLetterTemplate
        django_get_or_create = ["step", "language"]

    step = CollectionStep.LETTER
    language = "zh-hans"
    title = "催收函"
    body = "贵司尚有逾期款项，请尽快归还。"


class CollectionLetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionLetter

    action = factory.SubFactory(CollectionActionFactory, step=CollectionStep.LETTER)
    reference = factory.Sequence(lambda n: f"催函〔2026〕{n:04d}号")
    file_format = "pdf"
    title = "催收函"
    text = "贵司尚有逾期款项，请尽快归还。"
    figures = factory.LazyAttribute(lambda o: {"amount_overdue": str(o.action.amount_overdue)})
    created_by = factory.LazyAttribute(lambda o: o.action.facility.customer.owner)


class FacilityModificationFactory(factory.django.DjangoModelFactory):
    """A pending extension by six months, with the facility's terms when it was asked."""

    class Meta:
        model = FacilityModification

    facility = factory.SubFactory(FacilityFactory)
    kind = ModificationKind.EXTENSION
    reason = "订单回款延后"
    extension_months = 6
    outstanding_principal = factory.LazyAttribute(lambda o: o.facility.drawn_amount)
    old_maturity = factory.LazyAttribute(lambda o: o.facility.maturity_date)
    old_rate = factory.LazyAttribute(lambda o: o.facility.rate)
    old_method = factory.LazyAttribute(lambda o: o.facility.repayment_method)
    old_tenor_months = factory.LazyAttribute(lambda o: o.facility.tenor_months)
    requested_by = factory.LazyAttribute(lambda o: o.facility.customer.owner)


class ModificationVoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModificationVote

    modification = factory.SubFactory(FacilityModificationFactory)
    user = factory.SubFactory(UserFactory, role=Role.RISK_OFFICER)
    role = Role.RISK_OFFICER
    vote = Vote.APPROVE


class InstallmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installment

    facility = factory.SubFactory(FacilityFactory)
    number = factory.Sequence(lambda n: n + 1)
    due_date = factory.LazyAttribute(
        lambda o: o.facility.start_date + timedelta(days=30 * o.number)
    )
    principal_due = Decimal("250000")
    interest_due = Decimal("16250")


def monthly_schedule(facility: Facility, *, months: int, principal: Decimal, interest: Decimal):
    """Create ``months`` equal installments due on the start day of each following month."""
    rows = []
    for n in range(1, months + 1):
        year = facility.start_date.year + (facility.start_date.month - 1 + n) // 12
        month = (facility.start_date.month - 1 + n) % 12 + 1
        rows.append(
            Installment(
                facility=facility,
                number=n,
                due_date=date(year, month, facility.start_date.day),
                principal_due=principal,
                interest_due=interest,
            )
        )
    return Installment.objects.bulk_create(rows)
