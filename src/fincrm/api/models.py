"""Per-user API tokens: shown once at creation, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Tokens look like ``fcrm_<prefix>_<secret>``; the prefix identifies one in lists and logs.
PREFIX = "fcrm_"


def token_hash(token: str) -> str:
    """SHA-256 of the whole token: tokens carry 256 bits of randomness, so a fast hash is
    enough (a slow password hash would only slow every request)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # The rate limiter keys on str(request.auth): one bucket per token.
        return f"token:{self.pk}"

    @classmethod
    def issue(cls, *, user, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns (row, the plain token — shown to the user once)."""
        prefix = secrets.token_hex(4)
        plain = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            user=user, name=name.strip()[:80] or "API", prefix=prefix, key_hash=token_hash(plain)
        )
        return token, plain
