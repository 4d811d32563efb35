"""Pagination that stays instant on a million rows.

An exact ``COUNT(*)`` over a large filtered set costs a scan of every matching row. On
PostgreSQL the planner already knows roughly how many rows a query returns; when that estimate
is large the list says "about N" instead of counting, and counts exactly below the threshold
(where the scan is cheap and the planner's guess would be visibly wrong).
"""

from __future__ import annotations

import json
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections

#: Count exactly when the planner expects fewer rows than this.
EXACT_BELOW = 50_000


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (None on other backends)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # ``none()`` (a user who may see nothing): counted as 0 exactly
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A ``Paginator`` whose ``count`` is the planner's estimate for large result sets.

    ``estimated`` tells the template to say "about".
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = planner_estimate(self.object_list) if hasattr(self.object_list, "db") else None
        if estimate is not None and estimate >= EXACT_BELOW:
            self.estimated = True
            return estimate
        return super().count
