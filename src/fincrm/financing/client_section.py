"""The financing section of a client's 360° page: its applications and facilities, with the
repayment schedules, tranche plans, extensions and restructurings, in a fixed number of
queries whatever the history.

The page (:mod:`fincrm.web.customer360_selectors`) and the client report
(:mod:`fincrm.reports.selectors`) read the facilities from here, so both show the same figures.
"""

from __future__ import annotations

from .choices import CLOSED_STAGES, FacilityStatus
from .models import Application, Facility, FacilityModification, Installment, Tranche

#: Decided applications the 360° page lists (open ones are always listed); the rest are one
#: click away in the application list filtered to the client.
DECIDED_APPLICATIONS_SHOWN = 10


def customer_financing(*, customer) -> dict:
    """A client's applications and facilities (five queries).

    A client of ten years has dozens of applications and closed facilities: the page lists
    every open application and the latest decided ones, every facility, and the repayment
    schedules of live facilities (a closed one's schedule is loaded when opened).
    ``modifications`` are the client's extensions and restructurings, newest first, each also
    in its facility's ``modification_list``.
    """
    applications = list(
        Application.objects.filter(customer=customer)
        .select_related("product")
        .order_by("-created_at", "-pk")
    )
    decided = [a for a in applications if a.stage in CLOSED_STAGES]
    shown = {a.pk for a in decided[:DECIDED_APPLICATIONS_SHOWN]}
    shown |= {a.pk for a in applications if a.stage not in CLOSED_STAGES}
    facilities = list(
        Facility.objects.filter(customer=customer).select_related("product").order_by("-start_date")
    )
    # One query for the schedules of the live facilities, whatever their number.
    schedules: dict[int, list[Installment]] = {}
    for installment in (
        Installment.objects.filter(facility__customer=customer)
        .exclude(facility__status=FacilityStatus.CLOSED)
        .order_by("facility_id", "number")
    ):
        schedules.setdefault(installment.facility_id, []).append(installment)
    # One query for the tranche plans of facilities disbursed in tranches.
    plans: dict[int, list[Tranche]] = {}
    for tranche in Tranche.objects.filter(application__customer=customer).order_by("number"):
        plans.setdefault(tranche.application_id, []).append(tranche)
    # One query for the extensions and restructurings: each facility's, and the timeline's.
    modifications = list(
        FacilityModification.objects.filter(facility__customer=customer)
        .select_related("requested_by", "decided_by", "revision")
        .order_by("-requested_at", "-pk")
    )
    by_pk = {facility.pk: facility for facility in facilities}
    for facility in facilities:
        facility.modification_list = []
    for modification in modifications:
        modification.facility = by_pk[modification.facility_id]
        modification.facility.modification_list.append(modification)
    for facility in facilities:
        facility.schedule_inline = facility.status != FacilityStatus.CLOSED
        facility.schedule = schedules.get(facility.pk, [])
        facility.tranche_plan = plans.get(facility.application_id, [])
        facility.tranches_drawn = sum(t.facility_id == facility.pk for t in facility.tranche_plan)
    return {
        "applications": [a for a in applications if a.pk in shown],
        "applications_total": len(applications),
        "facilities": facilities,
        "modifications": modifications,
    }
