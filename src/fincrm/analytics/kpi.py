"""KPI arithmetic for dashboards: frames in, frames out.

Pure functions over polars frames; nothing here imports Django. Shares are fractions (0–1),
durations are in days, money in CNY. A share or growth whose denominator is zero is null, not
zero or infinity: the dashboard shows "—".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from .delinquency import LOAN_CLASSES
from .policy import TIERS

MISSING_COLUMNS = "{frame} is missing column(s): {missing}"
TOO_FEW_STAGES = "a funnel needs at least one stage"
DUPLICATE_STAGES = "stages must be distinct, got {stages!r}"
NOT_A_DATE = "{column} must be a Date column, not {dtype}"
NOT_PERIOD_START = (
    "{count} {column} value(s) are not the first day of a month, first: {first}; "
    "periods are stored as their first day"
)
DUPLICATE_PERIODS = "{count} rows share a period with another row, first: {first}"
DUPLICATE_KEYS = "{frame} has {count} duplicate {key} value(s)"
UNKNOWN_CATEGORY = "{frame}.{column} has value(s) {values} outside {order}"
UNKNOWN_LOAN_CLASS = "unknown loan class(es) {values}; expected one of {order}"
BAD_PARAM = "{name} must be {rule}, got {value!r}"


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(frame=name, missing=", ".join(missing)))


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator != 0).then(numerator / denominator)


def _days(start: str, end: str) -> pl.Expr:
    """Days from ``start`` to ``end`` (Date or Datetime), fractional for datetimes."""
    delta = pl.col(end).cast(pl.Datetime("us")) - pl.col(start).cast(pl.Datetime("us"))
    return delta.dt.total_microseconds() / 86_400_000_000


# --------------------------------------------------------------------------------------------
# funnel
# --------------------------------------------------------------------------------------------


def funnel(
    applications: pl.DataFrame,
    stages: Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Applications reaching each pipeline stage, conversion and time between stages.

    Parameters
    ----------
    applications : pl.DataFrame
        *Wide* format, one row per application: for each stage, a column (named as the stage)
        with the date or datetime the application entered it, null if it never did; plus any
        ``by`` columns (manager, product, channel...).
    stages : sequence of str
        The stage columns in pipeline order (e.g. submitted, due_diligence, approved,
        disbursed).
    by : str or sequence of str, optional
        Columns to break the funnel down by.

    Returns
    -------
    pl.DataFrame
        One row per group and stage, sorted by the groups then pipeline order: the ``by``
        columns, ``stage``, ``step`` (1 = first stage), ``reached``, ``conversion_from_previous``
        (``reached`` over the previous stage's; null for the first stage),
        ``conversion_from_first``, ``median_days_from_previous`` and
        ``mean_days_from_previous`` (from entering the previous stage to entering this one).

    Notes
    -----
    An application has *reached* a stage when it has a timestamp for that stage or any later
    one: data often skips stages (a fast-tracked renewal has no due-diligence date), and a
    funnel must never widen. Durations use only applications with both timestamps; pairs
    where the later stage is dated before the earlier one (a reopened application, a data
    error) are left out of them.
    """
    stages = list(stages)
    if not stages:
        raise ValueError(TOO_FEW_STAGES)
    if len(set(stages)) != len(stages):
        raise ValueError(DUPLICATE_STAGES.format(stages=stages))
    keys = _by(by)
    _require(applications, "applications", [*keys, *stages])

    aggregations = _funnel_aggregations(stages)
    if keys:
        wide = applications.group_by(keys).agg(aggregations).sort(keys, nulls_last=True)
    else:
        wide = applications.select(aggregations)
    parts = [_funnel_stage(wide, keys, i, stage) for i, stage in enumerate(stages)]
    return pl.concat(parts).sort("_group", "step").drop("_group")


