from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostloanConfig(AppConfig):
    """After disbursement (贷后): evidence of the use of funds, guarantees and credit
    insurance held against facilities, and claims on them."""

    name = "fincrm.postloan"
    verbose_name = _("After disbursement")
