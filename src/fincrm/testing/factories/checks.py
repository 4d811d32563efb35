"""External checks and their findings."""

import factory
from django.utils import timezone

from fincrm.checks.choices import CheckReason, CheckStatus, FindingCategory
from fincrm.checks.models import ExternalCheck, Finding

from .customers import CustomerFactory


class ExternalCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalCheck

    customer = factory.SubFactory(CustomerFactory)
    provider = "qcc"
    reason = CheckReason.ONBOARDING
    status = CheckStatus.DONE
    checked_at = factory.LazyFunction(timezone.now)


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    customer = factory.SubFactory(CustomerFactory)
    category = FindingCategory.DISHONEST
    key = factory.Sequence(lambda n: f"(2026)苏05执{n:04d}号")
    title = "未履行生效法律文书确定的给付义务"
    source = "qcc"
    first_seen = factory.SubFactory(
        ExternalCheckFactory, customer=factory.SelfAttribute("..customer")
    )
