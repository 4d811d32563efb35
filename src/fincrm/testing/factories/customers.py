"""Factories for clients, their contacts, statements and tags, and a client's portal login;
valid Chinese identifiers by construction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from stdnum.cn import ric, uscc

from fincrm.core.initials import initials as initials_of
from fincrm.core.models import AccessAction, AccessLog, NameInitials
from fincrm.customers.choices import ClientType, CustomerKind
from fincrm.customers.models import Contact, Customer, FinancialStatement, ImportJob, Tag
from fincrm.portal.models import FaqEntry, PortalAccount

from .accounts import UserFactory


def make_uscc(n: int, region: str = "110105") -> str:
    """A valid unified social credit code, distinct for each ``n``."""
    body = f"91{region}{n:09d}"
    return body + uscc.calc_check_digit(body)


def make_ric(n: int, birthday: date = date(1980, 1, 1), county: str = "110105") -> str:
    body = f"{county}{birthday:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


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


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"标签{n}")


class PortalAccountFactory(factory.django.DjangoModelFactory):
    """A client's own login to the portal (a user without a staff role or team)."""

    class Meta:
        model = PortalAccount

    user = factory.SubFactory(UserFactory, role="", team=None)
    customer = factory.SubFactory(CustomerFactory)


class FaqEntryFactory(factory.django.DjangoModelFactory):
    """One entry of the portal assistant's FAQ base."""

    class Meta:
        model = FaqEntry

    language = "zh-hans"
    question = factory.Sequence(lambda n: f"常见问题{n}？")
    keywords = "还款 提前"
    answer = "请联系您的客户经理。"


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessLog

    customer = factory.SubFactory(CustomerFactory)
    user = factory.LazyAttribute(lambda o: o.customer.owner)
    fields = "id_number"
    action = AccessAction.VIEW_PII


class NameInitialsFactory(factory.django.DjangoModelFactory):
    """A client's pinyin initials; saving the client already wrote them (its post_save)."""

    class Meta:
        model = NameInitials
        django_get_or_create = ["customer"]

    customer = factory.SubFactory(CustomerFactory)
    initials = factory.LazyAttribute(lambda o: initials_of(o.customer.name))


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    user = factory.SubFactory(UserFactory)
    token = factory.Sequence(lambda n: f"import-{n:08d}")
    filename = "客户名单.xlsx"
