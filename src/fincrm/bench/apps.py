from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenchConfig(AppConfig):
    """The benchmarks (``fincrm bench …``): an entry point at the top of the layers, like the
    demo; it drives every app and nothing imports it."""

    name = "fincrm.bench"
    verbose_name = _("Benchmarks")
