"""Reads of financing data with the user's permissions."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Facility


def facility_for_servicing(user, pk: int) -> Facility:
    """A facility the user may service (record payments, report missed instalments): the
    client's owner (or whoever may change the client) and risk officers. A facility the user
    cannot see is a 404, one it sees but may not service a 403 — for the pages and the API."""
    facility = get_object_or_404(
        Facility.objects.restrict(user, "view").select_related("customer"), pk=pk
    )
    if not (
        user.has_perm("customers.change_customer", facility.customer)
        or user.has_perm("risk.decide")
    ):
        raise PermissionDenied
    return facility
