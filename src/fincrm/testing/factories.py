"""factory_boy factories for the domain; valid Chinese identifiers by construction."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from stdnum.cn import ric, uscc

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.customers.choices import ClientType, CustomerKind
from fincrm.customers.models import Contact, Customer, FinancialStatement
from fincrm.financing.choices import ProductType
from fincrm.financing.models import Application, Facility, Installment, Product

PASSWORD = "Fincrm-test-pass-42"


def make_uscc(n: int, region: str = "110105") -> str:
    """A valid unified social credit code, distinct for each ``n``."""
    body = f"91{region}{n:09d}"
    return body + uscc.calc_check_digit(body)


def make_ric(n: int, birthday: date = date(1980, 1, 1), county: str = "110105") -> str:
    body = f"{county}{birthday:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"团队{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ACCOUNT_MANAGER
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    kind = CustomerKind.COMPANY
    name = factory.Sequence(lambda n: f"苏州恒瑞精密机械{n}有限公司")
    credit_code = factory.Sequence(make_uscc)
    id_number = None
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    industry = "C"
    province = "江苏"
    city = "苏州"
    city_tier = "new1"
    client_type = ClientType.SME
    annual_revenue = Decimal("52000000.00")
    registered_capital = Decimal("10000000.00")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team if o.owner else None)

    class Params:
        person = factory.Trait(
            kind=CustomerKind.PERSON,
            name=factory.Sequence(lambda n: f"王{n}"),
            credit_code=None,
            id_number=factory.Sequence(make_ric),
            client_type=ClientType.SME_OWNER,
            birthday=date(1980, 1, 1),
        )


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"李{n}")
    title = "财务经理"
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialStatement

    customer = factory.SubFactory(CustomerFactory)
    period_end = date(2025, 12, 31)
    revenue = Decimal("50000000")
    cost = Decimal("40000000")
    net_profit = Decimal("3000000")
    total_assets = Decimal("80000000")
    total_liabilities = Decimal("45000000")
    current_assets = Decimal("40000000")
    current_liabilities = Decimal("25000000")
    inventory = Decimal("10000000")
    receivables = Decimal("12000000")
    operating_cash_flow = Decimal("4000000")
    interest_expense = Decimal("1200000")


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
