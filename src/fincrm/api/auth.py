"""API authentication: a bearer token (other systems) or the browser session (with CSRF)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import PREFIX, ApiToken, token_hash

#: ``last_used_at`` is written at most this often per token (not on every request).
TOUCH_EVERY = timedelta(minutes=5)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        found = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=token_hash(token))
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found


class Session(SessionAuth):
    """The logged-in browser user (CSRF-checked for writes)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None
