"""``fincrm daily``: the daily service jobs, run after the nightly evaluation.

The jobs are each app's own, registered in its ``AppConfig.ready`` with
:func:`fincrm.core.daily.register` (engagement's: the care tasks); :func:`run_daily` runs them
in order. Kept here as the old import path of the run.
"""

from __future__ import annotations

from fincrm.core.daily import run_daily

__all__ = ["run_daily"]
