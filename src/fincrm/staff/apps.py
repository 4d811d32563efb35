from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """Staff development (issue 24, point 7): training records against the courses each role
    must hold, and the monthly incentive scorecard of account managers and leads."""

    name = "fincrm.staff"
    verbose_name = _("Staff development")
