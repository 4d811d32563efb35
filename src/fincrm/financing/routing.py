"""Routes follow tiers: an application is opened on the green channel when its client is in a
tier whose service plan grants it (``services.application_create``). A client's tier changes
with the nightly evaluation, so until a decision has started the route follows the client's
current tier — a client that became core gets the green channel for the application it is
waiting on, one that fell out of it the full route."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from .choices import Route, Stage
from .models import Application

#: Stages whose application may still change route (no decision has started).
REROUTABLE = (Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
              Stage.CREDIT_REVIEW)  # fmt: skip


@transaction.atomic
def routes_follow_tiers() -> dict[str, int]:
    """Move open applications (before any vote) to the route their client's tier gives:
    green for the tiers whose plan grants the green channel, standard for the others. An
    application at a stage the green route passes by (due diligence) stays standard: it would
    have no way on. Returns how many went green and how many standard."""
    from fincrm.core.policy import green_channel_tiers

    from .services import policy_current

    tiers = green_channel_tiers()
    policy, _version = policy_current()
    skipped = set(policy.lending.green_channel_skip_stages)
    undecided = Application.objects.filter(stage__in=REROUTABLE, votes__isnull=True)
    in_green_tier = Q(customer__classification__tier__in=tiers)
    to_green = (
        undecided.filter(in_green_tier, route=Route.STANDARD)
        .exclude(stage__in=sorted(skipped))
        .values_list("pk", flat=True)
    )
    to_standard = undecided.filter(route=Route.GREEN).exclude(in_green_tier)
    to_standard = to_standard.values_list("pk", flat=True)
    green_ids, standard_ids = list(to_green), list(to_standard)
    # Saved one by one, so the change of route is in each application's history.
    for route, ids in ((Route.GREEN, green_ids), (Route.STANDARD, standard_ids)):
        for application in Application.objects.filter(pk__in=ids):
            application.route = route
            application._change_reason = "route follows the client's tier"
            application.save(update_fields=["route"])
    return {"green": len(green_ids), "standard": len(standard_ids)}
