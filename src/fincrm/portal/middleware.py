"""Portal users stay in the portal: any other page sends them to its home."""

from django.shortcuts import redirect

ALLOWED = ("/portal/", "/i18n/", "/static/")


class PortalBoundaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(user, "portal_account")
            and not request.path.startswith(ALLOWED)
        ):
            return redirect("portal:home")
        return self.get_response(request)
