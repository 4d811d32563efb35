"""Staff pages of the knowledge library: the list, an article, writing, publishing and
withdrawing, the PDF. Reads go through ``restrict`` (``get_restricted_or_404``), writes
through ``services`` and the rules of ``knowledge.rules``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fincrm.core.files import stored_file_response
from fincrm.core.permissions import get_restricted_or_404
from fincrm.core.views import RestrictedListView, flash_errors
from fincrm.customers.choices import Industry

from . import selectors, services
from .choices import TagDimension
from .filtersets import ArticleFilterSet
from .forms import ArticleForm
from .markdown import render_markdown
from .models import Article, ArticleTag


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def tag_labels(article: Article, segments: dict[str, str]) -> dict[str, list[str]]:
    """An article's industries and segments by name (empty: for everyone)."""
    industries = dict(Industry.choices)
    return {
        "industries": [str(industries.get(c, c)) for c in article.tag_codes(TagDimension.INDUSTRY)],
        "segments": [segments.get(c, c) for c in article.tag_codes(TagDimension.SEGMENT)],
    }


class ArticleListView(RestrictedListView):
    """The library: drafts first, then the newest published; filtered by title, kind,
    status and industry, with how many clients read each."""

    queryset = Article.objects.select_related("author")
    filterset_class = ArticleFilterSet
    template_name = "knowledge/list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, "knowledge.view_article")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(readers=Count("reads__customer", distinct=True))
            .prefetch_related(
                Prefetch("tags", queryset=ArticleTag.objects.order_by("dimension", "code"))
            )
            .order_by(F("published_at").desc(nulls_first=True), "-pk")
        )

    def get_context_data(self, **kwargs):
        segments = dict(selectors.segment_choices())
        context = super().get_context_data(
            may_write=self.request.user.has_perm("knowledge.add_article"), **kwargs
        )
        for article in context["object_list"]:
            article.labels = tag_labels(article, segments)
        return context


def _form(request, article: Article | None = None) -> ArticleForm:
    initial = None
    if article is not None:
        initial = {
            "title": article.title, "kind": article.kind, "summary": article.summary,
            "body": article.body,
            "industries": article.tag_codes(TagDimension.INDUSTRY),
            "segments": article.tag_codes(TagDimension.SEGMENT),
        }  # fmt: skip
    return ArticleForm(
        request.POST or None, request.FILES or None, initial=initial,
        segments=selectors.segment_choices(),
    )  # fmt: skip


def _save(request, form: ArticleForm, article: Article | None):
    data = form.cleaned_data
    try:
        article = services.article_save(
            user=request.user, article=article, title=data["title"], kind=data["kind"],
            body=data["body"], summary=data["summary"], industries=data["industries"],
            segments=data["segments"],
            segment_codes=[c for c, _n in form.fields["segments"].choices],
            attachment=data["attachment"], remove_attachment=data["remove_attachment"],
        )  # fmt: skip
    except ValidationError as exc:
        flash_errors(request, exc)
        return None
    messages.success(request, _("Article saved."))
    return redirect(article)


@login_required
def article_create(request):
    _require(request.user, "knowledge.add_article")
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, None)
        if response is not None:
            return response
    return render(request, "knowledge/form.html", {"form": form, "article": None})


@login_required
def article_edit(request, article_id: int):
    """A draft, by its author, the leads over the author and admins (published: withdraw
    it first)."""
    article = get_restricted_or_404(request.user, Article, "change", pk=article_id)
    if article.is_published:
        messages.error(request, services.MSG_NOT_A_DRAFT)
        return redirect(article)
    form = _form(request, article)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, article)
        if response is not None:
            return response
    return render(request, "knowledge/form.html", {"form": form, "article": article})


@login_required
@require_GET
def article_detail(request, article_id: int):
    """The article as the client will read it, whom it is for, its link for a campaign and
    how many clients read it."""
    article = get_restricted_or_404(
        request.user, Article.objects.select_related("author", "published_by"), pk=article_id
    )
    reads = article.reads.aggregate(clients=Count("customer", distinct=True), total=Count("pk"))
    context = {
        "article": article,
        "body": render_markdown(article.body),
        "labels": tag_labels(article, dict(selectors.segment_choices())),
        "reads": reads,
        "portal_url": request.build_absolute_uri(article.portal_path),
        "may_edit": not article.is_published
        and Article.objects.restrict(request.user, "change").filter(pk=article.pk).exists(),
        "may_publish": request.user.has_perm("knowledge.publish_article", article),
    }
    return render(request, "knowledge/detail.html", context)


def _publishing(request, article_id: int, action) -> Article | None:
    article = get_restricted_or_404(request.user, Article, pk=article_id)
    if not request.user.has_perm("knowledge.publish_article", article):
        raise PermissionDenied
    try:
        action(article=article, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
        return None
    return article


@login_required
@require_POST
def article_publish(request, article_id: int):
    article = _publishing(request, article_id, services.article_publish)
    if article is not None:
        messages.success(request, _("Published: the clients it is for see it in the portal."))
    return redirect("knowledge:detail", article_id)


@login_required
@require_POST
def article_withdraw(request, article_id: int):
    article = _publishing(request, article_id, services.article_withdraw)
    if article is not None:
        messages.success(request, _("Withdrawn: back to a draft, no longer in the portal."))
    return redirect("knowledge:detail", article_id)


@login_required
@require_GET
def attachment(request, article_id: int):
    article = get_restricted_or_404(request.user, Article, pk=article_id)
    return stored_file_response(article.attachment)
