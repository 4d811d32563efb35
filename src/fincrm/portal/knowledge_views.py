"""The knowledge library in the portal: the articles for this client (its industry, its
segments, or everyone's), newest first; opening one counts as the day's read."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from fincrm.core.files import stored_file_response
from fincrm.evaluation.models import Classification
from fincrm.knowledge.markdown import render_markdown
from fincrm.knowledge.selectors import articles_for_client
from fincrm.knowledge.services import article_read_record

from .views import portal_login_required


def _articles(customer):
    segments = (
        Classification.objects.filter(customer=customer).values_list("segments", flat=True).first()
    )
    return articles_for_client(customer=customer, segments=list(segments or []))


@portal_login_required
@require_GET
def article_list(request):
    articles = _articles(request.portal.customer).only(
        "pk", "title", "kind", "summary", "published_at", "attachment"
    )[:100]
    return render(request, "portal/knowledge.html", {"articles": articles})


@portal_login_required
@require_GET
def article(request, article_id: int):
    """One article for this client (a draft or another industry's is a 404); the read is
    counted once a day, a reload adds nothing."""
    customer = request.portal.customer
    item = get_object_or_404(_articles(customer), pk=article_id)
    article_read_record(article=item, customer=customer)
    return render(
        request, "portal/article.html", {"article": item, "body": render_markdown(item.body)}
    )


@portal_login_required
@require_GET
def attachment(request, article_id: int):
    item = get_object_or_404(_articles(request.portal.customer), pk=article_id)
    return stored_file_response(item.attachment)
