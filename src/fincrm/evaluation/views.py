from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import selectors, services
from .forms import PolicyForm
from .models import PolicyVersion
from .programmes import strategy_table


def _value_inputs(policy) -> list[dict]:
    """The active policy's value inputs by sub-score, with their labels and sources."""
    from fincrm.analytics.tiering import value_inputs

    from .choices import SUB_SCORE_LABELS, VALUE_INPUT_LABELS

    return [
        {**row, "sub_label": SUB_SCORE_LABELS[row["sub_score"]],
         "label": VALUE_INPUT_LABELS[row["input"]][0],
         "source": VALUE_INPUT_LABELS[row["input"]][1]}
        for row in value_inputs(policy)
    ]  # fmt: skip


@login_required
def policy_edit(request):
    """Edit the policy: check it, preview how many clients would change tier, then publish."""
    if not request.user.has_perm("evaluation.change_policyversion"):
        raise PermissionDenied
    active = services.policy_active()
    preview = None
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            if "publish" in request.POST:
                try:
                    version = services.policy_publish(
                        config=form.cleaned_data["config"],
                        user=request.user,
                        note=form.cleaned_data["note"],
                    )
                except ValidationError as exc:
                    form.add_error("config", exc)
                else:
                    messages.success(
                        request,
                        _("Policy v%(n)s is now active. It applies from the next evaluation run.")
                        % {"n": version.number},
                    )
                    return redirect("evaluation:policy")
            else:
                preview = services.policy_preview(config=form.cleaned_data["config"])
    else:
        form = PolicyForm(
            initial={"config": json.dumps(active.config, indent=2, ensure_ascii=False)}
        )
    context = {
        "form": form,
        "active": active,
        "inputs": _value_inputs(services.policy_config(active)),
        "strategies": strategy_table(services.policy_config(active)),
        "preview": preview,
        "versions": PolicyVersion.objects.select_related("created_by")[:20],
    }
    return render(request, "evaluation/policy.html", context)


@login_required
def segments(request):
    return render(
        request,
        "evaluation/segments.html",
        {
            "overview": selectors.segment_overview(user=request.user),
            "tiers": selectors.tier_counts(user=request.user),
        },
    )


@login_required
def runs(request):
    """Evaluation runs and the tier migration matrix between two of them."""
    done = list(selectors.runs_for_matrix()[:50])
    by_id = {run.pk: run for run in done}

    def pick(name: str, default):
        raw = request.GET.get(name)
        if not raw:
            return default
        try:
            return by_id[int(raw)]
        except (ValueError, KeyError):
            raise Http404 from None

    after = pick("after", done[0] if done else None)
    before = pick("before", done[1] if len(done) > 1 else None)
    matrix = None
    if before is not None and after is not None:
        matrix = selectors.tier_migration(user=request.user, before=before, after=after)
    return render(
        request,
        "evaluation/runs.html",
        {
            "runs": selectors.run_list()[:30],
            "done": done,
            "before": before,
            "after": after,
            "matrix": matrix,
            "can_see_errors": request.user.has_perm("evaluation.change_policyversion"),
        },
    )
