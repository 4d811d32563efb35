"""The library list's filters (the page and the API take the same)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from fincrm.customers.choices import Industry

from .choices import ArticleKind, ArticleStatus, TagDimension
from .models import Article, ArticleTag


class ArticleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Title"), field_name="title", lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ArticleKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ArticleStatus.choices)
    industry = django_filters.ChoiceFilter(
        label=_("Industry"), choices=Industry.choices, method="for_industry"
    )

    class Meta:
        model = Article
        fields = ["q", "kind", "status", "industry"]

    def for_industry(self, queryset, name, value):
        """Articles for that industry: tagged with it, or with no industry at all."""
        tags = ArticleTag.objects.filter(article=OuterRef("pk"), dimension=TagDimension.INDUSTRY)
        return queryset.filter(~Exists(tags) | Exists(tags.filter(code=value)))
