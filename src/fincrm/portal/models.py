"""A client's login to the portal: one user account tied to one client, nothing else."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PortalAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="portal_accounts"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class FaqEntry(models.Model):
    """One question the portal assistant can answer from the FAQ base (edited in the admin)."""

    language = models.CharField(
        _("language"), max_length=10, choices=[("zh-hans", "中文"), ("en", "English")]
    )
    question = models.CharField(_("question"), max_length=200)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Other words clients use.")
    )
    answer = models.TextField(_("answer"))
    published = models.BooleanField(_("published"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["language", "order", "pk"]

    def __str__(self) -> str:
        return self.question
