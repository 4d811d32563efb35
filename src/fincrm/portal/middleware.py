"""Portal users stay in the portal: any other page sends them to its home."""

from django.shortcuts import redirect

#: ``/campaigns/l/``: a campaign's tracked link (a signed token; it only redirects to the
#: campaign's checked target), so an offer clicked in the portal is counted.
ALLOWED = ("/portal/", "/i18n/", "/static/", "/campaigns/l/")


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
