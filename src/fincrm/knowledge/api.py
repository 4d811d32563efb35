"""The knowledge library for other systems, read-only: staff list and read the articles
(``restrict``: every member of staff with a role). Registered by ``fincrm.api``."""

from datetime import datetime

from django.db.models import Count, Prefetch
from ninja import FilterSchema, Query, Router, Schema
from ninja.pagination import paginate

from fincrm.core.api_pagination import KeysetPagination
from fincrm.core.api_types import PathId
from fincrm.core.permissions import get_restricted_or_404

from .choices import ArticleKind, ArticleStatus, TagDimension
from .markdown import render_markdown
from .models import Article, ArticleTag

router = Router(tags=["knowledge"])


class ArticleOut(Schema):
    id: int
    title: str
    kind: ArticleKind
    summary: str
    status: ArticleStatus
    published_at: datetime | None
    author: str
    industries: list[str]
    segments: list[str]
    has_attachment: bool
    portal_path: str
    readers: int

    @staticmethod
    def resolve_author(obj) -> str:
        return obj.author.get_full_name() or obj.author.username

    @staticmethod
    def resolve_industries(obj) -> list[str]:
        return obj.tag_codes(TagDimension.INDUSTRY)

    @staticmethod
    def resolve_segments(obj) -> list[str]:
        return obj.tag_codes(TagDimension.SEGMENT)

    @staticmethod
    def resolve_has_attachment(obj) -> bool:
        return bool(obj.attachment)


class ArticleDetailOut(ArticleOut):
    body: str
    body_html: str

    @staticmethod
    def resolve_body_html(obj) -> str:
        return str(render_markdown(obj.body))


class ArticleFilter(FilterSchema):
    kind: ArticleKind | None = None
    status: ArticleStatus | None = None


def _articles(request):
    return (
        Article.objects.restrict(request.user)
        .select_related("author")
        .annotate(readers=Count("reads__customer", distinct=True))
        .prefetch_related(Prefetch("tags", queryset=ArticleTag.objects.order_by("code")))
    )


@router.get("/", response=list[ArticleOut])
@paginate(KeysetPagination, orderings=("id",))
def article_list(request, filters: Query[ArticleFilter]):
    return filters.filter(_articles(request))


@router.get("/{int:article_id}", response=ArticleDetailOut)
def article_get(request, article_id: PathId):
    return get_restricted_or_404(request.user, _articles(request), pk=article_id)


def register(api) -> None:
    api.add_router("/knowledge", router)
