"""Scoring a feature frame: value scores, tiers, rule segments and k-means clusters.

No database access: an evaluation run and the policy preview both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.segments import KMeansSegmenter, rule_segments
from fincrm.analytics.tiering import assign_tiers, score_customers, tier_cutoffs

#: Below this many clients, data-driven clusters say nothing: skip k-means.
MIN_CLIENTS_FOR_CLUSTERS = 50


@dataclass(frozen=True)
class Scored:
    """The analytics output of one run, before it is written."""

    frame: pl.DataFrame  # features + sub-scores + tier + segments + cluster
    cutoffs: dict[str, float]
    clusters: dict | None


def score_frame(
    features: pl.DataFrame,
    policy: PolicyConfig,
    *,
    cutoffs: dict[str, float] | None = None,
    segmenter: KMeansSegmenter | None = None,
    fit_clusters: bool = False,
    previous_clusters: dict | None = None,
) -> Scored:
    """Score, tier and segment a feature frame (no DB access: also used by the preview).

    ``fit_clusters``: fit k-means on this frame, carrying on from ``previous_clusters`` (the
    last full run's) when they cluster the same way."""
    scores = score_customers(features, policy)
    frame = features.join(scores, on="customer_id", how="left")
    if cutoffs is None:
        cutoffs = tier_cutoffs(frame["value_score"], policy)
    frame = frame.with_columns(tier=assign_tiers(frame["value_score"], cutoffs))
    frame = frame.with_columns(segments=rule_segments(frame, policy.segments))
    clusters = None
    if fit_clusters and frame.height >= MIN_CLIENTS_FOR_CLUSTERS:
        segmenter = KMeansSegmenter(
            k=policy.clustering.k, features=policy.clustering.features, seed=policy.clustering.seed
        ).fit(
            frame,
            previous=KMeansSegmenter.from_dict(previous_clusters) if previous_clusters else None,
        )
        clusters = segmenter.to_dict()
        labels = pl.Series("cluster", segmenter.labels_, dtype=pl.Int64)
    elif segmenter is not None and frame.height:
        labels = pl.Series("cluster", segmenter.predict(frame), dtype=pl.Int64)
    else:
        labels = pl.Series("cluster", [None] * frame.height, dtype=pl.Int64)
    frame = frame.with_columns(labels)
    return Scored(frame=frame, cutoffs=cutoffs, clusters=clusters)
