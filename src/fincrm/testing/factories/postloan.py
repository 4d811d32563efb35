"""Factories for after disbursement: evidence of the use of funds, guarantee contracts,
insurance policies and claims."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from fincrm.postloan.models import Claim, EvidenceItem, GuaranteeContract, InsurancePolicy

from .customers import CustomerFactory
from .financing import FacilityFactory

__all__ = [
    "ClaimFactory",
    "EvidenceItemFactory",
    "GuaranteeContractFactory",
    "InsurancePolicyFactory",
]


class EvidenceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceItem

    facility = factory.SubFactory(FacilityFactory)
    kind = factory.Iterator(["invoice", "payee_contract", "bank_statement"])
    due_on = factory.LazyAttribute(lambda o: o.facility.start_date + timedelta(days=90))


class GuaranteeContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuaranteeContract
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"BZ2026{n:05d}")
    kind = "guarantee"
    guarantor_name = "华东融资担保有限公司"
    amount_covered = Decimal("1000000")
    start_on = date(2026, 1, 1)
    expires_on = date(2027, 1, 1)

    @factory.post_generation
    def facilities(self, create, extracted, **kwargs):
        if create and extracted:
            self.facilities.set(extracted)


class InsurancePolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsurancePolicy
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    insurer = "中国出口信用保险公司"
    policy_number = factory.Sequence(lambda n: f"BD2026{n:05d}")
    coverage_share = Decimal("80")
    premium = Decimal("12000")
    start_on = date(2026, 1, 1)
    expires_on = date(2027, 1, 1)

    @factory.post_generation
    def facilities(self, create, extracted, **kwargs):
        if create and extracted:
            self.facilities.set(extracted)


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    facility = factory.SubFactory(FacilityFactory)
    guarantee = factory.SubFactory(
        GuaranteeContractFactory, customer=factory.SelfAttribute("..facility.customer")
    )
    amount_claimed = Decimal("500000")
    filed_on = date(2026, 6, 1)
