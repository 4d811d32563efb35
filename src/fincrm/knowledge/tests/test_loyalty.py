"""Knowledge reads in the value tiering's loyalty score: distinct articles a client with a
portal login read in the last 12 months, a small weight; a client without a login (or a
book with nothing published) keeps its score."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from fincrm.analytics.policy import default_policy
from fincrm.analytics.tiering import score_customers
from fincrm.evaluation.features import load_features
from fincrm.evaluation.knowledge_reads import read_knowledge_reads
from fincrm.portal.models import PortalAccount
from fincrm.testing.factories import (
    ArticleFactory,
    ArticleReadFactory,
    CustomerFactory,
    PortalAccountFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _read(article, customer, day: date) -> None:
    ArticleReadFactory(
        article=article, customer=customer, day=day,
        read_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
    )  # fmt: skip


def test_the_feature_counts_distinct_articles_read_in_the_365_days_up_to_the_run(users):
    keen, idle, no_login = (CustomerFactory(owner=users["manager_a"]) for _ in range(3))
    for customer in (keen, idle):
        PortalAccountFactory(customer=customer, created_at=datetime(2026, 1, 5, tzinfo=UTC))
    first, second, third = (ArticleFactory() for _ in range(3))
    _read(first, keen, date(2026, 6, 1))
    _read(first, keen, date(2026, 6, 2))  # the same article again: one
    _read(second, keen, date(2025, 7, 1))  # the window's first day (365 days up to 30 June)
    _read(third, keen, date(2025, 6, 30))  # a day too old
    _read(third, keen, date(2026, 7, 1))  # after the run's day
    _read(third, no_login, date(2026, 6, 1))  # no portal login (any more): unknown
    frame = load_features(as_of=AS_OF).filter(
        pl.col("customer_id").is_in([keen.pk, idle.pk, no_login.pk])
    )
    values = dict(zip(frame["customer_id"], frame["knowledge_reads_12m"], strict=True))
    assert values == {keen.pk: 2.0, idle.pk: 0.0, no_login.pk: None}


def test_a_login_opened_after_the_run_and_a_book_without_articles_are_unknown(users):
    customer = CustomerFactory(owner=users["manager_a"])
    account = PortalAccountFactory(customer=customer, created_at=datetime(2026, 1, 5, tzinfo=UTC))
    assert read_knowledge_reads(AS_OF, [customer.pk]).is_empty()  # nothing published
    ArticleFactory()
    assert read_knowledge_reads(AS_OF, [customer.pk]).to_dicts() == [
        {"customer_id": customer.pk, "knowledge_reads_12m": 0.0}
    ]
    PortalAccount.objects.filter(pk=account.pk).update(created_at=datetime(2026, 7, 2, tzinfo=UTC))
    assert read_knowledge_reads(AS_OF, [customer.pk]).is_empty()


def _row(**kw) -> dict:
    base = {
        "customer_id": 1, "tenure_days": 900, "interest_income_12m": 50_000.0,
        "fee_income_12m": 2_000.0, "balance": 1_000_000.0, "approved_limit": 2_000_000.0,
        "revenue": 10_000_000.0, "revenue_growth": 0.1, "debt_to_asset": 0.5,
        "current_ratio": 1.5, "industry": "C", "renewals": 1, "product_count": 1,
        "share_of_wallet": 0.3, "interactions_12m": 4, "successful_interactions_12m": 3,
        "max_dpd_12m": 0, "current_dpd": 0, "open_warnings": 0, "credit_grade": None,
        "days_since_last_application": 100, "days_since_last_transaction": 20,
        "has_facility": True, "company_age_years": 8.0, "age_years": None,
        "predicted_demand": None, "last_nps": 8.0,
    }  # fmt: skip
    return {**base, **kw}


def test_reads_move_the_loyalty_score_by_their_weight_and_unknown_changes_nothing():
    policy = default_policy()
    before = score_customers(pl.DataFrame([_row()]), policy)["loyalty"][0]
    rows = [_row(customer_id=1, knowledge_reads_12m=None),
            _row(customer_id=2, knowledge_reads_12m=0.0),
            _row(customer_id=3, knowledge_reads_12m=3.0),
            _row(customer_id=4, knowledge_reads_12m=12.0)]  # fmt: skip
    scored = score_customers(pl.DataFrame(rows), policy).sort("customer_id")
    loyalty = scored["loyalty"].to_list()
    assert loyalty[0] == pytest.approx(before)
    # Loyalty is the weighted mean of its known inputs: with the reads known, a client at the
    # reference (6 articles) or beyond gains exactly weight / (known weights + weight) of 100
    # over one that read none, and half of it at 3 articles.
    lo = policy.loyalty
    known = (lo.tenure_weight + lo.renewals_weight + lo.products_weight + lo.wallet_weight
             + lo.responsiveness_weight + lo.satisfaction_weight + lo.knowledge_weight)  # fmt: skip
    full = 100 * lo.knowledge_weight / known
    assert loyalty[3] - loyalty[1] == pytest.approx(full)
    assert loyalty[2] - loyalty[1] == pytest.approx(full / 2)
    reasons = {r["code"] for r in scored["reasons"][3]} | {r["code"] for r in scored["reasons"][0]}
    assert not any(code.startswith("missing_knowledge") for code in reasons)
