"""``GET /api/v1/knowledge/``: the library for staff, read-only, paginated."""

from __future__ import annotations

import pytest

from fincrm.knowledge.choices import ArticleStatus
from fincrm.testing.factories import ArticleFactory, ArticleReadFactory, ArticleTagFactory

pytestmark = pytest.mark.django_db


def test_staff_list_and_read_articles_with_their_tags_and_readers(users, client, bearer):
    article = ArticleFactory(title="2026年一季度市场研报", kind="report", body="**增长**")
    ArticleTagFactory(article=article, dimension="industry", code="C")
    ArticleReadFactory(article=article)
    ArticleFactory(title="草稿", status=ArticleStatus.DRAFT, published_at=None)
    headers = bearer(users["agent"])
    listed = client.get("/api/v1/knowledge/?status=published", **headers).json()
    assert [a["title"] for a in listed["results"]] == ["2026年一季度市场研报"]
    row = listed["results"][0]
    assert (row["kind"], row["industries"], row["segments"], row["readers"]) == (
        "report",
        ["C"],
        [],
        1,
    )
    assert row["portal_path"] == f"/portal/knowledge/{article.pk}/"
    one = client.get(f"/api/v1/knowledge/{article.pk}", **headers).json()
    assert one["body_html"] == "<p><strong>增长</strong></p>\n"


def test_a_user_without_a_role_sees_nothing_and_no_token_is_refused(users, client, bearer):
    article = ArticleFactory()
    headers = bearer(users["outsider"])
    assert client.get("/api/v1/knowledge/", **headers).json()["results"] == []
    assert client.get(f"/api/v1/knowledge/{article.pk}", **headers).status_code == 404
    assert client.get("/api/v1/knowledge/").status_code == 401


def test_the_library_cannot_be_written_through_the_api(users, client, bearer):
    headers = bearer(users["admin"])
    response = client.post("/api/v1/knowledge/", {}, content_type="application/json", **headers)
    assert response.status_code == 405
