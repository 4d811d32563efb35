"""Reads of financing data with the user's permissions."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404

from fincrm.accounts.choices import Role

from .choices import CLOSED_STAGES
from .models import Application, ApplicationDocument, CollectionAction, Facility, Tranche


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


def application_for_change(user, pk: int) -> Application:
    """An application the user may work on as on its stage (``restrict(user, "change")``, the
    rule of ``POST …/stage`` for moves that are not decisions): 404 unseen, 403 seen but not
    the user's to change (risk officers, agents, executives see every client)."""
    application = get_object_or_404(
        Application.objects.restrict(user, "view").select_related("customer", "product"), pk=pk
    )
    if not Application.objects.restrict(user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    return application


def tranche_for_change(user, application_pk: int, pk: int) -> Tranche:
    """A tranche of an application the user may change (``application_for_change``)."""
    application = application_for_change(user, application_pk)
    tranche = get_object_or_404(Tranche, pk=pk, application=application)
    tranche.application = application
    return tranche


def tranche_panel(application: Application, *, can_change: bool) -> dict:
    """The application page's tranche plan: each tranche, what was drawn and what is still
    planned, the next tranche to draw and whether the plan may be set."""
    from .choices import Stage, TrancheStatus

    tranches = list(application.tranches.select_related("disbursed_by"))
    drawn = sum((t.amount for t in tranches if t.status == TrancheStatus.DISBURSED), Decimal(0))
    planned = [t for t in tranches if t.status == TrancheStatus.PLANNED]
    return {
        "tranches": tranches,
        "tranches_drawn": drawn,
        "tranches_planned": sum((t.amount for t in planned), Decimal(0)),
        "tranche_next": planned[0] if planned and application.stage == Stage.DISBURSED else None,
        "tranche_plan_open": can_change and application.stage == Stage.CONTRACT,
    }


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


def application_panels(user, application: Application) -> dict:
    """What the application page shows this user: documents and what they may do with them,
    the grade's controls the terms break (warnings before the decision, refused at it), the
    decision panel when the user has authority, the votes so far."""
    from django.core.exceptions import PermissionDenied as Refused

    from .approval import (
        authority_for,
        control_breaches,
        describe_auto_reasons,
        describe_rule,
        pending_roles,
    )
    from .choices import GuaranteeType, Stage
    from .services import policy_current

    policy, _version = policy_current()
    can_change = Application.objects.restrict(user, "change").filter(pk=application.pk).exists()
    reviewer = user.is_superuser or user.role in REVIEWER_ROLES
    decision: dict[str, Any] = {"rule": None, "refusal": "", "pending": []}
    if application.stage == Stage.CREDIT_REVIEW:
        try:
            rule = authority_for(application, user, policy)
        except Refused as exc:
            decision["refusal"] = str(exc)
        else:
            decision["rule"] = describe_rule(rule)
            decision["pending"] = pending_roles(application, rule, policy)
    open_terms = application.stage in (Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS,
                                       Stage.DUE_DILIGENCE, Stage.CONTRACT)  # fmt: skip
    return {
        "documents": application.documents.select_related("uploaded_by", "decided_by"),
        "changes": application.stage_changes.select_related("changed_by"),
        "votes": application.votes.select_related("user"),
        "can_change": can_change,
        "can_review_documents": reviewer,
        "breaches": control_breaches(application, policy) if application.is_open else [],
        "auto_reasons": describe_auto_reasons(application.auto_decision_reasons),
        "decision": decision,
        "terms_open": can_change and open_terms,
        "facility": Facility.objects.filter(application=application).first(),
        "sla_hours": policy.lending.green_channel_decision_hours,
        "guarantee_choices": GuaranteeType.choices,
    }


def green_channel_queue(user, *, now, policy) -> tuple:
    """The green channel's queue: the user's visible core-tier applications on the green
    route not yet decided, the ones whose decision clock runs (submitted) first,
    by deadline; and its figures — open, overdue, and over the last 30 days the share
    decided within the hours the policy gives and the median hours to a decision."""
    from datetime import timedelta
    from statistics import median

    hours = policy.lending.green_channel_decision_hours
    visible = Application.objects.restrict(user, "view").filter(route="green")
    queue = (
        visible.filter(decided_at__isnull=True)
        .exclude(stage__in=sorted(CLOSED_STAGES))
        .select_related("customer", "product", "customer__owner")
        .order_by(F("submitted_at").asc(nulls_last=True), "created_at", "id")
    )
    deadline = now - timedelta(hours=hours)
    decided = list(
        visible.filter(
            decided_at__gte=now - timedelta(days=30), submitted_at__isnull=False
        ).values_list("submitted_at", "decided_at")
    )
    waits = [(d - s).total_seconds() / 3600 for s, d in decided]
    figures = {
        "hours": hours,
        "open": queue.count(),
        "overdue": queue.filter(submitted_at__lt=deadline).count(),
        "decided": len(waits),
        "within": (sum(w <= hours for w in waits) / len(waits)) if waits else None,
        "median_hours": median(waits) if waits else None,
    }
    return queue, figures


def sla_clock(application: Application, *, now, hours: int) -> dict | None:
    """Where an application's green-channel clock stands: its deadline, the hours left
    (negative: overdue) — None before it is submitted."""
    from datetime import timedelta

    if application.submitted_at is None:
        return None
    due = application.submitted_at + timedelta(hours=hours)
    left = (due - now).total_seconds() / 3600
    return {"due": due, "hours_left": round(left, 1), "hours_late": round(-left, 1),
            "overdue": left < 0}  # fmt: skip
