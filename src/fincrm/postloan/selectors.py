"""Reads after disbursement: who may act on what, a facility's evidence and cover, the
360° card, the early-warning counts and the portfolio's exposure net of cover."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import cast

import polars as pl
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.shortcuts import get_object_or_404

from fincrm.analytics.delinquency import LOAN_CLASSES
from fincrm.analytics.postloan import net_exposure
from fincrm.financing.choices import FacilityStatus, LoanClass
from fincrm.financing.models import Facility, Installment
from fincrm.financing.selectors import REVIEWER_ROLES, facility_for_servicing

from .choices import UNPROVEN, EvidenceStatus
from .models import Claim, EvidenceItem, GuaranteeContract, InsurancePolicy

ZERO = Decimal(0)


def facility_for_postloan(user, pk: int) -> Facility:
    """A facility whose evidence, guarantees, policies and claims the user may record: the
    client's owner (or whoever may change the client) and risk officers, as for servicing —
    404 unseen, 403 seen only."""
    return facility_for_servicing(user, pk)


def evidence_for_review(user, pk: int) -> EvidenceItem:
    """Evidence of a facility the user sees, if the user reviews documents (risk officers,
    team leads, administrators): 404 unseen, 403 seen but not a reviewer."""
    item = get_object_or_404(
        EvidenceItem.objects.restrict(user, "view").select_related("facility"), pk=pk
    )
    if not (user.is_superuser or user.role in REVIEWER_ROLES):
        raise PermissionDenied
    return item


def may_review(user) -> bool:
    return bool(user.is_superuser or user.role in REVIEWER_ROLES)


def outstanding_by_facility(facility_ids: Iterable[int], using: str = "default") -> dict:
    """Principal not yet repaid, by facility (CNY)."""
    rows = (
        Installment.objects.using(using)
        .order_by()
        .filter(facility_id__in=list(facility_ids))
        .values("facility_id")
        .annotate(left=Sum(F("principal_due") - F("principal_paid")))
        .values_list("facility_id", "left")
    )
    return {pk: left or ZERO for pk, left in rows}


def cover_rows(facility_ids: Iterable[int], as_of: date, using: str = "default") -> pl.DataFrame:
    """The guarantees and policies in force on ``as_of`` over these facilities, one row per
    cover and facility (``analytics.postloan.net_exposure``'s input)."""
    ids = list(facility_ids)
    rows: list[tuple[str, int, float | None, float | None]] = []
    live = {"start_on__lte": as_of, "expires_on__gte": as_of}
    through = GuaranteeContract.facilities.through.objects.using(using)
    for cover_id, facility_id, amount in through.filter(
        facility_id__in=ids,
        guaranteecontract__start_on__lte=as_of,
        guaranteecontract__expires_on__gte=as_of,
    ).values_list("guaranteecontract_id", "facility_id", "guaranteecontract__amount_covered"):
        rows.append((f"g{cover_id}", facility_id, float(amount), None))
    for policy in (
        InsurancePolicy.objects.using(using)
        .filter(facilities__in=ids, **live)
        .distinct()
        .prefetch_related("facilities")
    ):
        for facility in policy.facilities.all():
            if facility.pk in ids:
                share = policy.coverage_share
                amount = policy.coverage_amount
                rows.append((
                    f"p{policy.pk}", facility.pk,
                    None if amount is None else float(amount),
                    None if share is None else float(share) / 100,
                ))  # fmt: skip
    frame = pl.DataFrame(
        rows,
        schema={"cover": pl.String, "facility_id": pl.Int64, "amount": pl.Float64,
                "share": pl.Float64},
        orient="row",
    )  # fmt: skip
    return frame.with_columns(cover_id=pl.col("cover").rank("dense").cast(pl.Int64)).drop("cover")


def facility_cover(facility_ids: Iterable[int], as_of: date, using: str = "default") -> dict:
    """facility id → (outstanding, cover, net) in CNY."""
    ids = list(facility_ids)
    outstanding = outstanding_by_facility(ids, using)
    frame = net_exposure(
        pl.DataFrame(
            {"facility_id": ids, "outstanding": [float(outstanding.get(i, ZERO)) for i in ids]},
            schema={"facility_id": pl.Int64, "outstanding": pl.Float64},
        ),
        cover_rows(ids, as_of, using),
    )
    return {r[0]: tuple(Decimal(str(round(v, 2))) for v in r[1:]) for r in frame.iter_rows()}


def facility_postloan(*, facility: Facility, today: date) -> dict:
    """Everything the facility's after-disbursement page shows."""
    items = list(
        EvidenceItem.objects.filter(facility=facility).select_related("uploaded_by", "decided_by")
    )
    guarantees = list(
        GuaranteeContract.objects.filter(facilities=facility).select_related("guarantor_client")
    )
    policies = list(InsurancePolicy.objects.filter(facilities=facility))
    outstanding, cover, net = facility_cover([facility.pk], today)[facility.pk]
    return {
        "items": items,
        "proven": [i for i in items if i.status == EvidenceStatus.ACCEPTED],
        "outstanding_items": [i for i in items if i.status != EvidenceStatus.ACCEPTED],
        "overdue": [i for i in items if i.is_overdue(today)],
        "flagged": [i for i in items if i.flags and i.status != EvidenceStatus.REJECTED],
        "proven_amount": sum(
            (i.amount or ZERO for i in items if i.status == EvidenceStatus.ACCEPTED), ZERO
        ),
        "guarantees": guarantees,
        "policies": policies,
        "claims": list(
            Claim.objects.filter(facility=facility).select_related("guarantee", "policy")
        ),
        "outstanding": outstanding,
        "cover": cover,
        "net": net,
    }


def customer_postloan(*, customer, today: date) -> list[dict]:
    """The 360° card: each facility with a checklist or a cover, what is proven and what is
    still owed, and the cover in force. One query when there is none, five with cover,
    whatever the number of facilities."""
    evidence = "evidence_items"
    facilities = [
        row
        for row in Facility.objects.filter(customer=customer)
        .order_by("-start_date", "-pk")
        .values("pk", "contract_number", "status")
        .annotate(
            total=Count(evidence, distinct=True),
            proven=Count(
                evidence, filter=Q(evidence_items__status=EvidenceStatus.ACCEPTED), distinct=True
            ),
            overdue=Count(
                evidence,
                filter=Q(evidence_items__status__in=UNPROVEN, evidence_items__due_on__lt=today),
                distinct=True,
            ),
            flagged=Count(
                evidence,
                filter=~Q(evidence_items__flags=[])
                & ~Q(evidence_items__status=EvidenceStatus.REJECTED),
                distinct=True,
            ),
            covers=Count("guarantees", distinct=True) + Count("insurance_policies", distinct=True),
        )
        if row["total"] or row["covers"]
    ]
    figures = facility_cover([f["pk"] for f in facilities], today) if facilities else {}
    for row in facilities:
        row["outstanding"], row["cover"], row["net"] = figures[row["pk"]]
        row["open"] = row["total"] - row["proven"]
    return facilities


def use_of_funds_counts(as_of: date):
    """Per client, querysets of (customer_id, n): evidence still unproven after its deadline,
    and evidence whose payee does not fit (not rejected), on live facilities — the signals
    ``funds_evidence_overdue`` and ``funds_payee_mismatch``."""
    live = EvidenceItem.objects.order_by().filter(facility__status=FacilityStatus.ACTIVE)

    def per_client(qs):
        return (
            qs.values("facility__customer_id")
            .annotate(n=Count("pk"))
            .values_list("facility__customer_id", "n")
        )

    overdue = per_client(live.filter(status__in=UNPROVEN, due_on__lt=as_of))
    mismatch = per_client(live.exclude(flags=[]).exclude(status=EvidenceStatus.REJECTED))
    return overdue, mismatch


#: As the portfolio page's other figures (``risk.selectors.PORTFOLIO_CACHE_SECONDS``).
PORTFOLIO_CACHE_SECONDS = 3600


def portfolio_cover(*, user, as_of: date) -> dict:
    """:func:`portfolio_cover_figures` on the reporting database, cached per scope and keyed
    by the latest change of a facility, a payment and a guarantee or policy (their history):
    the outstanding is a sum over every instalment of the book."""
    from django.core.cache import cache
    from django.db.models import Max

    from fincrm.core.db import reporting
    from fincrm.financing.models import Payment

    db = reporting()
    scope = "all" if user.sees_whole_portfolio else f"user{user.pk}"
    changed = Facility.objects.using(db).aggregate(m=Max("updated_at"))["m"]
    paid = Payment.objects.using(db).aggregate(m=Max("pk"))["m"]
    covers = [
        model.history.using(db).aggregate(m=Max("history_id"))["m"]
        for model in (GuaranteeContract, InsurancePolicy)
    ]
    stamp = f"{changed and changed.timestamp()}:{paid}:{'-'.join(map(str, covers))}"
    key = f"postloan:cover:{scope}:{as_of}:{stamp}"  # no spaces or brackets (memcached keys)
    figures = cache.get_or_set(
        key,
        lambda: portfolio_cover_figures(user=user, as_of=as_of, using=db),
        PORTFOLIO_CACHE_SECONDS,
    )
    return cast(dict, figures)  # set by the default above, never None


def portfolio_cover_figures(*, user, as_of: date, using: str = "default") -> dict:
    """The live book the user sees by five-tier class: outstanding, cover in force and the
    exposure net of cover (outstanding − min(cover, outstanding) per facility), and totals."""
    facilities = (
        Facility.objects.using(using).restrict(user, "view").filter(status=FacilityStatus.ACTIVE)
    )
    outstanding = dict(
        Installment.objects.using(using)
        .order_by()
        .filter(facility__in=facilities)
        .values("facility__loan_class")
        .annotate(left=Sum(F("principal_due") - F("principal_paid")))
        .values_list("facility__loan_class", "left")
    )
    covered_ids = set(
        GuaranteeContract.facilities.through.objects.using(using)
        .filter(facility__in=facilities)
        .values_list("facility_id", flat=True)
    ) | set(
        InsurancePolicy.facilities.through.objects.using(using)
        .filter(facility__in=facilities)
        .values_list("facility_id", flat=True)
    )
    covered = facility_cover(covered_ids, as_of, using) if covered_ids else {}
    classes = dict(facilities.filter(pk__in=covered_ids).values_list("pk", "loan_class"))
    cover_by_class: dict[str, Decimal] = {}
    for pk, (_left, held, _net) in covered.items():
        cover_by_class[classes[pk]] = cover_by_class.get(classes[pk], ZERO) + min(held, _left)
    rows = []
    for code in LOAN_CLASSES:
        left = outstanding.get(code) or ZERO
        held = cover_by_class.get(code, ZERO)
        rows.append({"code": code, "label": LoanClass(code).label, "outstanding": left,
                     "cover": held, "net": left - held})  # fmt: skip
    total = {k: sum((r[k] for r in rows), ZERO) for k in ("outstanding", "cover", "net")}
    return {"as_of": as_of, "rows": rows, "total": total}
