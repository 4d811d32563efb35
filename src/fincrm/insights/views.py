from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.core.classes import Tier
from fincrm.core.excel import workbook
from fincrm.core.policy import segment_names
from fincrm.financing.models import Product

from . import kpis, selectors, services
from .models import Recommendation, RecommendationStatus


def _staff(user) -> None:
    if not (user.is_superuser or user.role in Role.values):
        raise PermissionDenied


@login_required
def dashboard(request):
    _staff(request.user)
    filters = kpis.Filters.from_query(request.GET)
    figures = kpis.dashboard(user=request.user, filters=filters)
    wanted = request.GET.get("export")
    if wanted:
        figure = next((f for f in figures if f.key == wanted), None)
        if figure is None:
            raise Http404
        return _excel(figure, applied=_applied_filters(request.GET, filters))
    context = {
        "figures": figures,
        "filters": filters,
        "charts": {f.key: {"chart": f.chart, "x": f.x, "series": f.series,
                           "labels": dict(f.columns), "rows": f.rows} for f in figures},
        "teams": Team.objects.order_by("name"),
        "managers": User.objects.filter(role__in=[Role.ACCOUNT_MANAGER, Role.TEAM_LEAD])
        .order_by("username"),
        "tiers": Tier.choices,
        "segments": sorted(segment_names().items()),
        "products": Product.objects.order_by("code").values_list("code", "name"),
        "query": request.GET.urlencode(),
    }  # fmt: skip
    return render(request, "insights/dashboard.html", context)


def _applied_filters(query, filters: kpis.Filters) -> list[tuple[str, str]]:
    """The dashboard's filters as the reader chose them, for the top of an export."""
    last_month = date.fromordinal(filters.end.toordinal() - 1)
    applied = [(_("Months"), f"{filters.start:%Y-%m} – {last_month:%Y-%m}")]
    if filters.team:
        team = Team.objects.filter(pk=filters.team).first()
        applied.append((_("Team"), team.name if team else "—"))
    if filters.manager:
        applied.append(
            (_("Account manager"), str(User.objects.filter(pk=filters.manager).first() or "—"))
        )
    if filters.tier:
        applied.append((_("Tier"), str(Tier(filters.tier).label)))
    if filters.segment:
        applied.append((_("Segment"), str(segment_names().get(filters.segment, filters.segment))))
    if filters.product:
        product = Product.objects.filter(code=filters.product).first()
        applied.append((_("Product"), product.name if product else filters.product))
    return applied


def _excel(figure: kpis.Figure, *, applied: list[tuple[str, str]]) -> HttpResponse:
    # Names of clients, products, segments: text, never a formula (excel.workbook).
    content = workbook(
        title=str(figure.title),  # the sheet's tab: the chart's name, never its code
        header=[str(label) for _c, label in figure.columns],
        rows=[[row.get(column) for column, _l in figure.columns] for row in figure.rows],
        applied=applied,
        note=str(figure.note or ""),
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="fincrm-{figure.key}-{stamp}.xlsx"'
    return response


@login_required
def churn_model(request):
    _staff(request.user)
    return render(request, "insights/churn.html", selectors.churn_report())


@login_required
def demand(request):
    """My clients (or my teams') expected to need financing in the next 30 / 60 / 90 days."""
    _staff(request.user)
    context = selectors.demand_list(user=request.user, days=request.GET.get("days", "90"))
    return render(request, "insights/demand.html", context)


@login_required
@require_POST
def recommendation_decide(request, pk: int, decision: str):
    recommendation = get_object_or_404(
        Recommendation.objects.restrict(request.user, "change").select_related(
            "customer", "product"
        ),
        pk=pk,
        status=RecommendationStatus.OPEN,
    )
    if decision == "accept":
        application = services.recommendation_accept(
            recommendation=recommendation, user=request.user
        )
        messages.success(request, _("Application draft created from the recommendation."))
        return redirect("financing:application", pk=application.pk)
    if decision != "dismiss":
        raise Http404
    services.recommendation_dismiss(recommendation=recommendation, user=request.user)
    return redirect(recommendation.customer.get_absolute_url() + "#insights")
