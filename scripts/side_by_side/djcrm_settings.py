"""django-crm's own settings (webcrm.settings, as it ships) with DEBUG off and the SQLite file
of this benchmark: the way its guide says to run it in production (a settings module of your
own, ``--settings=...``). Nothing else changed."""

import os

from webcrm.settings import *  # noqa: F403

DEBUG = False
DATABASES["default"]["NAME"] = os.environ.get("DJCRM_DB", "/tmp/djcrm-data/crm.sqlite3")  # noqa: F405
