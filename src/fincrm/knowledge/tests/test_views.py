"""The staff pages of the knowledge library: who reads, writes, publishes; the text is
rendered safely; a published article is not edited in place."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.core.policy import policy_active
from fincrm.knowledge.choices import ArticleStatus, TagDimension
from fincrm.knowledge.models import Article
from fincrm.testing.factories import ArticleFactory, ArticleReadFactory, ArticleTagFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _draft(author, **kw) -> Article:
    return ArticleFactory(author=author, status=ArticleStatus.DRAFT, published_at=None, **kw)


def test_every_role_reads_the_library_and_a_user_without_a_role_is_refused(users, login):
    ArticleFactory(title="长三角制造业景气简报")
    for role in ("manager_a", "lead", "risk", "agent", "exec", "admin"):
        page = login(users[role]).get(reverse("knowledge:list"))
        assert page.status_code == 200, role
        assert "长三角制造业景气简报" in page.content.decode()
    assert login(users["outsider"]).get(reverse("knowledge:list")).status_code == 403


def test_an_account_manager_writes_a_draft_tagged_for_industries_and_segments(users, login):
    client = login(users["manager_a"])
    response = client.post(
        reverse("knowledge:create"),
        {"title": "成功案例：苏州精密机械扩产融资", "kind": "case", "summary": "三个月完成扩产",
         "body": "## 背景\n\n客户订单增长。", "industries": ["C", "F"], "segments": ["growing"],
         "attachment": SimpleUploadedFile("case.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == article.get_absolute_url()
    assert article.status == ArticleStatus.DRAFT and article.author == users["manager_a"]
    assert article.tag_codes(TagDimension.INDUSTRY) == ["C", "F"]
    assert article.tag_codes(TagDimension.SEGMENT) == ["growing"]
    assert article.history.get().history_user == users["manager_a"]
    pdf = client.get(reverse("knowledge:attachment", args=[article.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == PDF


def test_an_attachment_that_is_not_a_pdf_and_an_unknown_segment_are_refused(users, login):
    client = login(users["manager_a"])
    response = client.post(
        reverse("knowledge:create"),
        {"title": "简报", "kind": "briefing", "body": "正文", "segments": ["no_such_segment"],
         "attachment": SimpleUploadedFile("x.docx", b"PK\x03\x04", "application/msword")},
    )  # fmt: skip
    assert response.status_code == 200 and not Article.objects.exists()
    errors = response.context["form"].errors
    assert "attachment" in errors and "segments" in errors


def test_a_service_agent_and_an_executive_do_not_write(users, login):
    for role in ("agent", "exec", "outsider"):
        client = login(users[role])
        assert client.get(reverse("knowledge:create")).status_code == 403, role
        client.post(reverse("knowledge:create"), {"title": "x", "kind": "case", "body": "y"})
    assert not Article.objects.exists()


def test_a_draft_is_changed_by_its_author_its_lead_and_admins_only(users, login):
    draft = _draft(users["manager_a"], title="初稿")
    url = reverse("knowledge:edit", args=[draft.pk])
    form = {"title": "修订稿", "kind": "report", "body": "新正文"}
    for role in ("manager_b", "risk", "agent", "exec"):
        assert login(users[role]).post(url, form).status_code == 404, role
    assert Article.objects.get().title == "初稿"
    for role in ("manager_a", "lead", "admin"):
        assert login(users[role]).post(url, {**form, "title": role}).status_code == 302, role
        assert Article.objects.get().title == role


def test_publishing_takes_a_second_person_a_lead_of_the_authors_team_or_an_admin(users, login):
    draft = _draft(users["manager_a"])
    publish = reverse("knowledge:publish", args=[draft.pk])
    for role in ("manager_a", "manager_b", "risk", "agent", "exec"):
        assert login(users[role]).post(publish).status_code == 403, role
    assert Article.objects.get().status == ArticleStatus.DRAFT
    assert login(users["lead"]).post(publish).status_code == 302
    article = Article.objects.get()
    assert article.status == ArticleStatus.PUBLISHED and article.published_by == users["lead"]
    assert article.published_at is not None
    # A lead's own article: not the lead's to publish; an admin's it is.
    own = _draft(users["lead"])
    assert login(users["lead"]).post(reverse("knowledge:publish", args=[own.pk])).status_code == 403
    assert (
        login(users["admin"]).post(reverse("knowledge:publish", args=[own.pk])).status_code == 302
    )
    # Another team's manager's draft: not this lead's.
    other = _draft(users["manager_b"])
    response = login(users["lead"]).post(reverse("knowledge:publish", args=[other.pk]))
    assert response.status_code == 403


def test_a_published_article_is_withdrawn_before_it_is_edited(users, login):
    article = ArticleFactory(author=users["manager_a"], title="已发布")
    client = login(users["manager_a"])
    response = client.post(reverse("knowledge:edit", args=[article.pk]),
                           {"title": "改动", "kind": "case", "body": "x"})  # fmt: skip
    assert response.status_code == 302 and Article.objects.get().title == "已发布"
    assert (
        login(users["lead"]).post(reverse("knowledge:withdraw", args=[article.pk])).status_code
        == 302
    )
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT and article.published_at is None
    client.post(reverse("knowledge:edit", args=[article.pk]),
                {"title": "改动", "kind": "case", "body": "x"})  # fmt: skip
    assert Article.objects.get().title == "改动"


def test_the_text_is_rendered_without_raw_html_or_script_links(users, login):
    article = ArticleFactory(
        body="# 标题\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(1)) "
        "[报告](https://example.com/r)\n\n**要点**"
    )
    page = login(users["agent"]).get(reverse("knowledge:detail", args=[article.pk])).content
    page = page.decode()
    assert "<h1>标题</h1>" in page and "<strong>要点</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    assert 'href="https://example.com/r" rel="nofollow noopener"' in page
    # The portal address a campaign's {link} can lead to.
    assert f"/portal/knowledge/{article.pk}/" in page


def test_the_list_counts_each_reading_client_once_in_a_fixed_number_of_queries(
    users, login, django_assert_max_num_queries
):
    articles = [ArticleFactory() for _ in range(5)]
    for article in articles:
        ArticleTagFactory(article=article)
        read = ArticleReadFactory(article=article)
        ArticleReadFactory(article=article, customer=read.customer, day=read.day.replace(day=2))
    policy_active()  # the shipped policy stored once, as on any running site
    client = login(users["manager_a"])
    with django_assert_max_num_queries(9):
        page = client.get(reverse("knowledge:list"))
    assert [a.readers for a in page.context["object_list"]] == [1] * 5