def _funnel_aggregations(stages: list[str]) -> list[pl.Expr]:
    """Per stage ``i``: ``_reached_i`` (reached it or a later one) and, from the second
    stage, ``_median_i`` and ``_mean_i`` (days from the previous stage, negative ones left
    out)."""
    aggregations: list[pl.Expr] = []
    for i, stage in enumerate(stages):
        reached = pl.any_horizontal([pl.col(s).is_not_null() for s in stages[i:]])
        aggregations.append(reached.sum().cast(pl.Int64).alias(f"_reached_{i}"))
        if i:
            days = _days(stages[i - 1], stage)
            days = days.filter(days >= 0)
            aggregations += [
                days.median().alias(f"_median_{i}"),
                days.mean().alias(f"_mean_{i}"),
            ]
    return aggregations


def _funnel_stage(wide: pl.DataFrame, keys: list[str], i: int, stage: str) -> pl.DataFrame:
    """The funnel rows of stage ``i`` (one per group of ``wide``, numbered ``_group``)."""
    reached = pl.col(f"_reached_{i}")
    first = pl.col("_reached_0")
    previous = pl.col(f"_reached_{i - 1}") if i else None
    return wide.with_row_index("_group").select(
        "_group",
        *keys,
        stage=pl.lit(stage),
        step=pl.lit(i + 1, dtype=pl.Int64),
        reached=reached,
        conversion_from_previous=(
            _ratio(reached, previous) if previous is not None else pl.lit(None)
        ).cast(pl.Float64),
        conversion_from_first=_ratio(reached, first).cast(pl.Float64),
        median_days_from_previous=(pl.col(f"_median_{i}") if i else pl.lit(None)).cast(pl.Float64),
        mean_days_from_previous=(pl.col(f"_mean_{i}") if i else pl.lit(None)).cast(pl.Float64),
    )


