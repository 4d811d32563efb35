from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from fincrm.financing.services import payment_record
from fincrm.loyalty import services
from fincrm.loyalty.models import PointsEntry
from fincrm.loyalty.selectors import loyalty_summary
from fincrm.testing.factories import FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_on_time_instalments_earn_points_late_ones_do_not(book):
    firm = book["a_company"]
    facility = FacilityFactory(customer=firm, start_date=date(2026, 1, 15))
    monthly_schedule(facility, months=3, principal=Decimal(1000), interest=Decimal(100))
    # The first instalment (due 15 Feb) paid on time, the second (due 15 Mar) late.
    payment_record(facility=facility, amount=Decimal(1100), paid_on=date(2026, 2, 14))
    payment_record(facility=facility, amount=Decimal(1100), paid_on=date(2026, 3, 20))
    entries = PointsEntry.objects.filter(customer=firm)
    assert [(e.reason, e.points) for e in entries] == [("on_time_repayment", 10)]


def test_earning_is_once_per_key(book):
    first = services.points_earn(customer=book["a_company"], reason="referral", key="ref:1")
    again = services.points_earn(customer=book["a_company"], reason="referral", key="ref:1")
    assert first.points == 300 and again is None
    assert PointsEntry.objects.count() == 1


def test_a_redemption_beyond_the_balance_is_refused(book, users):
    firm = book["a_company"]
    services.points_earn(customer=firm, reason="referral", key="ref:1")  # 300
    with pytest.raises(ValidationError) as caught:
        services.points_redeem(customer=firm, reward_code="finance_training")  # 800
    assert "300" in caught.value.messages[0]
    entry = services.points_redeem(customer=firm, reward_code="industry_report")  # 300
    assert entry.points == -300
    assert loyalty_summary(customer=firm)["available"] == 0
    with pytest.raises(ValidationError):
        services.points_redeem(customer=firm, reward_code="no-such-reward")


def test_entries_are_append_only(book):
    entry = services.points_earn(customer=book["a_company"], reason="referral", key="ref:1")
    entry.points = 9999
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            customer=book["a_company"], kind="redeem", reason="x", points=50, key="bad"
        )  # a redemption must be negative


def test_points_expire_oldest_first_once(book):
    firm = book["a_company"]
    old = datetime(2024, 1, 10, 10, tzinfo=TZ)  # expires 2026-01-10 (24 months)
    services.points_earn(customer=firm, reason="referral", key="r1", now=old)  # 300
    services.points_earn(customer=firm, reason="renewal", key="r2", now=old + timedelta(days=400))
    services.points_redeem(
        customer=firm, reward_code="industry_report", now=old + timedelta(days=30)
    )
    # The redemption used the 300 oldest points: nothing of the first earn is left to expire.
    assert services.points_expire(as_of=date(2026, 1, 11)) == 0
    assert services.points_expire(as_of=date(2027, 3, 1)) == 1  # the 500 renewal points
    assert services.points_expire(as_of=date(2027, 3, 1)) == 0
    assert sum(PointsEntry.objects.filter(customer=firm).values_list("points", flat=True)) == 0


def test_membership_needs_points_and_tier(book):
    from fincrm.evaluation.models import Classification

    firm = book["a_company"]
    for i in range(5):
        services.points_earn(customer=firm, reason="renewal", key=f"r{i}")  # 2,500
    assert loyalty_summary(customer=firm)["level_code"] == "standard"  # no tier yet
    Classification.objects.create(
        customer=firm, tier="key", tier_since=datetime(2026, 1, 1, tzinfo=TZ), value_score=55,
        grade="A", size_band="small", lifecycle="active",
        evaluated_at=datetime(2026, 1, 1, tzinfo=TZ),
    )  # fmt: skip
    firm.refresh_from_db()
    assert loyalty_summary(customer=firm)["level_code"] == "gold"


def test_only_the_clients_manager_redeems_from_the_page(book, users, login):
    firm = book["a_company"]
    services.points_earn(customer=firm, reason="referral", key="ref:1")
    url = reverse("loyalty:redeem", args=[firm.pk])
    assert login(users["manager_b"]).post(url, {"reward": "industry_report"}).status_code == 404
    assert login(users["agent"]).post(url, {"reward": "industry_report"}).status_code == 404
    assert login(users["manager_a"]).post(url, {"reward": "industry_report"}).status_code == 302
    assert PointsEntry.objects.filter(kind="redeem").count() == 1


def test_a_referral_is_rewarded_once_per_referred_client(book, users, login):
    firm = book["a_company"]
    client = login(users["manager_a"])
    url = reverse("loyalty:referral", args=[firm.pk])
    client.post(url, {"referred": "常州新材料有限公司"})
    client.post(url, {"referred": " 常州新材料有限公司 "})
    client.post(url, {"referred": ""})
    assert list(PointsEntry.objects.values_list("reason", "points")) == [("referral", 300)]
    assert login(users["manager_b"]).post(url, {"referred": "x"}).status_code == 404
