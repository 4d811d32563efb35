"""Who saw personal data, and who exported or erased a client's: the access side of the audit
trail (changes are in each model's ``history``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    VIEW_PII = "view_pii", _("Saw personal data")
    REVEAL = "reveal", _("Unmasked personal data")
    EXPORT = "export", _("Exported the client's data")
    ERASE = "erase", _("Erased the client's personal data")
    DOCUMENT = "document", _("Opened a document")
    SEARCH_PII = "search_pii", _("Found a client by ID number or phone")


class AccessLog(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    fields = models.CharField(_("what"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    via = models.CharField(_("via"), max_length=10, default="page")
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.customer_id}"


def access_log(*, user, customer, action: str, fields: str = "", reason: str = "", via="page"):
    return AccessLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        customer=customer,
        action=action,
        fields=fields[:200],
        reason=reason[:200],
        via=via,
    )


class NameInitials(models.Model):
    """The pinyin initials of a client's name (``zgjsyh`` for 中国建设银行), so the search box
    finds a client by them (issue 19, point 4). Kept with the name by ``fincrm.core.initials``
    (saved with the client; the importer's batches refreshed at once); lower case, letters
    and digits only."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("client"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    initials = models.CharField(_("pinyin initials"), max_length=100, db_index=True)

    class Meta:
        verbose_name = _("pinyin initials")
        verbose_name_plural = _("pinyin initials")

    def __str__(self) -> str:
        return self.initials
