"""Factories for the knowledge library: articles, their tags and clients' reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

import factory

from fincrm.accounts.choices import Role
from fincrm.knowledge.choices import ArticleKind, ArticleStatus, TagDimension
from fincrm.knowledge.models import Article, ArticleRead, ArticleTag

from .accounts import UserFactory
from .customers import CustomerFactory

__all__ = ["ArticleFactory", "ArticleReadFactory", "ArticleTagFactory"]


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published industry briefing for every client (no tags), by an account manager."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"2026年制造业景气度简报（第{n}期）")
    kind = ArticleKind.BRIEFING
    summary = "制造业采购经理指数回升，订单改善。"
    body = "## 要点\n\n- 新订单指数回升\n- 原材料价格趋稳\n"
    status = ArticleStatus.PUBLISHED
    published_at = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    author = factory.SubFactory(UserFactory, role=Role.ACCOUNT_MANAGER)


class ArticleTagFactory(factory.django.DjangoModelFactory):
    """An article for manufacturing (GB/T 4754 section C)."""

    class Meta:
        model = ArticleTag

    article = factory.SubFactory(ArticleFactory)
    dimension = TagDimension.INDUSTRY
    code = factory.Sequence(lambda n: "CFGEI"[n % 5])


class ArticleReadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleRead

    article = factory.SubFactory(ArticleFactory)
    customer = factory.SubFactory(CustomerFactory)
    day = date(2026, 6, 1)
    read_at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
