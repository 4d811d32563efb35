from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleKind(models.TextChoices):
    BRIEFING = "briefing", _("Industry briefing")
    REPORT = "report", _("Market research report")
    CASE = "case", _("Success case")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class TagDimension(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    SEGMENT = "segment", _("Segment")
