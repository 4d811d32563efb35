"""Reads of financing data with the user's permissions."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from fincrm.accounts.choices import Role

from .models import Application, ApplicationDocument, CollectionAction, Facility


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


#: Roles that review application documents (accept or reject) and may be asked to decide.
REVIEWER_ROLES = frozenset({Role.RISK_OFFICER, Role.TEAM_LEAD, Role.ADMIN})


def application_for_decision(user, pk: int) -> Application:
    """An application the user sees, for a decision: whether the user may take it is the
    authority table's question (``approval.authority_for``), answered with its rule."""
    return get_object_or_404(
        Application.objects.restrict(user, "view").select_related("customer", "product"), pk=pk
    )


def document_for_review(user, application_pk: int, pk: int) -> ApplicationDocument:
    """A document of an application the user sees, if the user reviews documents (risk
    officers, team leads, administrators): 404 unseen, 403 seen but not a reviewer."""
    document = get_object_or_404(
        ApplicationDocument.objects.restrict(user, "view").select_related("application"),
        pk=pk,
        application_id=application_pk,
    )
    if not (user.is_superuser or user.role in REVIEWER_ROLES):
        raise PermissionDenied
    return document


def collection_action_for(user, pk: int) -> CollectionAction:
    """A collection action the user may work: assigned to them, or on a client they may
    change, or any for risk officers (collections) — 404 unseen, 403 seen only."""
    action = get_object_or_404(
        CollectionAction.objects.restrict(user, "view").select_related("facility__customer"),
        pk=pk,
    )
    if not (
        action.assigned_to_id == user.pk
        or user.has_perm("customers.change_customer", action.facility.customer)
        or user.has_perm("risk.decide")
    ):
        raise PermissionDenied
    return action