def funnel_parts(
    applications: pl.DataFrame, stages: Sequence[str], *, by: str | Sequence[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The additive pieces of :func:`funnel`, to pre-aggregate and sum later.

    ``applications`` as for :func:`funnel` with **Date** stage columns (durations are whole
    days). Returns ``counts`` (the ``by`` columns, ``stage``, ``reached``) and ``durations``
    (the ``by`` columns, ``stage``, ``days``, ``n``: how many applications took ``days``
    from the previous stage); :func:`funnel_from_parts` on their sums gives exactly what
    :func:`funnel` gives on the concatenated rows.
    """
    stages = list(stages)
    keys = _by(by)
    _require(applications, "applications", [*keys, *stages])
    counts, durations = [], []
    for i, stage in enumerate(stages):
        reached = pl.any_horizontal([pl.col(s).is_not_null() for s in stages[i:]])
        counts.append(
            applications.group_by(keys or pl.lit(0).alias("_all"))
            .agg(reached=reached.sum().cast(pl.Int64))
            .select(*keys, stage=pl.lit(stage), reached="reached")
        )
        if i:
            days = (pl.col(stage) - pl.col(stages[i - 1])).dt.total_days()
            durations.append(
                applications.select(*keys, days=days)
                .filter(pl.col("days") >= 0)
                .group_by(*keys, "days")
                .agg(n=pl.len().cast(pl.Int64))
                .select(*keys, stage=pl.lit(stage), days="days", n="n")
            )
    empty = pl.DataFrame(schema={**{k: applications.schema[k] for k in keys},
                                 "stage": pl.String, "days": pl.Int64, "n": pl.Int64})  # fmt: skip
    return pl.concat(counts), pl.concat(durations) if durations else empty


def _histogram_median(days: list[int], n: list[int]) -> float | None:
    """The median of ``days`` repeated ``n`` times (the mean of the two middle values for an
    even count, as polars computes it), without expanding them."""
    total = sum(n)
    if total == 0:
        return None
    order = sorted(zip(days, n, strict=True))
    wanted = {(total - 1) // 2, total // 2}
    found, seen = [], 0
    for value, count in order:
        while wanted and min(wanted) < seen + count:
            found.append(value)
            wanted.remove(min(wanted))
        seen += count
    return sum(found) / len(found)


def funnel_from_parts(
    counts: pl.DataFrame, durations: pl.DataFrame, stages: Sequence[str]
) -> pl.DataFrame:
    """:func:`funnel` (no ``by``) from summed :func:`funnel_parts` pieces: ``counts``
    (``stage``, ``reached``) and ``durations`` (``stage``, ``days``, ``n``), any number of
    rows per stage (they are added up)."""
    stages = list(stages)
    reached = dict(counts.group_by("stage").agg(pl.col("reached").sum()).iter_rows())
    histogram = durations.group_by("stage", "days").agg(pl.col("n").sum())
    rows = []
    first = reached.get(stages[0], 0) if stages else 0
    for i, stage in enumerate(stages):
        here = int(reached.get(stage, 0))
        previous = int(reached.get(stages[i - 1], 0)) if i else None
        median = mean = None
        if i:
            part = histogram.filter(pl.col("stage") == stage)
            days, n = part["days"].to_list(), part["n"].to_list()
            median = _histogram_median(days, n)
            total = sum(n)
            mean = sum(d * c for d, c in zip(days, n, strict=True)) / total if total else None
        rows.append(
            {
                "stage": stage, "step": i + 1, "reached": here,
                "conversion_from_previous": here / previous if previous else None,
                "conversion_from_first": here / first if first else None,
                "median_days_from_previous": median, "mean_days_from_previous": mean,
            }
        )  # fmt: skip
    schema = {"stage": pl.String, "step": pl.Int64, "reached": pl.Int64,
              "conversion_from_previous": pl.Float64, "conversion_from_first": pl.Float64,
              "median_days_from_previous": pl.Float64,
              "mean_days_from_previous": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


# --------------------------------------------------------------------------------------------
# renewals
# --------------------------------------------------------------------------------------------

FACILITY_COLUMNS = ("facility_id", "customer_id", "start_date", "maturity_date")
RENEWAL_STATUSES: tuple[str, ...] = ("renewed", "not_renewed", "pending")


def renewal_status(
    facilities: pl.DataFrame,
    *,
    as_of: date,
    window_days: int = 90,
    period_days: int = 365,
) -> pl.DataFrame:
    """Each facility that matured in the period, renewed or not.

    Parameters
    ----------
    facilities : pl.DataFrame
        One row per facility: ``facility_id``, ``customer_id``, ``start_date``,
        ``maturity_date`` (dates), plus anything else (kept).
    as_of : date
        End of the period (included).
    window_days : int, default 90
        A facility is *renewed* when another facility of the same client, started after it,
        starts no more than ``window_days`` before or after its maturity (renewals are often
        booked ahead) and no later than ``as_of``.
    period_days : int, default 365
        Facilities maturing in ``(as_of − period_days, as_of]`` are counted.

    Returns
    -------
    pl.DataFrame
        The matured facilities with ``status`` — ``renewed``, ``pending`` (not renewed yet but
        the window is still open at ``as_of``), ``not_renewed`` — and ``renewed_by`` (the
        earliest-starting follow-up facility), sorted by maturity then facility.
    """
    for name, value in (("window_days", window_days), ("period_days", period_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(BAD_PARAM.format(name=name, rule="an integer ≥ 0", value=value))
    _require(facilities, "facilities", FACILITY_COLUMNS)
    if duplicates := facilities.height - facilities["facility_id"].n_unique():
        raise ValueError(
            DUPLICATE_KEYS.format(frame="facilities", count=duplicates, key="facility_id")
        )
    start = as_of - timedelta(days=period_days)
    matured = facilities.filter(
        (pl.col("maturity_date") > start) & (pl.col("maturity_date") <= as_of)
    )
    window = pl.duration(days=window_days)
    follow_ups = (
        matured.select("facility_id", "customer_id", "start_date", "maturity_date")
        .join(
            facilities.select(
                "customer_id",
                pl.col("facility_id").alias("renewed_by"),
                pl.col("start_date").alias("_next_start"),
            ),
            on="customer_id",
        )
        .filter(
            (pl.col("renewed_by") != pl.col("facility_id"))
            & (pl.col("_next_start") > pl.col("start_date"))
            & (pl.col("_next_start") >= pl.col("maturity_date") - window)
            & (pl.col("_next_start") <= pl.col("maturity_date") + window)
            & (pl.col("_next_start") <= as_of)
        )
        .sort("_next_start", "renewed_by")
        .group_by("facility_id", maintain_order=True)
        .agg(pl.col("renewed_by").first())
    )
    return (
        matured.join(follow_ups, on="facility_id", how="left")
        .with_columns(
            status=pl.when(pl.col("renewed_by").is_not_null())
            .then(pl.lit("renewed"))
            .when(pl.col("maturity_date") + window > pl.lit(as_of))
            .then(pl.lit("pending"))
            .otherwise(pl.lit("not_renewed"))
        )
        .sort("maturity_date", "facility_id")
    )


def renewal_rate(
    facilities: pl.DataFrame,
    *,
    as_of: date,
    window_days: int = 90,
    period_days: int = 365,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Share of the facilities maturing in the period that were renewed.

    Parameters
    ----------
    facilities : pl.DataFrame
        As for :func:`renewal_status`, plus the ``by`` columns.
    as_of, window_days, period_days
        As for :func:`renewal_status`.
    by : str or sequence of str, optional
        Columns to break the rate down by (manager, product...): the maturing facility's.

    Returns
    -------
    pl.DataFrame
        The ``by`` columns, ``matured``, ``renewed``, ``not_renewed``, ``pending`` and
        ``renewal_rate`` = renewed / (renewed + not_renewed): facilities whose window is still
        open are left out of the rate until they are decided (null when none is decided).
    """
    keys = _by(by)
    _require(facilities, "facilities", keys)
    status = renewal_status(
        facilities, as_of=as_of, window_days=window_days, period_days=period_days
    )
    counts = [(pl.col("status") == s).sum().cast(pl.Int64).alias(s) for s in RENEWAL_STATUSES]
    matured = pl.len().cast(pl.Int64).alias("matured")
    if keys:
        out = status.group_by(keys).agg(matured, *counts).sort(keys, nulls_last=True)
    else:
        out = status.select(matured, *counts)
    decided = pl.col("renewed") + pl.col("not_renewed")
    return out.select(
        *keys,
        "matured",
        "renewed",
        "not_renewed",
        "pending",
        renewal_rate=_ratio(pl.col("renewed"), decided).cast(pl.Float64),
    )


# --------------------------------------------------------------------------------------------
# growth
# --------------------------------------------------------------------------------------------


def growth(
    series: pl.DataFrame,
    *,
    period_col: str = "period",
    value_col: str = "value",
    by: str | Sequence[str] | None = None,
    freq: str = "1mo",
) -> pl.DataFrame:
    """Period-over-period and year-over-year growth of a time series.

    Parameters
    ----------
    series : pl.DataFrame
        One row per period (and group): ``period_col`` a Date, the *first day* of the period
        (2025-03-01 for March or Q1 2025...), ``value_col`` a number.
    period_col, value_col : str
    by : str or sequence of str, optional
        Series identifiers (one series per group).
    freq : str, default "1mo"
        Length of a period as a polars duration: ``"1mo"``, ``"1q"``, ``"1y"``, ``"1w"``,
        ``"1d"``.

    Returns
    -------
    pl.DataFrame
        ``series`` sorted by group and period, plus ``previous_value`` (the period one
        ``freq`` earlier; null when that period is missing — never the last one present),
        ``pop_growth``, ``year_ago_value`` and ``yoy_growth``. Growth is
        ``(value − base) / |base|``: null when the base is null or 0; with a negative base a
        rise is still a positive growth.
    """
    keys = _by(by)
    _require(series, "series", [*keys, period_col, value_col])
    dtype = series.schema[period_col]
    if dtype != pl.Date:
        raise ValueError(NOT_A_DATE.format(column=period_col, dtype=dtype))
    if any(unit in freq for unit in ("mo", "q", "y")):
        misaligned = series.filter(pl.col(period_col).dt.day() != 1)
        if misaligned.height:
            raise ValueError(
                NOT_PERIOD_START.format(
                    count=misaligned.height, column=period_col, first=misaligned[period_col][0]
                )
            )
    duplicated = series.filter(pl.struct(*keys, period_col).is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise ValueError(
            DUPLICATE_PERIODS.format(
                count=duplicated.height,
                first=", ".join(f"{k}={first[k]}" for k in [*keys, period_col]),
            )
        )

    def earlier(offset: str, name: str) -> pl.DataFrame:
        return series.select(
            *keys,
            pl.col(period_col).dt.offset_by(offset),
            pl.col(value_col).cast(pl.Float64).alias(name),
        )

    def change(base: str) -> pl.Expr:
        return _ratio(pl.col(value_col) - pl.col(base), pl.col(base).abs())

    joined = (
        series.join(earlier(freq, "previous_value"), on=[*keys, period_col], how="left")
        .join(earlier("1y", "year_ago_value"), on=[*keys, period_col], how="left")
        .with_columns(pop_growth=change("previous_value"), yoy_growth=change("year_ago_value"))
    )
    ordered = [*series.columns, "previous_value", "pop_growth", "year_ago_value", "yoy_growth"]
    return joined.select(ordered).sort([*keys, period_col], nulls_last=True)


# --------------------------------------------------------------------------------------------
# migration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """Movement of clients between ordered categories (tiers, grades) from one date to another.

    Attributes
    ----------
    counts : pl.DataFrame
        ``from`` (category before; the last row, null, holds clients new in ``after``), one
        column per category after, in order, and ``exited`` (in ``before`` only).
    shares : pl.DataFrame
        ``counts`` divided by each row's total (exits included): where each group went.
    upgrades, downgrades, unchanged : int
        Clients in both frames that moved to a better, worse or the same category.
    new, exited : int
        Clients in ``after`` only, in ``before`` only.
    """

    counts: pl.DataFrame
    shares: pl.DataFrame
    upgrades: int
    downgrades: int
    unchanged: int
    new: int
    exited: int


def migration_matrix(
    before: pl.DataFrame,
    after: pl.DataFrame,
    *,
    key: str = "customer_id",
    col: str = "tier",
    order: Sequence[str] = TIERS,
) -> Migration:
    """Counts and shares of clients moving between categories, with up/downgrade totals.

    Parameters
    ----------
    before, after : pl.DataFrame
        One row per client with ``key`` and ``col``.
    key : str, default "customer_id"
    col : str, default "tier"
    order : sequence of str
        The categories, *best first* (tiers core → low, grades AAA → C): moving to an earlier
        one is an upgrade.

    Returns
    -------
    Migration

    Raises
    ------
    ValueError
        Duplicate keys, or a category (null included) outside ``order``.
    """
    order = list(order)
    rank = {c: i for i, c in enumerate(order)}
    for name, frame in (("before", before), ("after", after)):
        _check_categories(frame, name, key=key, col=col, order=order)
    joined = before.select(key, pl.col(col).cast(pl.String).alias("from")).join(
        after.select(key, pl.col(col).cast(pl.String).alias("to")),
        on=key,
        how="full",
        coalesce=True,
    )
    counts = _migration_counts(joined, order)
    columns = [*order, "exited"]
    total = pl.sum_horizontal(columns)
    shares = counts.select(
        "from", *[_ratio(pl.col(c), total).cast(pl.Float64).alias(c) for c in columns]
    )
    moved = joined.drop_nulls(["from", "to"]).select(
        delta=pl.col("to").replace_strict(rank, return_dtype=pl.Int64)
        - pl.col("from").replace_strict(rank, return_dtype=pl.Int64)
    )["delta"]
    return Migration(
        counts=counts,
        shares=shares,
        upgrades=int((moved < 0).sum()),
        downgrades=int((moved > 0).sum()),
        unchanged=int((moved == 0).sum()),
        new=int(joined["from"].is_null().sum()),
        exited=int(joined["to"].is_null().sum()),
    )


def _check_categories(
    frame: pl.DataFrame, name: str, *, key: str, col: str, order: list[str]
) -> None:
    """Raise unless ``frame`` has ``key`` and ``col``, unique keys and categories in ``order``."""
    _require(frame, name, [key, col])
    if duplicates := frame.height - frame[key].n_unique():
        raise ValueError(DUPLICATE_KEYS.format(frame=name, count=duplicates, key=key))
    values = frame[col].unique().to_list()
    unknown = [v for v in values if v not in order]
    if unknown:
        unknown = sorted(unknown, key=lambda v: (v is None, str(v)))
        raise ValueError(
            UNKNOWN_CATEGORY.format(frame=name, column=col, values=unknown, order=order)
        )


def _migration_counts(joined: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """The ``counts`` matrix of :class:`Migration` from the joined ``from``/``to`` pairs."""
    pairs = {
        (source, target): n for source, target, n in joined.group_by("from", "to").len().iter_rows()
    }
    sources: list[str | None] = [*order, None]
    targets: list[str | None] = [*order, None]
    rows = [
        {
            "from": source,
            **{
                str(t) if t is not None else "exited": int(pairs.get((source, t), 0))
                for t in targets
            },
        }
        for source in sources
    ]
    schema = {"from": pl.String, **dict.fromkeys(order, pl.Int64), "exited": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------------------------
# staff
# --------------------------------------------------------------------------------------------


def staff_kpis(
    contacts: pl.DataFrame,
    tasks: pl.DataFrame,
    conversions: pl.DataFrame,
    portfolio: pl.DataFrame,
    *,
    as_of: date,
    good_classes: Sequence[str] = ("normal",),
) -> pl.DataFrame:
    """Per relationship manager: contacts, punctuality, conversions and portfolio quality.

    Each frame is already restricted by the caller to the period and people to report on;
    rows without a ``manager_id`` are ignored.

    Parameters
    ----------
    contacts : pl.DataFrame
        One row per contact made: ``manager_id``.
    tasks : pl.DataFrame
        One row per task: ``manager_id``, ``due_on`` (date), ``completed_on`` (date, null if
        open).
    conversions : pl.DataFrame
        One row per conversion (a lead or application that became a facility): ``manager_id``.
    portfolio : pl.DataFrame
        One row per facility the manager looks after: ``manager_id``, ``balance`` (CNY),
        ``loan_class`` (five-tier class, :data:`~.delinquency.LOAN_CLASSES`).
    as_of : date
        Tasks due after it are not judged yet (even if already done) and are left out.
    good_classes : sequence of str, default ("normal",)
        Loan classes counted as good.

    ``contacts``, ``tasks`` and ``conversions`` may carry an ``n`` column (pre-aggregated
    counts, e.g. per month): each row then counts ``n`` contacts, tasks or conversions.

    Returns
    -------
    pl.DataFrame
        One row per manager appearing in any input, sorted: ``manager_id``, ``contacts``,
        ``tasks_due`` (due on or before ``as_of``), ``tasks_on_time`` (of those, completed on
        or before the due date), ``on_time_share``, ``conversions``, ``balance``,
        ``good_balance``, ``good_balance_share`` (null when there is no balance).
    """
    _check_staff_frames(contacts, tasks, conversions, portfolio, good_classes)
    frames = (contacts, tasks, conversions, portfolio)
    managers = (
        pl.concat([f.select("manager_id") for f in frames], how="vertical_relaxed")
        .drop_nulls()
        .unique()
        .sort("manager_id")
    )
    id_type = managers.schema["manager_id"]

    def per_manager(frame: pl.DataFrame, **aggs: pl.Expr) -> pl.DataFrame:
        return (
            frame.drop_nulls("manager_id")
            .with_columns(pl.col("manager_id").cast(id_type))
            .group_by("manager_id")
            .agg(**aggs)
        )

    due = tasks.filter(pl.col("due_on") <= as_of)
    on_time = (pl.col("completed_on") <= pl.col("due_on")).fill_null(False)
    balance = pl.col("balance").cast(pl.Float64).fill_null(0.0)
    good = pl.col("loan_class").is_in(list(good_classes)).fill_null(False)

    def count(frame: pl.DataFrame, where: pl.Expr | None = None) -> pl.Expr:
        if "n" not in frame.columns:
            return pl.len() if where is None else where.sum()
        return pl.col("n").sum() if where is None else pl.col("n").filter(where).sum()

    parts = [
        per_manager(contacts, contacts=count(contacts)),
        per_manager(due, tasks_due=count(due), tasks_on_time=count(due, on_time)),
        per_manager(conversions, conversions=count(conversions)),
        per_manager(portfolio, balance=balance.sum(), good_balance=balance.filter(good).sum()),
    ]
    out = managers
    for part in parts:
        out = out.join(part, on="manager_id", how="left")
    return _staff_columns(out)


def _check_staff_frames(
    contacts: pl.DataFrame,
    tasks: pl.DataFrame,
    conversions: pl.DataFrame,
    portfolio: pl.DataFrame,
    good_classes: Sequence[str],
) -> None:
    """Raise on a missing column or a loan class outside :data:`~.delinquency.LOAN_CLASSES`."""
    _require(contacts, "contacts", ["manager_id"])
    _require(tasks, "tasks", ["manager_id", "due_on", "completed_on"])
    _require(conversions, "conversions", ["manager_id"])
    _require(portfolio, "portfolio", ["manager_id", "balance", "loan_class"])
    classes = set(portfolio["loan_class"].drop_nulls()) | set(good_classes)
    if unknown := sorted(classes - set(LOAN_CLASSES)):
        raise ValueError(UNKNOWN_LOAN_CLASS.format(values=unknown, order=list(LOAN_CLASSES)))


def _staff_columns(out: pl.DataFrame) -> pl.DataFrame:
    """The joined per-manager figures, missing ones zero, in the columns of :func:`staff_kpis`,
    with the two shares."""
    counts = ["contacts", "tasks_due", "tasks_on_time", "conversions"]
    return out.with_columns(
        *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
        *[pl.col(c).fill_null(0.0).cast(pl.Float64) for c in ("balance", "good_balance")],
    ).select(
        "manager_id",
        "contacts",
        "tasks_due",
        "tasks_on_time",
        on_time_share=_ratio(pl.col("tasks_on_time"), pl.col("tasks_due")).cast(pl.Float64),
        conversions="conversions",
        balance="balance",
        good_balance="good_balance",
        good_balance_share=_ratio(pl.col("good_balance"), pl.col("balance")).cast(pl.Float64),
    )


def decision_speed(decisions: pl.DataFrame) -> pl.DataFrame:
    """Credit decisions by month: how many, how many the automatic-decision rule took, its
    share (%), and the median hours from submission to the decision, by the rule and by
    people.

    ``decisions``: one row per decided application — ``month`` (a label such as "2026-06"),
    ``automatic`` (bool) and ``hours`` (submission to decision; null when not submitted)."""
    _require(decisions, "decisions", ["month", "automatic", "hours"])
    return (
        decisions.group_by("month")
        .agg(
            decided=pl.len(),
            automatic=pl.col("automatic").sum(),
            hours_automatic=pl.col("hours").filter(pl.col("automatic")).median(),
            hours_people=pl.col("hours").filter(~pl.col("automatic")).median(),
        )
        .with_columns(automatic_share=_ratio(pl.col("automatic"), pl.col("decided")) * 100)
        .sort("month")
        .select(
            "month", "decided", "automatic", "automatic_share", "hours_automatic", "hours_people"
        )
    )
