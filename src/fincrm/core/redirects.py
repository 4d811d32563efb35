"""Redirects to a ``next`` the request names, only within this site."""

from __future__ import annotations

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_next(request, default: str, *args, **kwargs):
    """Redirect to the request's ``next`` (POST, else GET) when it points into this site,
    else to ``default`` (a URL name or a path): a forged ``next=https://evil.example/`` or
    ``//evil.example`` must not turn a form of ours into an open redirect."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default, *args, **kwargs)
