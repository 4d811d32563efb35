"""The KPI dashboard's inputs read from the nightly facts (``KpiFact``, ``insights.facts``):
the same frames the figures take from the book, pre-aggregated, each row with its count
``n``. Every read is one grouped query over the rows the user may see, narrowed by the
filters (``cube.cube_rows``): no row of the book is read.

What the facts cannot give exactly falls back to the book: the renewals of a period that
ended before the facts were built (a renewal's status depends on the day it is judged), and
everything when the facts were never built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
from django.db.models import QuerySet, Sum

from fincrm.core.frames import fetch

from .cube import cube_rows
from .models import KpiFact

SUMS = {"n": pl.Int64, "value": pl.Float64, "value2": pl.Float64}
GROUPS = {"month": pl.Date, "owner_id": pl.Int64, "key": pl.String, "value": pl.Float64}


class FactReader:
    """The facts one user may see under one set of filters."""

    def __init__(self, user, f, db: str, built_on: date) -> None:
        self.user, self.f, self.db, self.built_on = user, f, db, built_on
        self._rows = {
            (product, manager): cube_rows(
                KpiFact, user=user, f=f, db=db, by_product=product, by_manager=manager
            )
            for product in (False, True)
            for manager in (False, True)
        }

    @classmethod
    def for_user(cls, user, f, db: str) -> FactReader | None:
        """None when the facts were never built (the dashboard reads the book)."""
        built_on = KpiFact.objects.using(db).values_list("built_on", flat=True).first()
        return None if built_on is None else cls(user, f, db, built_on)

    def _sum(self, kind: str, by: tuple[str, ...], *, product: bool, period: bool = True):
        """The facts of ``kind`` summed by ``by`` (``month``, ``owner_id``, ``key`` and for
        decisions ``value``), within the period's months when ``period``."""
        rows: QuerySet = self._rows[product, "owner_id" in by]
        rows = rows.filter(kind=kind)
        if period:
            rows = rows.filter(month__gte=self.f.start, month__lt=self.f.end)
        sums = {"n": Sum("n"), "value": Sum("value"), "value2": Sum("value2")}
        if "value" in by:
            sums.pop("value")
        grouped = rows.order_by().values(*by).annotate(**{f"{k}_": v for k, v in sums.items()})
        names = [*by, *(f"{k}_" for k in sums)]
        schema = {**{k: GROUPS[k] for k in by}, **{k: SUMS[k] for k in sums}}
        return fetch(grouped.values_list(*names), schema)

    def _surveys(self, by: str) -> pl.DataFrame:
        parts = pl.col("key").str.split("|")
        return self._sum("survey", (by, "key"), product=True).select(
            by,
            answered=parts.list.get(0) == "1",
            nps_score=parts.list.get(1).cast(pl.Int64, strict=False),
            csat_score=parts.list.get(2).cast(pl.Int64, strict=False),
            n="n",
        )

    def _book(self) -> pl.DataFrame:
        return self._sum("book", ("owner_id", "key"), product=True, period=False).select(
            loan_class="key", manager_id="owner_id", facilities="n", drawn="value",
            drawn_30=pl.col("value2").fill_null(0.0),
        )  # fmt: skip

    def _matured(self, facilities: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        from .kpis import renewal_rows

        if self.f.end - timedelta(days=1) < self.built_on:  # judged before the facts' day
            return renewal_rows(facilities(), self.f)
        return self._sum("renewal", ("month", "key"), product=True).select(
            "month", status="key", n="n"
        )

    def _tasks(self) -> pl.DataFrame:
        """Tasks due in the period by their owner: the ones done on time and the rest, each
        dated the period's first day (due by the day they are judged)."""
        due = self._sum("task", ("key",), product=False).select(
            manager_id=pl.col("key").cast(pl.Int64), n="n", on_time=pl.col("value").cast(pl.Int64)
        )
        day = pl.lit(self.f.start)
        return pl.concat(
            [
                due.select("manager_id", due_on=day, completed_on=day, n="on_time"),
                due.select(
                    "manager_id", due_on=day, completed_on=pl.lit(None, pl.Date),
                    n=pl.col("n") - pl.col("on_time"),
                ),
            ]
        ).filter(pl.col("n") > 0)  # fmt: skip

    def inputs(self, clients: Callable[[], pl.DataFrame]):
        """The dashboard's inputs (``kpis.DashboardInputs``) from the facts; ``clients``
        reads the user's clients if a figure must fall back to the book."""
        from .kpis import (
            DashboardInputs,
            StaffInputs,
            _facilities,
            cache_first,
            contact_counts,
        )

        f = self.f
        book = self._book()
        tickets = self._sum("ticket", ("month", "key"), product=False)
        flags = pl.col("key").str.split("|")
        decided = self._sum("decision", ("month", "key", "value"), product=False)
        facilities = cache_first(lambda: _facilities(clients(), f, self.db))
        return DashboardInputs(
            surveys=self._surveys("month").rename({"month": "sent"}),
            matured=self._matured(facilities),
            sales=self._sum("sales", ("month",), product=True).select(
                period="month", value="value"
            ),
            book=book,
            tickets=tickets.select(
                "month", resolved=flags.list.get(0) == "1", within_sla=flags.list.get(1) == "1",
                n="n", satisfaction_sum="value", satisfaction_n=pl.col("value2").cast(pl.Int64),
            ),
            decided=decided.select("month", automatic=pl.col("key") == "auto", hours="value",
                                   n="n"),
            staff=StaffInputs(
                contacts=contact_counts(self.user, clients, f, self.db),
                tasks=self._tasks(),
                conversions=self._sum("sales", ("owner_id",), product=True).select(
                    manager_id="owner_id", n="n"
                ),
                portfolio=book.select("manager_id", balance="drawn", loan_class="loan_class"),
                answers=self._surveys("owner_id").rename({"owner_id": "manager_id"}),
            ),
        )  # fmt: skip
