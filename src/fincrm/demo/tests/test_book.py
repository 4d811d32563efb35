"""The vectorised draws: the same rows for a seed whichever process draws them, and the
shape of the book the per-client generator used to write (kinds and shares of rows)."""

from datetime import date
from io import StringIO

import numpy as np
import polars as pl
import pytest
from django.core.management import call_command
from polars.testing import assert_frame_equal
from stdnum.cn import ric, uscc

from fincrm.customers.models import Contact, Customer, FinancialStatement
from fincrm.demo import book, book_lending, generator
from fincrm.demo.plan import Plan, ProductSpec, ServicePlan
from fincrm.engagement.models import Interaction
from fincrm.financing.choices import Stage
from fincrm.financing.models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Payment,
)
from fincrm.loyalty.models import PointsEntry
from fincrm.service.models import Ticket
from fincrm.surveys.models import Answer, Invitation, Response

AS_OF = date(2026, 6, 30)


def _plan(seed: int = 7) -> Plan:
    """A plan without a database: made-up ids are enough for the draws."""
    products = tuple(
        ProductSpec(
            id=i + 1, min_rate=rates[0], max_rate=rates[1], min_tenor=tenors[0],
            max_tenor=tenors[1], min_amount=amounts[0], max_amount=amounts[1],
            documents=tuple(docs),
        )
        for i, (_code, _name, _kind, rates, tenors, amounts, docs) in enumerate(
            generator.PRODUCTS
        )
    )  # fmt: skip
    service = ServicePlan(
        annual_survey=1,
        questions={code: i for i, code in enumerate(("nps", "overall", "speed", "attitude",
                                                      "fees", "text"), start=1)},
        sla={"low": (16, 72, True), "medium": (8, 40, True), "high": (4, 16, True),
             "critical": (2, 24, False)},
        suggestions={t[0]: (t[2], "rules", ()) for t in generator_tickets()},
        tones={t: ("positive", ("词",)) for t in generator_texts()},
    )  # fmt: skip
    return Plan(
        seed=seed, as_of=AS_OF, managers=(11, 12, 13), manager_teams=(5, 6, 7),
        manager_regions=("华东区", "华南区", "华北区"), products=products, tags=(1, 2, 3),
        risk=3, service=service,
    )  # fmt: skip


def generator_tickets():
    from fincrm.demo.service import TICKETS

    return TICKETS


def generator_texts():
    from fincrm.demo.service import NEGATIVE_TEXTS, NEUTRAL_TEXTS, POSITIVE_TEXTS

    return (*POSITIVE_TEXTS, *NEGATIVE_TEXTS, *NEUTRAL_TEXTS)


def _assert_same(first: dict[str, pl.DataFrame], second: dict[str, pl.DataFrame]) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert_frame_equal(first[name], second[name])


def test_a_chunk_is_the_same_for_the_same_seed_and_another_for_another():
    first = book.draw_chunk(_plan(), 3, 30_000, 400)
    _assert_same(first, book.draw_chunk(_plan(), 3, 30_000, 400))
    other = book.draw_chunk(_plan(seed=8), 3, 30_000, 400)
    assert not first["customers"].equals(other["customers"])
    assert not first["installments"].equals(other["installments"])


def test_chunks_drawn_in_helper_processes_equal_chunks_drawn_here(monkeypatch):
    monkeypatch.setattr(book, "CHUNK", 300)
    here = list(generator._drawn(_plan(), 1_000, workers=0))
    helped = list(generator._drawn(_plan(), 1_000, workers=2))
    assert [c["customers"].height for c in here] == [300, 300, 300, 100]
    for mine, theirs in zip(here, helped, strict=True):
        _assert_same(mine, theirs)


def test_the_draws_keep_the_shares_of_the_detailed_generator():
    frames = book.draw_chunk(_plan(), 0, 0, 6_000)
    customers = frames["customers"]
    n = customers.height
    companies = customers.filter(pl.col("kind") == "company")
    assert 0.66 < companies.height / n < 0.74
    assert companies["credit_code"].map_elements(uscc.is_valid, return_dtype=bool).all()
    assert customers.filter(pl.col("kind") == "person")["credit_code"].null_count() == (
        n - companies.height
    )
    # Applications: 1.31 a client; every stage, disbursed ones the majority.
    applications = frames["applications"]
    assert 1.2 < applications.height / n < 1.4
    stages = applications["stage"].value_counts(normalize=True)
    assert set(stages["stage"]) == set(Stage.values)
    disbursed = stages.filter(pl.col("stage") == Stage.DISBURSED)["proportion"][0]
    assert 0.5 < disbursed < 0.58
    # Facilities: about 18% late payers and 18% defaulting some time in their life (drawn
    # from the clients' risk), arrears only among them (and the odd slip of a good payer);
    # every schedule as long as its tenor.
    facilities = frames["facilities"]
    behaviour = facilities["_behaviour"].value_counts(normalize=True)
    share = dict(behaviour.iter_rows())
    assert 0.15 < share["late"] < 0.22 and 0.15 < share["default"] < 0.22
    assert facilities.filter(pl.col("days_past_due") >= 90).height > 0
    assert facilities.filter(pl.col("days_past_due") > 0).height < facilities.height / 4
    schedule = frames["installments"].group_by("facility_id").len().sort("facility_id")
    assert schedule["len"].to_list() == facilities.sort("id")["tenor_months"].to_list()
    # Children per client, as the per-client generator drew them.
    assert 1.9 < frames["contacts"].height / companies.height < 2.1
    assert 2.2 < frames["statements"].height / companies.height < 2.45
    assert 4.8 < frames["interactions"].height / n < 6.2
    assert 0.65 < frames["invitations"].height / n < 0.75
    assert 0.09 < frames["tickets"].height / n < 0.15
    assert set(frames["tickets"]["status"]) == {"open", "in_progress", "closed"}
    assert set(frames["documents"]["status"]) == {"missing", "received", "accepted"}


