from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_annual_survey_invitations(as_of: date) -> int:
    from .daily import annual_surveys

    return annual_surveys(as_of=as_of)


def _survey_after_complaint(sender, ticket, **kwargs) -> None:
    """A closed ticket (``service.signals.ticket_closed``): the after-complaint survey."""
    from .services import survey_trigger

    survey_trigger(event="complaint_closed", customer=ticket.customer, key=f"ticket:{ticket.pk}")


class SurveysConfig(AppConfig):
    name = "fincrm.surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        from fincrm.core import daily
        from fincrm.service.signals import ticket_closed

        daily.register("annual_survey_invitations", _daily_annual_survey_invitations, order=60)
        ticket_closed.connect(_survey_after_complaint, dispatch_uid="surveys.after_complaint")
