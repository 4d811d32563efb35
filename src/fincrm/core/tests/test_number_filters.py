"""One number format: money with its unit and separators, whole counts and days."""

from decimal import Decimal

import pytest
from django.utils import translation

from fincrm.core.templatetags.fincrm_tags import count, days, money, number, percent


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (433718, "43.4 万元", "CNY 433,718"),
        (Decimal("24000000"), "2,400.0 万元", "CNY 24.00m"),
        (9800.4, "9,800 元", "CNY 9,800"),
        (245_000_000, "2.45 亿元", "CNY 245.00m"),
        (-18_050_000, "-1,805.0 万元", "-CNY 18.05m"),
        (None, "—", "—"),
    ],
)
def test_money_has_its_unit_and_separators_in_each_language(value, zh, en):
    with translation.override("zh-hans"):
        assert money(value) == zh
    with translation.override("en"):
        assert money(value) == en


def test_counts_and_days_are_whole_numbers():
    assert count(303.0) == "303" and count(1234567) == "1,234,567" and count(None) == "—"
    assert days(Decimal("363.00")) == "363"


def test_a_figure_of_unknown_kind_is_whole_when_whole_and_text_stays_text():
    assert number(60.0) == "60" and number(1805.04) == "1,805.0" and number(0.256, 2) == "0.26"
    assert number("2026-05") == "2026-05" and number(float("nan")) == "—"
    assert percent(None) == "—" and percent(0.256) == "25.6%"
