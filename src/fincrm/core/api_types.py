"""Types of the API's parameters, shared by every router: ids within the database's range
and dates as ISO 8601 text only."""

import re
from datetime import date, datetime
from typing import Annotated

from ninja import Field, Path
from pydantic import BeforeValidator


def _iso_only(value):
    """Dates and times as ISO 8601 text only: pydantic would also read ``0.5`` as a Unix
    time, which the schema (format date / date-time) does not allow."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value)
    ):
        raise ValueError("an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T09:00+08:00")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
#: Database ids: positive and within a 64-bit integer (a larger number is a 422, not a crash
#: of the database driver).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
IsoDate = Annotated[date, BeforeValidator(_iso_only)]
