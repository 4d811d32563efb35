"""The user's API tokens: create (shown once), list, revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import ApiToken


@login_required
def tokens(request):
    created = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, _("Name the token after the system that will use it."))
        else:
            _token, created = ApiToken.issue(user=request.user, name=name)
    return render(
        request,
        "api/tokens.html",
        {"tokens": ApiToken.objects.filter(user=request.user), "created": created},
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # only one's own
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        messages.success(request, _("Token revoked."))
    return redirect("api_tokens")
