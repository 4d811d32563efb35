from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Article, ArticleRead, ArticleTag


class ArticleTagInline(admin.TabularInline):
    model = ArticleTag
    extra = 0


@admin.register(Article)
class ArticleAdmin(SimpleHistoryAdmin):
    list_display = ("title", "kind", "status", "published_at", "author")
    list_filter = ("kind", "status")
    search_fields = ("title",)
    raw_id_fields = ("author", "published_by")
    inlines = [ArticleTagInline]


@admin.register(ArticleRead)
class ArticleReadAdmin(admin.ModelAdmin):
    list_display = ("article", "customer", "day", "read_at")
    raw_id_fields = ("article", "customer")