@pytest.mark.django_db
def test_the_loaded_book_holds_every_kind_of_row_in_the_drawn_numbers():
    out = StringIO()
    call_command("demo-data", customers=700, seed=5, as_of=AS_OF, stdout=out, stderr=StringIO())
    models = (
        Customer, Customer.tags.through, Contact, FinancialStatement, Application,
        ApplicationStageChange, ApplicationDocument, Facility, Installment, Payment, Interaction,
        Invitation, Response, Answer, Ticket, PointsEntry,
    )  # fmt: skip
    assert all(model.objects.exists() for model in models)
    assert Customer.objects.count() == 700
    ids = list(Customer.objects.exclude(id_number=None).values_list("id_number", flat=True))
    assert ids and all(ric.is_valid(i) for i in ids) and len(set(ids)) == len(ids)
    # Children hang off the right parents.
    for facility in Facility.objects.order_by("?")[:20]:
        assert facility.application.customer_id == facility.customer_id
        assert facility.installments.count() == facility.tenor_months
        assert all(
            p.reference.startswith(facility.contract_number) for p in facility.payments.all()
        )
    assert Payment.objects.count() == Installment.objects.exclude(paid_off_on=None).count()
    assert Invitation.objects.exclude(answered_at=None).count() == Response.objects.count()
    assert PointsEntry.objects.filter(reason="survey_answered").count() == Response.objects.count()
    # The summary counts what was written.
    assert f"{Installment.objects.count():,}" in out.getvalue()
    # Ids were written explicitly: the next one the database hands out is still free.
    facility = Facility.objects.first()
    latest = Installment.objects.order_by("-pk").values_list("pk", flat=True)[0]
    added = Installment.objects.create(
        facility=facility, number=999, due_date=AS_OF, principal_due=1, interest_due=0
    )
    assert added.pk > latest


YEAR_END = date(2025, 12, 31)


def test_a_clients_risk_rises_with_leverage_and_falls_with_interest_cover_and_cash_flow():
    customers = pl.DataFrame({"id": [0, 1, 2, 3], "industry": ["C", "C", "K", "C"]})
    statements = pl.DataFrame(
        {
            "customer_id": [0, 1, 1, 2],
            "period_end": [YEAR_END, date(2024, 12, 31), YEAR_END, YEAR_END],
            # Firm 0: leverage 0.55, cover 3, flat cash flow; firm 1: leverage 0.8, cover 1,
            # cash flow falling by 10% of revenue; firm 2 is firm 0 in property.
            "total_liabilities": [55.0, 80.0, 80.0, 55.0],
            "total_assets": [100.0, 100.0, 100.0, 100.0],
            "net_profit": [15.0, 0.0, 0.0, 15.0],
            "interest_expense": [10.0, 10.0, 10.0, 10.0],
            "operating_cash_flow": [5.0, 10.0, 0.0, 5.0],
            "revenue": [100.0, 100.0, 100.0, 100.0],
        }
    )
    rng = np.random.default_rng(0)
    noise = np.random.default_rng(0).normal(0, 0.4, 4)
    risk = book_lending.client_risk(rng, customers, statements) - noise
    c = book_lending.INDUSTRY_RISK["C"]
    base = book_lending.BASE_DEFAULT_LOGIT
    assert risk[0] == pytest.approx(base + c)  # the book's typical firm
    assert risk[1] == pytest.approx(base + c + 8 * 0.25 - np.log(1 / 3) + 5 * 0.1)
    assert risk[2] == pytest.approx(base + book_lending.INDUSTRY_RISK["K"])
    assert risk[3] == pytest.approx(base + c)  # a person: no statements, the base


def test_facilities_of_riskier_clients_default_more_and_seasoned_ones_less():
    frames = book.draw_chunk(_plan(), 0, 0, 6_000)
    ratios = (
        frames["statements"]
        .group_by("customer_id")
        .agg(leverage=(pl.col("total_liabilities") / pl.col("total_assets")).mean())
    )
    facilities = frames["facilities"].join(ratios, on="customer_id", how="inner")
    rate = facilities.group_by(pl.col("leverage") > 0.65).agg(
        (pl.col("_behaviour") == "default").mean()
    )
    high, low = (rate.filter(pl.col("leverage") == v)["_behaviour"][0] for v in (True, False))
    assert high > 1.5 * low
