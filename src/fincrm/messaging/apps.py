from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_care_messages(as_of: date) -> int:
    from .care import care_messages_queue

    return care_messages_queue(as_of=as_of)


class MessagingConfig(AppConfig):
    name = "fincrm.messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("care_messages", _daily_care_messages, order=20)
