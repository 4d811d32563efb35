"""Reads of the knowledge library, each from what the user or the client may see."""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, QuerySet

from fincrm.core.policy import segment_names

from .models import Article, ArticleTag


def segment_choices() -> list[tuple[str, str]]:
    """(code, name in the reader's language) of the active policy's rule segments."""
    return list(segment_names().items())


def _with_tags(qs: QuerySet) -> QuerySet:
    return qs.prefetch_related(
        Prefetch("tags", queryset=ArticleTag.objects.order_by("dimension", "code"))
    )


def article_list(*, user) -> QuerySet[Article]:
    """The library as ``user`` sees it, drafts first then newest published, with the number
    of clients who read each."""
    return _with_tags(
        Article.objects.restrict(user)
        .select_related("author")
        .annotate(readers=Count("reads__customer", distinct=True))
        .order_by(F("published_at").desc(nulls_first=True), "-pk")
    )


def articles_for_client(*, customer, segments: list[str]) -> QuerySet[Article]:
    """What the portal shows ``customer`` (its industry, its segments ``segments``, or
    general), newest first."""
    return _with_tags(
        Article.objects.for_client(industry=customer.industry, segments=segments).order_by(
            "-published_at", "-pk"
        )
    )
