"""Staff development pages: my training, the team's training, entering a record, a
certificate, and the monthly incentive scorecard (on the KPI pages)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from fincrm.core.excel import workbook
from fincrm.core.files import stored_file_response
from fincrm.core.permissions import get_restricted_or_404

from . import selectors, services
from .forms import TrainingRecordForm
from .models import TrainingRecord

#: Each measure's name on the scorecard, in the reader's language.
MEASURE_LABELS = {
    "contacts": gettext_lazy("Contacts made"),
    "nps": gettext_lazy("Net promoter score"),
    "csat": gettext_lazy("Satisfied clients %"),
    "new_facilities": gettext_lazy("New facilities"),
    "new_amount": gettext_lazy("New facilities' limits (CNY)"),
    "dpd30_share": gettext_lazy("Book 30+ days past due %"),
    "complaints": gettext_lazy("Complaints"),
}
#: Measures held as fractions, shown as percentages.
FRACTIONS = {"dpd30_share"}


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


@login_required
def my_training(request):
    """My required courses (flagged when missing, expired or expiring) and my records."""
    today = timezone.localdate()
    me = selectors.people_in_scope(request.user).filter(pk=request.user.pk)
    context = {
        "overview": selectors.training_overview(me, as_of=today),
        "records": TrainingRecord.objects.restrict(request.user)
        .filter(user=request.user).select_related("course"),
        "today": today,
    }  # fmt: skip
    return render(request, "staff/my_training.html", context)


@login_required
def team_training(request):
    """Leads: their teams' people; executives and admins: everyone. ``?flagged=1`` keeps the
    people with a required course missing, expired or expiring."""
    _require(request.user, "staff.view_team_training")
    today = timezone.localdate()
    overview = selectors.training_overview(selectors.people_in_scope(request.user), as_of=today)
    flagged_only = request.GET.get("flagged") == "1"
    if flagged_only:
        overview = [row for row in overview if row.flagged]
    records = TrainingRecord.objects.restrict(request.user).select_related(
        "course", "user", "recorded_by"
    )[:50]
    context = {
        "overview": overview,
        "flagged_only": flagged_only,
        "records": records,
        "today": today,
        "may_record": request.user.has_perm("staff.record_training"),
    }
    return render(request, "staff/team_training.html", context)


@login_required
def record_create(request):
    _require(request.user, "staff.record_training")
    people = selectors.people_in_scope(request.user, "change")
    form = TrainingRecordForm(request.POST or None, request.FILES or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.training_record_create(
            user=data["user"], course=data["course"], taken_on=data["taken_on"],
            completed=data["completed"], score=data["score"], certificate=data["certificate"],
            recorded_by=request.user,
        )  # fmt: skip
        messages.success(request, _("Training record saved."))
        return redirect("staff:team_training")
    return render(request, "staff/record_form.html", {"form": form})


@login_required
@require_GET
def certificate(request, training_record_id: int):
    """A certificate, to whoever may see the record; media files are never served directly."""
    record = get_restricted_or_404(request.user, TrainingRecord, "view", pk=training_record_id)
    return stored_file_response(record.certificate)


def _month(query) -> date:
    try:
        return date.fromisoformat(query.get("month", "") + "-01")
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def scorecard(request):
    """The month's incentive scorecard (员工考核): a manager's own row, a lead's teams', all
    for executives and admins; each measure's value and points, NPS and CSAT by manager."""
    _require(request.user, "staff.view_scorecard")
    card = selectors.scorecard(user=request.user, month=_month(request.GET))
    if request.GET.get("export"):
        return _excel(card)
    context = {
        "card": card,
        "measures": [(m, MEASURE_LABELS[m], m in FRACTIONS, card.weights[m], card.targets[m],
                      m in card.lower_is_better) for m in card.measures],
        "month_value": f"{card.month:%Y-%m}",
    }  # fmt: skip
    return render(request, "staff/scorecard.html", context)


def _excel(card: selectors.Scorecard) -> HttpResponse:
    header = [_("Staff member"), _("Team"), _("Score")]
    percent = []
    for m in card.measures:
        if m in FRACTIONS:
            percent.append(len(header))
        header += [
            str(MEASURE_LABELS[m]),
            _("%(measure)s: points") % {"measure": MEASURE_LABELS[m]},
        ]
    header += [_("Survey answers (NPS)"), _("Survey answers (CSAT)")]
    rows = []
    for row in card.rows:
        person = row["person"]
        line = [person.get_full_name() or person.username,
                person.team.name if person.team else "", row["score"]]  # fmt: skip
        for m in card.measures:
            line += [row[m], row[f"{m}_points"]]
        line += [row["nps_responses"], row["csat_responses"]]
        rows.append(line)
    content = workbook(
        title=_("Staff scorecard"), header=header, rows=rows,
        applied=[(_("Month"), f"{card.month:%Y-%m}")], percent_columns=percent,
    )  # fmt: skip
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="fincrm-scorecard-{card.month:%Y-%m}.xlsx"'
    )
    return response
