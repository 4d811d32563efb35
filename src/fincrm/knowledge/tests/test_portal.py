"""The library in the client portal: a client sees what is for its industry or segments, or
for everyone, newest first; nothing else by any id; a read is counted once a day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from fincrm.knowledge.choices import ArticleStatus
from fincrm.knowledge.models import ArticleRead
from fincrm.testing.factories import (
    ArticleFactory,
    ArticleTagFactory,
    ClassificationFactory,
    PortalAccountFactory,
)

pytestmark = pytest.mark.django_db


def _published(title: str, day: int, **tags) -> object:
    article = ArticleFactory(title=title, published_at=datetime(2026, 5, day, 2, tzinfo=UTC))
    for dimension, codes in tags.items():
        for code in codes:
            ArticleTagFactory(article=article, dimension=dimension, code=code)
    return article


@pytest.fixture
def library():
    return {
        "general": _published("宏观经济月报", 1),
        "manufacturing": _published("制造业景气简报", 3, industry=["C"]),
        "retail": _published("零售业研报", 4, industry=["F"]),
        "growing": _published("成长型企业融资案例", 5, segment=["growing"]),
        "growing_retail": _published("零售成长案例", 6, industry=["F"], segment=["growing"]),
        "mature": _published("成熟企业投资论坛纪要", 7, segment=["mature_investor"]),
        "draft": ArticleFactory(title="未发布草稿", status=ArticleStatus.DRAFT, published_at=None),
    }


@pytest.fixture
def reader(book):
    """The portal login of manager A's firm: a manufacturer in the growing segment."""
    customer = book["a_company"]
    customer.industry = "C"
    customer.save()
    ClassificationFactory(customer=customer, segments=["growing"])
    return PortalAccountFactory(customer=customer)


def test_a_client_sees_its_industrys_its_segments_and_general_articles_newest_first(
    library, reader, login
):
    page = login(reader.user).get(reverse("portal:knowledge"))
    titles = [a.title for a in page.context["articles"]]
    assert titles == ["成长型企业融资案例", "制造业景气简报", "宏观经济月报"]


def test_another_industrys_article_or_a_draft_is_not_found_by_id(library, reader, login):
    client = login(reader.user)
    for key in ("retail", "growing_retail", "mature", "draft"):
        article = library[key]
        assert client.get(reverse("portal:article", args=[article.pk])).status_code == 404, key
        url = reverse("portal:article_attachment", args=[article.pk])
        assert client.get(url).status_code == 404, key
    assert not ArticleRead.objects.exists()


def test_a_read_counts_once_a_day_however_often_the_page_is_opened(library, reader, login):
    client = login(reader.user)
    url = reverse("portal:article", args=[library["manufacturing"].pk])
    with time_machine.travel(datetime(2026, 6, 1, 2, tzinfo=UTC), tick=False):
        for _ in range(3):
            page = client.get(url)
            assert page.status_code == 200 and "新订单指数回升" in page.content.decode()
    with time_machine.travel(datetime(2026, 6, 2, 2, tzinfo=UTC), tick=False):
        client.get(url)
    reads = ArticleRead.objects.filter(customer=reader.customer)
    assert sorted(str(r.day) for r in reads) == ["2026-06-01", "2026-06-02"]


def test_staff_do_not_use_the_portals_library(library, users, login):
    response = login(users["manager_a"]).get(reverse("portal:knowledge"))
    assert response.status_code == 404
