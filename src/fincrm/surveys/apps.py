from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_annual_survey_invitations(as_of: date) -> int:
    from .daily import annual_surveys

    return annual_surveys(as_of=as_of)


class SurveysConfig(AppConfig):
    name = "fincrm.surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("annual_survey_invitations", _daily_annual_survey_invitations, order=60)
