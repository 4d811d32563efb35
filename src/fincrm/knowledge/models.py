"""The knowledge library: articles (briefings, reports, success cases) tagged by industry and
segment, and the clients' reads of them (one row per client, article and day)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.accounts.choices import Role
from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import ArticleKind, ArticleStatus, TagDimension

#: Roles that write articles (their own drafts); publishing is ``knowledge.rules``.
AUTHOR_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.RISK_OFFICER, Role.ADMIN})


class ArticleQuerySet(models.QuerySet):
    """Every member of staff (any role) reads the whole library: it holds no client data.
    Changing an article is its author's, a team lead's for the authors of their teams and
    sub-teams, and an admin's."""

    def restrict(self, user, action: str = "view") -> ArticleQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser or user.role == Role.ADMIN:
            return self
        if not user.role:
            return self.none()  # a portal login or a user without a role
        if action == "view":
            return self
        if user.role == Role.TEAM_LEAD:
            return self.filter(Q(author=user) | Q(author__team_id__in=user.visible_team_ids()))
        if user.role in AUTHOR_ROLES:
            return self.filter(author=user)
        return self.none()

    def published(self) -> ArticleQuerySet:
        return self.filter(status=ArticleStatus.PUBLISHED)

    def for_client(self, *, industry: str, segments: list[str]) -> ArticleQuerySet:
        """Published articles for a client of ``industry`` in ``segments``: an article tagged
        with industries is for those industries, one tagged with segments for those segments
        (both: a client must match each); an article without tags is for everyone."""
        tags = ArticleTag.objects.filter(article=OuterRef("pk"))
        industries = tags.filter(dimension=TagDimension.INDUSTRY)
        segment_tags = tags.filter(dimension=TagDimension.SEGMENT)
        return self.published().filter(
            ~Exists(industries) | Exists(industries.filter(code=industry)),
            ~Exists(segment_tags) | Exists(segment_tags.filter(code__in=segments)),
        )


class Article(models.Model):
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ArticleKind.choices)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(
        _("text"), help_text=_("Markdown: headings (#), lists (-), **bold**, links, tables.")
    )
    attachment = models.FileField(_("PDF attachment"), upload_to="knowledge/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="articles",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["status", "-published_at"])]
        constraints = [
            models.CheckConstraint(
                name="article_published_has_date",
                condition=Q(status=ArticleStatus.DRAFT) | Q(published_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge:detail", args=[self.pk])

    @property
    def portal_path(self) -> str:
        """Where a client reads it: the target of a campaign's tracked ``{link}``."""
        return reverse("portal:article", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    def tag_codes(self, dimension: str) -> list[str]:
        return sorted(t.code for t in self.tags.all() if t.dimension == dimension)


class ArticleTag(models.Model):
    """An industry (GB/T 4754 section) or a rule segment (the policy's code) an article is for."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="tags"
    )
    dimension = models.CharField(_("tag"), max_length=10, choices=TagDimension.choices)
    code = models.CharField(_("code"), max_length=40)

    class Meta:
        verbose_name = _("article tag")
        verbose_name_plural = _("article tags")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "dimension", "code"], name="article_tag_once"
            )
        ]
        indexes = [models.Index(fields=["dimension", "code"])]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.code}"


class ArticleRead(models.Model):
    """A client opened an article in the portal on ``day`` (its first opening that day):
    reloads and later openings the same day add nothing."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="reads"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("client"), on_delete=models.CASCADE,
        related_name="article_reads",
    )  # fmt: skip
    day = models.DateField(_("day"))
    read_at = models.DateTimeField(_("read at"))

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("article read")
        verbose_name_plural = _("article reads")
        ordering = ["-read_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "article", "day"], name="article_read_once_a_day"
            )
        ]
        indexes = [models.Index(fields=["article", "day"])]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.article_id} · {self.day}"
