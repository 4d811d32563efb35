"""Writes of the evaluation engine: publish a policy version, run an evaluation.

One module per concern: :mod:`.run` (one run, full, incremental or for given clients),
:mod:`.partitioned` (a full run in id ranges for task workers), :mod:`.scoring` (the pure
scoring of a feature frame), :mod:`.writes` (what a run writes back in bulk) and
:mod:`.policy` (publish and preview a policy). Every name is importable from here.
"""

from fincrm.core.policy import policy_active, policy_config

from .partitioned import (
    FIT_SAMPLE,
    PART_SIZE,
    evaluation_part_run,
    evaluation_parts_requeue,
    evaluation_run_partitioned,
)
from .policy import policy_preview, policy_publish
from .run import (
    MSG_STALE_RUN,
    STALE_RUN_AFTER,
    _refresh_arrears,
    evaluation_run,
    evaluation_runs_fail_stale,
)
from .scoring import MIN_CLIENTS_FOR_CLUSTERS, Scored, score_frame
from .writes import (
    CLASSIFICATION_SCORE_DECIMALS,
    STORED,
    TASK_LOOKAHEAD_DAYS,
    VISIT_OR_CALL,
    Progress,
)

__all__ = [
    "CLASSIFICATION_SCORE_DECIMALS",
    "FIT_SAMPLE",
    "MIN_CLIENTS_FOR_CLUSTERS",
    "MSG_STALE_RUN",
    "PART_SIZE",
    "STALE_RUN_AFTER",
    "STORED",
    "TASK_LOOKAHEAD_DAYS",
    "VISIT_OR_CALL",
    "Progress",
    "Scored",
    "_refresh_arrears",
    "evaluation_part_run",
    "evaluation_parts_requeue",
    "evaluation_run",
    "evaluation_run_partitioned",
    "evaluation_runs_fail_stale",
    "policy_active",
    "policy_config",
    "policy_preview",
    "policy_publish",
    "score_frame",
]
