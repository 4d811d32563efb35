import numpy as np
import polars as pl
import pytest

from fincrm.analytics.policy import Condition, SegmentRule, default_policy
from fincrm.analytics.segments import KMeansSegmenter, rule_segments


def test_rule_segments_match_any_group_of_all_conditions():
    frame = pl.DataFrame(
        {
            "kind": ["company", "company", "person", "company"],
            "client_type": ["sme", "large", "hnw", "sme"],
            "company_age_years": [1.0, 20.0, None, 12.0],
            "revenue": [1e6, 5e8, 2e6, None],
            "revenue_growth": [0.5, 0.05, None, 0.3],
            "industry": ["C", "F", "I", "C"],
            "max_dpd_12m": [0, 0, 45, 0],
            "open_warnings": [0, 3, 0, 0],
        }
    )
    segments = rule_segments(frame, default_policy().segments).to_list()
    assert segments[0] == ["startup", "growing"]
    assert segments[1] == ["mature_investor", "supply_chain_core", "watch"]
    assert segments[2] == ["mature_investor", "watch"]
    assert segments[3] == []  # growth 30 % but 12 years old: not "growing"


def test_an_unknown_field_names_the_rule():
    rule = SegmentRule(
        code="x", name_zh="x", name_en="x", any_of=[[Condition(field="nope", op=">", value=1)]]
    )
    with pytest.raises(ValueError, match="segment 'x': unknown field 'nope'"):
        rule_segments(pl.DataFrame({"a": [1]}), [rule])


def test_kmeans_recovers_three_blobs_and_describes_them():
    rng = np.random.default_rng(0)
    blobs = [(1e5, 0.0), (1e7, 0.5), (1e9, -0.3)]
    rows = []
    for size, (revenue, growth) in zip((300, 200, 100), blobs, strict=True):
        rows += [
            {
                "revenue": revenue * rng.uniform(0.8, 1.2),
                "revenue_growth": growth + rng.normal(0, 0.02),
            }
            for _ in range(size)
        ]
    frame = pl.DataFrame(rows)
    seg = KMeansSegmenter(k=3, features=["revenue", "revenue_growth"], seed=1).fit(frame)
    labels = seg.labels_
    # Largest cluster first; each blob is exactly one cluster.
    assert [int((labels == c).sum()) for c in range(3)] == [300, 200, 100]
    assert labels[:300].tolist() == [0] * 300
    big = seg.profiles_[2]
    assert big["size"] == 100
    revenue = next(d for d in big["distinguishing"] if d["feature"] == "revenue")
    assert revenue["direction"] == "higher"
    again = KMeansSegmenter.from_dict(seg.to_dict())
    assert (again.predict(frame) == labels).all()


def test_an_unfitted_segmenter_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        KMeansSegmenter(k=2, features=["a"]).predict(pl.DataFrame({"a": [1.0]}))


def _blobs(sizes, seed):
    """Clients in well-separated (revenue, growth) blobs, ``sizes`` of them each."""
    rng = np.random.default_rng(seed)
    centres = ((1e6, 0.0), (5e7, 0.4), (2e8, -0.3))
    rows = []
    for size, (revenue, growth) in zip(sizes, centres, strict=True):
        rows += [
            {
                "revenue": revenue * rng.uniform(0.9, 1.1),
                "revenue_growth": growth + rng.normal(0, 0.02),
            }
            for _ in range(size)
        ]
    return pl.DataFrame(rows)


def test_a_refit_carries_on_from_the_previous_clusters_where_a_fresh_fit_renumbers():
    features = ["revenue", "revenue_growth"]
    yesterday = KMeansSegmenter(k=3, features=features, seed=1).fit(_blobs((200, 201, 50), 3))
    # Overnight two clients move from the second blob to the first: by size, a fresh fit
    # numbers the first blob 0 now (it was 1).
    today = _blobs((202, 199, 50), 3)
    fresh = KMeansSegmenter(k=3, features=features, seed=1).fit(today)
    carried = KMeansSegmenter(k=3, features=features, seed=1).fit(today, previous=yesterday)

    assert yesterday.labels_[0] == 1 and fresh.labels_[0] == 0  # the blob renumbered
    assert carried.labels_[:202].tolist() == [1] * 202  # the first blob keeps its number
    assert carried.labels_[202:401].tolist() == [0] * 199
    assert carried.labels_[401:].tolist() == [2] * 50
    assert [p["size"] for p in carried.profiles_] == [199, 202, 50]


def test_a_previous_fit_of_other_features_or_k_is_not_carried_on():
    previous = KMeansSegmenter(k=2, features=["revenue"], seed=1).fit(_blobs((50, 60, 10), 1))
    segmenter = KMeansSegmenter(k=3, features=["revenue", "revenue_growth"], seed=1)
    assert not segmenter.continues(previous)
    assert not segmenter.continues(None)
    fitted = segmenter.fit(_blobs((50, 60, 10), 1), previous=previous)  # a fresh fit
    assert [p["size"] for p in fitted.profiles_] == [60, 50, 10]


def test_rule_segments_by_patterns_equal_the_row_by_row_lists(monkeypatch):
    """Above MAX_PATTERN_RULES rules the lists are built row by row: both ways agree."""
    import fincrm.analytics.segments as segments

    rng = np.random.default_rng(5)
    n = 2_000
    frame = pl.DataFrame(
        {
            "kind": rng.choice(["company", "person"], n),
            "client_type": rng.choice(["sme", "large", "hnw", "micro"], n),
            "company_age_years": [
                None if missing else age
                for missing, age in zip(rng.random(n) < 0.1, rng.uniform(0, 30, n), strict=True)
            ],
            "revenue": rng.lognormal(15, 2, n),
            "revenue_growth": rng.normal(0.1, 0.3, n),
            "industry": rng.choice(["C", "F", "I", "K"], n),
            "max_dpd_12m": rng.choice([0, 0, 0, 15, 45, 95], n),
            "open_warnings": rng.choice([0, 0, 1, 3], n),
        }
    )
    rules = default_policy().segments
    by_pattern = rule_segments(frame, rules).to_list()
    monkeypatch.setattr(segments, "MAX_PATTERN_RULES", 0)
    row_by_row = rule_segments(frame, rules).to_list()
    assert by_pattern == row_by_row
    assert len({tuple(s) for s in by_pattern}) > 3  # several patterns, in the rows' order


def test_segment_sizes_count_each_client_once_overall_and_once_per_segment():
    from fincrm.analytics.segments import ALL_SEGMENTS, segment_sizes

    frame = pl.DataFrame(
        {
            "owner_id": [1, 1, 1, 2, None],
            "tier": ["core", "core", "low", "core", "low"],
            "segments": [["growing", "watch"], ["growing"], [], None, ["watch"]],
        }
    )
    sizes = segment_sizes(frame, ["owner_id", "tier"])
    assert sizes.rows() == [
        (None, "low", ALL_SEGMENTS, 1),
        (None, "low", "watch", 1),
        (1, "core", ALL_SEGMENTS, 2),
        (1, "core", "growing", 2),
        (1, "core", "watch", 1),
        (1, "low", ALL_SEGMENTS, 1),
        (2, "core", ALL_SEGMENTS, 1),
    ]
    assert sizes.columns == ["owner_id", "tier", "segment", "clients"]
    # Summed over one segment or over "*", every client counts once.
    total = sizes.filter(pl.col("segment") == ALL_SEGMENTS)["clients"].sum()
    assert total == frame.height
