import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
application = get_wsgi_application()

# Loaded: freeze what is alive now out of the collector's way (``fincrm.core.gc_tuning``).
# The development server loads this module too (``WSGI_APPLICATION``).
from fincrm.core.gc_tuning import freeze_loaded_app  # noqa: E402

freeze_loaded_app()
