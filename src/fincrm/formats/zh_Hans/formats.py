from django.conf.locale.zh_Hans.formats import *  # noqa: F403
from django.conf.locale.zh_Hans.formats import DATE_INPUT_FORMATS as _DATES
from django.conf.locale.zh_Hans.formats import DATETIME_INPUT_FORMATS as _DATETIMES

from fincrm.formats import ISO_DATE, ISO_DATETIME, iso_first

DATE_INPUT_FORMATS = iso_first(_DATES, ISO_DATE)
DATETIME_INPUT_FORMATS = iso_first(_DATETIMES, *ISO_DATETIME)
DECIMAL_SEPARATOR = "."
