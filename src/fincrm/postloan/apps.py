from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_use_of_funds_checklists(as_of: date) -> int:
    from .services import evidence_checklists_open

    return evidence_checklists_open(as_of=as_of)


def _daily_cover_expiry_reminders(as_of: date) -> int:
    from .services import cover_expiry_reminders

    return cover_expiry_reminders(as_of=as_of)


def _evidence_checklist(sender, facility, **kwargs) -> None:
    """A booked facility (``financing.signals.facility_booked``): its checklist of evidence of
    the use of funds, in the booking's transaction."""
    from .services import evidence_checklist_create

    evidence_checklist_create(facility=facility)


class PostloanConfig(AppConfig):
    """After disbursement (贷后): evidence of the use of funds, guarantees and credit
    insurance held against facilities, and claims on them."""

    name = "fincrm.postloan"
    verbose_name = _("After disbursement")

    def ready(self) -> None:
        from fincrm.core import daily
        from fincrm.financing.signals import facility_booked

        facility_booked.connect(_evidence_checklist, dispatch_uid="postloan.evidence_checklist")
        daily.register("use_of_funds_checklists", _daily_use_of_funds_checklists, order=130)
        daily.register("cover_expiry_reminders", _daily_cover_expiry_reminders, order=140)
