from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "fincrm.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from .initials import customer_saved

        # The client model by its label: core imports no app (``.importlinter``).
        post_save.connect(customer_saved, sender="customers.Customer", dispatch_uid="initials")
