"""The demo's knowledge library: the articles published by the leads, read by clients of the
industries they are for and by the portal login; a second run adds no duplicates."""

from __future__ import annotations

from datetime import date

import pytest

from fincrm.demo.knowledge import ARTICLES, create_knowledge_demo
from fincrm.knowledge.models import Article, ArticleRead
from fincrm.testing.factories import CustomerFactory, PortalAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_its_articles_and_reads_them_once():
    for name in {a[6] for a in ARTICLES} | {a[7] for a in ARTICLES}:
        UserFactory(username=name)
    manufacturers = [CustomerFactory(industry="C") for _ in range(3)]
    PortalAccountFactory(customer=manufacturers[0])
    articles, reads = create_knowledge_demo(as_of=date(2026, 6, 30), seed=7)
    assert articles == len(ARTICLES) == Article.objects.filter(status="published").count()
    assert reads > 0 and ArticleRead.objects.filter(customer=manufacturers[0]).exists()
    titles = set(
        ArticleRead.objects.filter(customer__industry="C").values_list("article__title", flat=True)
    )
    assert "批发零售业市场研报：社区团购与供应链金融" not in titles  # a retail-only report
    stored = ArticleRead.objects.count()
    create_knowledge_demo(as_of=date(2026, 6, 30), seed=7)
    assert Article.objects.count() == len(ARTICLES) and ArticleRead.objects.count() == stored
