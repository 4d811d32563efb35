"""Factories for contact with clients: interactions, tasks, notifications, message templates,
messages and consent, campaigns and events."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from fincrm.campaigns.choices import Group
from fincrm.campaigns.models import Campaign, CampaignChannel, Recipient
from fincrm.engagement.choices import InteractionChannel, NotificationKind, TaskKind
from fincrm.engagement.models import Interaction, MessageTemplate, Notification, Task
from fincrm.events.choices import EventKind
from fincrm.events.models import Event, Invitee
from fincrm.messaging.choices import ConsentSource, ConsentStatus, MessageChannel
from fincrm.messaging.models import Consent, Message

from .customers import CustomerFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = InteractionChannel.PHONE
    subject = "贷后回访"
    occurred_at = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
    created_by = factory.LazyAttribute(lambda o: o.customer.owner)


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    kind = TaskKind.FOLLOW_UP
    title = "电话回访"
    due_on = date(2026, 6, 20)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    customer = factory.SubFactory(CustomerFactory)
    recipient = factory.LazyAttribute(lambda o: o.customer.owner)
    kind = NotificationKind.TASK
    message = "新任务：电话回访"


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate
        django_get_or_create = ["occasion", "language", "channel"]

    occasion = factory.Sequence(lambda n: f"occasion_{n}")
    language = "zh-hans"
    channel = InteractionChannel.SMS
    body = "{name}，您好！"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    customer = factory.SubFactory(CustomerFactory)
    channel = MessageChannel.SMS
    address = factory.LazyAttribute(lambda o: o.customer.phone)
    text = "您本月的还款日为 6 月 20 日。"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    channel = MessageChannel.SMS
    status = ConsentStatus.OPTED_OUT
    source = ConsentSource.SMS_REPLY


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"续贷推广{n}")
    created_by = factory.SubFactory("fincrm.testing.factories.accounts.UserFactory")
    channel_entry = factory.RelatedFactory(
        "fincrm.testing.factories.engagement.CampaignChannelFactory", "campaign"
    )


class CampaignChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignChannel

    campaign = factory.SubFactory(CampaignFactory, channel_entry=None)
    channel = MessageChannel.SMS
    text = "您的授信即将到期，欢迎咨询续贷。"


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    group = Group.A


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    kind = EventKind.SEMINAR
    title = factory.Sequence(lambda n: f"中小企业融资研讨会{n}")
    starts_at = datetime(2026, 7, 10, 14, 0, tzinfo=SHANGHAI)
    ends_at = datetime(2026, 7, 10, 17, 0, tzinfo=SHANGHAI)
    place = "苏州工业园区金鸡湖大道 88 号"
    capacity = 50
    organiser = factory.SubFactory("fincrm.testing.factories.accounts.UserFactory")


class InviteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitee

    event = factory.SubFactory(EventFactory)
    customer = factory.SubFactory(CustomerFactory)
