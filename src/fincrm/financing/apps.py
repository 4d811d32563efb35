from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_maturity_follow_ups(as_of: date) -> int:
    from .daily import maturity_follow_ups

    return maturity_follow_ups(as_of=as_of)


def _daily_collection_actions(as_of: date) -> int:
    from .collections import collections_run

    return collections_run(as_of=as_of)["created"]


def _daily_renewal_applications(as_of: date) -> int:
    from .services import renewals_open

    return renewals_open(as_of=as_of)


def _daily_green_channel_routes(as_of: date) -> int:
    from .routing import routes_follow_tiers

    return sum(routes_follow_tiers().values())


class FinancingConfig(AppConfig):
    name = "fincrm.financing"
    verbose_name = _("Financing")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("maturity_follow_ups", _daily_maturity_follow_ups, order=30)
        daily.register("collection_actions", _daily_collection_actions, order=70)
        daily.register("renewal_applications", _daily_renewal_applications, order=80)
        daily.register("green_channel_routes", _daily_green_channel_routes, order=90)
