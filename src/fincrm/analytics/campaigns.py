"""A campaign's results per group (variant A, variant B, the held-out control group) and the
uplift of each variant against the control group.

Pure functions over polars frames; nothing here imports Django.

Input: one row per recipient (:data:`RECIPIENT_COLUMNS`)
--------------------------------------------------------
``group``
    ``"a"``, ``"b"`` or ``"control"``.
``status``
    What became of the recipient's message: ``"queued"``, ``"sent"``, ``"delivered"``,
    ``"failed"``, ``"blocked"`` (the rules kept it back), null for the control group (no
    message).
``clicked``
    The recipient opened its tracked link at least once (bool).
``replied``
    The recipient wrote back on the campaign's channel within the window (bool).
``applied``
    The recipient started an application within the window (bool).
``channel`` (for :func:`channel_results` only)
    The one channel the recipient was reached on, would have been (control group) or was
    refused on (``"sms"``, ``"wechat"``, ``"email"``).

Rates
-----
The reply and application rates are over every client of the group, skipped ones included
(intention to treat): the control group also holds clients the rules would have skipped, so
only the whole groups compare. The click rate is over the messages that went (sent or
delivered). The uplift is a variant's rate less the control group's, in points of share
(0.02 = two percentage points), with the two-sided p-value of a two-proportion z-test.
"""

from __future__ import annotations

import math

import polars as pl

RECIPIENT_COLUMNS = ("group", "status", "clicked", "replied", "applied")
GROUPS = ("a", "b", "control")
CONTROL = "control"
#: :func:`channel_results`' group of the variants together (the messages the campaign sent).
ALL = "all"
#: Statuses of a message that left (the gateway took it).
WENT = ("sent", "delivered")
COUNTS = ("clients", "sent", "delivered", "failed", "skipped", "clicked", "replied",
          "applications")  # fmt: skip
RATES = ("click_rate", "reply_rate", "application_rate", "reply_uplift", "application_uplift",
         "application_p_value")  # fmt: skip


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value that ``x1/n1`` and ``x2/n2`` share one rate (pooled z-test); None
    when a group is empty or neither has a single success or failure (no spread to test)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _ratio(x: int, n: int) -> float | None:
    return x / n if n else None


def campaign_results(recipients: pl.DataFrame) -> pl.DataFrame:
    """Per group present (in the order A, B, control): ``clients``, ``sent`` (the gateway took
    it, delivered included), ``delivered``, ``failed``, ``skipped`` (the rules kept it back),
    ``clicked``, ``replied``, ``applications``; ``click_rate`` (of sent), ``reply_rate`` and
    ``application_rate`` (of clients); for a variant when there is a control group,
    ``reply_uplift`` and ``application_uplift`` (points of share) and ``application_p_value``.

    Raises ``ValueError`` when a column is missing or a group is unknown."""
    missing = [c for c in RECIPIENT_COLUMNS if c not in recipients.columns]
    if missing:
        raise ValueError(f"recipients frame lacks columns: {', '.join(missing)}")
    unknown = set(recipients["group"].unique().to_list()) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown groups: {', '.join(sorted(map(str, unknown)))}")
    status = pl.col("status").fill_null("")
    counts = recipients.group_by("group").agg(
        pl.len().alias("clients"),
        status.is_in(WENT).sum().alias("sent"),
        (status == "delivered").sum().alias("delivered"),
        (status == "failed").sum().alias("failed"),
        (status == "blocked").sum().alias("skipped"),
        pl.col("clicked").fill_null(False).sum().alias("clicked"),
        pl.col("replied").fill_null(False).sum().alias("replied"),
        pl.col("applied").fill_null(False).sum().alias("applications"),
    )
    by_group = {row["group"]: row for row in counts.iter_rows(named=True)}
    control = by_group.get(CONTROL)
    rows = []
    for group in GROUPS:
        row = by_group.get(group)
        if row is None:
            continue
        n = row["clients"]
        out = {**row}
        out["click_rate"] = _ratio(row["clicked"], row["sent"])
        out["reply_rate"] = _ratio(row["replied"], n)
        out["application_rate"] = _ratio(row["applications"], n)
        out["reply_uplift"] = out["application_uplift"] = out["application_p_value"] = None
        if control is not None and group != CONTROL:
            m = control["clients"]
            out["reply_uplift"] = out["reply_rate"] - control["replied"] / m
            out["application_uplift"] = out["application_rate"] - control["applications"] / m
            out["application_p_value"] = two_proportion_p_value(
                row["applications"], n, control["applications"], m
            )
        rows.append(out)
    schema = {
        "group": pl.String,
        **dict.fromkeys(COUNTS, pl.Int64),
        **dict.fromkeys(RATES, pl.Float64),
    }
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


CHANNEL_COUNTS = ("clients", "sent", "delivered", "failed", "skipped", "clicked", "replied",
                  "applications")  # fmt: skip


def channel_results(recipients: pl.DataFrame, channels: list[str] | None = None) -> pl.DataFrame:
    """Per channel: for the variants together (group ``"all"``: the campaign's messages) and
    for each group present (A, B, control), ``clients``, ``sent`` (delivered included),
    ``delivered``, ``failed``, ``skipped``, ``clicked``, ``replied``, ``applications``, with
    ``click_rate`` (of sent) and ``reply_rate`` (of clients). Rows in the order all, A, B,
    control, and within a group in the order of ``channels`` (else alphabetical); a channel
    no recipient has is left out.

    Raises ``ValueError`` when a column is missing."""
    missing = [c for c in (*RECIPIENT_COLUMNS, "channel") if c not in recipients.columns]
    if missing:
        raise ValueError(f"recipients frame lacks columns: {', '.join(missing)}")
    status = pl.col("status").fill_null("")
    aggregates = (
        pl.len().alias("clients"),
        status.is_in(WENT).sum().alias("sent"),
        (status == "delivered").sum().alias("delivered"),
        (status == "failed").sum().alias("failed"),
        (status == "blocked").sum().alias("skipped"),
        pl.col("clicked").fill_null(False).sum().alias("clicked"),
        pl.col("replied").fill_null(False).sum().alias("replied"),
        pl.col("applied").fill_null(False).sum().alias("applications"),
    )
    frame = recipients.with_columns(pl.col("channel").fill_null(""))
    variants = frame.filter(pl.col("group") != CONTROL).with_columns(group=pl.lit(ALL))
    counts = pl.concat([variants, frame]).group_by("group", "channel").agg(*aggregates)
    present = sorted(set(counts["channel"].to_list()))
    order = [c for c in (channels or []) if c in present]
    order += [c for c in present if c not in order]
    rank = {(g, c): (i, j) for i, g in enumerate((ALL, *GROUPS)) for j, c in enumerate(order)}
    rows = sorted(counts.iter_rows(named=True), key=lambda r: rank[(r["group"], r["channel"])])
    for row in rows:
        row["click_rate"] = _ratio(row["clicked"], row["sent"])
        row["reply_rate"] = _ratio(row["replied"], row["clients"])
    schema = {"group": pl.String, "channel": pl.String,
              **dict.fromkeys(CHANNEL_COUNTS, pl.Int64),
              "click_rate": pl.Float64, "reply_rate": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
