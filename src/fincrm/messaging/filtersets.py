import django_filters
from django.utils.translation import gettext_lazy as _

from .choices import MessageChannel, MessageKind, MessageStatus
from .models import Message


class MessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=MessageStatus.choices)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=MessageChannel.choices)
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=MessageKind.choices)

    class Meta:
        model = Message
        fields = ["status", "channel", "kind"]
