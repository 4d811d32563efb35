"""Writes of the knowledge library: an article saved, published or withdrawn by staff, and
a client's read recorded by the portal. Every change is in the article's history (who,
when, what)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.customers.choices import Industry

from .choices import ArticleStatus, TagDimension
from .models import Article, ArticleRead, ArticleTag

MSG_NOT_A_DRAFT = _("Only a draft can be edited: withdraw the article first.")
MSG_ALREADY_PUBLISHED = _("The article is already published.")
MSG_NOT_PUBLISHED = _("The article is not published.")
MSG_UNKNOWN_TAG = _("Unknown %(dimension)s: %(codes)s.")
MSG_MAY_NOT_PUBLISH = _("You may not publish or withdraw this article.")


def _tags(article: Article, dimension: str, codes: Iterable[str], allowed: Iterable[str]):
    codes = sorted(set(codes))
    unknown = [c for c in codes if c not in set(allowed)]
    if unknown:
        raise ValidationError(
            MSG_UNKNOWN_TAG
            % {"dimension": TagDimension(dimension).label, "codes": ", ".join(unknown)}
        )
    return [ArticleTag(article=article, dimension=dimension, code=c) for c in codes]


@transaction.atomic
def article_save(
    *,
    user,
    article: Article | None = None,
    title: str,
    kind: str,
    body: str,
    summary: str = "",
    industries: Iterable[str] = (),
    segments: Iterable[str] = (),
    segment_codes: Iterable[str] = (),
    attachment=None,
    remove_attachment: bool = False,
) -> Article:
    """Create a draft (``article`` None, ``user`` its author) or change one. ``segment_codes``
    are the codes the policy knows; a published article is not edited in place (a client
    would read text nobody reviewed): withdraw it first."""
    if article is None:
        article = Article(author=user)
    elif article.status != ArticleStatus.DRAFT:
        raise ValidationError(MSG_NOT_A_DRAFT, code="not_draft")
    article.title, article.kind, article.body, article.summary = title, kind, body, summary
    if attachment:
        article.attachment = attachment
    elif remove_attachment:
        article.attachment = ""
    article._history_user = user  # type: ignore[attr-defined]
    article.full_clean()
    article.save()
    tags = _tags(article, TagDimension.INDUSTRY, industries, Industry.values) + _tags(
        article, TagDimension.SEGMENT, segments, segment_codes
    )
    article.tags.all().delete()
    ArticleTag.objects.bulk_create(tags)
    return article


def _check_publisher(user, article: Article) -> None:
    if not user.has_perm("knowledge.publish_article", article):
        raise PermissionDenied(MSG_MAY_NOT_PUBLISH)


@transaction.atomic
def article_publish(*, article: Article, user, now: datetime | None = None) -> Article:
    """Publish to the portal (the clients it is tagged for), by a second person
    (``knowledge.rules``); the publish date is now."""
    _check_publisher(user, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.PUBLISHED:
        raise ValidationError(MSG_ALREADY_PUBLISHED, code="published")
    article.status = ArticleStatus.PUBLISHED
    article.published_at = now or timezone.now()
    article.published_by = user
    article._history_user = user  # type: ignore[attr-defined]
    article.full_clean()
    article.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    return article


@transaction.atomic
def article_withdraw(*, article: Article, user) -> Article:
    """Back to a draft: clients no longer see it (their reads are kept)."""
    _check_publisher(user, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != ArticleStatus.PUBLISHED:
        raise ValidationError(MSG_NOT_PUBLISHED, code="not_published")
    article.status = ArticleStatus.DRAFT
    article.published_at = None
    article.published_by = None
    article._history_user = user  # type: ignore[attr-defined]
    article.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    return article


def article_read_record(*, article: Article, customer, now: datetime | None = None) -> bool:
    """Count a client's opening of a published article once per day; True when this was the
    day's first (a reload, a second tab or a click from a campaign the same day adds none)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    if ArticleRead.objects.filter(article=article, customer=customer, day=day).exists():
        return False
    try:
        with transaction.atomic():
            ArticleRead.objects.create(article=article, customer=customer, day=day, read_at=now)
    except IntegrityError:  # the same client's other request got there first
        return False
    return True
