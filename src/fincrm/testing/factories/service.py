"""Factories for serving clients: tickets, surveys and their answers, loyalty points, monthly
reports, and the webhook subscribers that hear of lending events."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import factory

from fincrm.engagement.choices import InteractionChannel
from fincrm.loyalty.choices import EarnReason, EntryKind
from fincrm.loyalty.models import PointsEntry
from fincrm.reports.models import ClientReport
from fincrm.service.choices import TicketCategory
from fincrm.service.models import Ticket
from fincrm.surveys.choices import DeliveryChannel, QuestionKind
from fincrm.surveys.models import Answer, Invitation, Question, Response, Survey
from fincrm.webhooks.models import Delivery, Event, Subscriber

from .customers import CustomerFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED_AT = datetime(2026, 6, 12, 9, 30, tzinfo=SHANGHAI)


class TicketFactory(factory.django.DjangoModelFactory):
    """A complaint logged by staff, with its SLA deadlines counted from when it opened."""

    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    channel = InteractionChannel.PHONE
    subject = "提前还款手续费过高"
    description = "客户反映提前还款手续费与合同约定不一致。"
    category = TicketCategory.FEES
    opened_at = OPENED_AT
    respond_by = factory.LazyAttribute(lambda o: o.opened_at + timedelta(hours=4))
    resolve_by = factory.LazyAttribute(lambda o: o.opened_at + timedelta(days=3))


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"放款满意度调查{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n)
    kind = QuestionKind.NPS
    text = "您有多大可能向朋友推荐我们？"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    customer = factory.SubFactory(CustomerFactory)
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"invitation-{n}".encode()).hexdigest())
    channel = DeliveryChannel.PORTAL
    cause = factory.Sequence(lambda n: f"manual:{n}")
    sent_at = OPENED_AT
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(days=30))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    invitation = factory.SubFactory(InvitationFactory)
    customer = factory.LazyAttribute(lambda o: o.invitation.customer)


class AnswerFactory(factory.django.DjangoModelFactory):
    """A score of 9 to an NPS question of the response's survey."""

    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    question = factory.SubFactory(
        QuestionFactory, survey=factory.SelfAttribute("..response.invitation.survey")
    )
    number = 9


class PointsEntryFactory(factory.django.DjangoModelFactory):
    """Points earned for an on-time repayment (earned points expire)."""

    class Meta:
        model = PointsEntry

    customer = factory.SubFactory(CustomerFactory)
    kind = EntryKind.EARN
    reason = EarnReason.ON_TIME_REPAYMENT
    points = 100
    expires_on = date(2028, 6, 30)
    key = factory.Sequence(lambda n: f"installment:{n}")


class ClientReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientReport

    customer = factory.SubFactory(CustomerFactory)
    period = date(2026, 5, 1)
    file = factory.django.FileField(filename="月度报告.pdf", data=b"%PDF-1.4 report")


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    name = factory.Sequence(lambda n: f"核心系统{n}")
    url = factory.Sequence(lambda n: f"https://core{n}.example.com/hooks/fincrm")
    events = factory.LazyFunction(lambda: [Event.FACILITY_BOOKED.value])


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    subscriber = factory.SubFactory(SubscriberFactory)
    event = Event.FACILITY_BOOKED
    payload = factory.LazyFunction(lambda: {"facility": 1, "contract_number": "HT2026000001"})
    last_status_code = 200
