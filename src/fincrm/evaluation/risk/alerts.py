"""Early-warning alerts: fire the policy's rules, route each new alert, notify."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.analytics.early_warning import dedupe, evaluate_rules
from fincrm.analytics.policy import PolicyConfig
from fincrm.core.bulk import insert_rows
from fincrm.customers.models import Customer
from fincrm.engagement.choices import NotificationKind
from fincrm.engagement.models import Notification
from fincrm.risk.choices import CLOSED_ALERT_STATUSES
from fincrm.risk.models import Alert
from fincrm.webhooks import events as webhooks

from ..features import fetch_for
from ..tasks import send_alert_emails


def _raise_alerts(
    signals: pl.DataFrame, policy: PolicyConfig, as_of: date, ids: Sequence[int] | None
) -> None:
    """Fire the policy's early-warning rules; each new alert is assigned by the policy's
    routing (:class:`AlertRouter`), notified in-app to the assignee and the owner and e-mailed
    after commit; never twice for the same open alert."""
    rules = policy.early_warning
    fired = evaluate_rules(signals.drop("owner_id"), rules)
    if fired.is_empty():
        return
    horizon = as_of - timedelta(days=max(r.cooldown_days for r in rules))
    # Open alerts and recently closed ones (cool-down) of the run's clients (None: all).
    existing = fetch_for(
        Alert.objects.order_by()
        .filter(~Q(status__in=CLOSED_ALERT_STATUSES) | Q(raised_on__gt=horizon))
        .values_list("customer_id", "rule_code", "signal", "raised_on", "severity", "status"),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "rule_code": pl.String,
            "signal": pl.String,
            "raised_on": pl.Date,
            "severity": pl.String,
            "status": pl.String,
        },
    )
    cooldowns = {r.code: r.cooldown_days for r in rules}
    new = dedupe(fired, existing, as_of, cooldowns)
    now = timezone.now()
    route = AlertRouter(policy, new["customer_id"].unique().to_list())
    rows = [
        (
            row["customer_id"],
            row["rule_code"],
            row["signal"],
            float(row["value"]),
            float(row["threshold"]),
            row["severity"],
            route(row["customer_id"], row["severity"]),
        )
        for row in new.iter_rows(named=True)
    ]
    fields = ["customer_id", "rule_code", "signal", "value", "threshold", "severity"]
    fields += ["assigned_to_id", "raised_on", "raised_at"]
    # The new alerts are read back by id above the last one (raised_at has no index, and
    # the alerts table keeps every alert ever raised); raised_at keeps out the alerts any other
    # transaction inserted meanwhile.
    last_pk = Alert.objects.aggregate(last=Max("pk"))["last"] or 0
    insert_rows(Alert, fields, ((*row, as_of, now) for row in rows))
    notes = []
    for customer_id, rule_code, signal, value, _threshold, severity, assignee in rows:
        data = {"rule": rule_code, "signal": signal, "severity": severity, "value": value}
        recipients = {assignee, route.owners.get(customer_id)} - {None}
        notes.extend(
            (user_id, customer_id, NotificationKind.ALERT, data, now) for user_id in recipients
        )
    insert_rows(Notification, ["recipient_id", "customer_id", "kind", "data", "created_at"], notes)
    raised = list(
        Alert.objects.filter(pk__gt=last_pk, raised_at=now).values(
            "pk", "customer_id", "rule_code", "signal", "value", "threshold", "severity",
            "assigned_to_id", "raised_on",
        )
    )  # fmt: skip
    ids = [a["pk"] for a in raised]
    transaction.on_commit(lambda: send_alert_emails.enqueue(ids))
    webhooks.emit(
        webhooks.Event.ALERT_RAISED,
        [{"alert": a.pop("pk"), "customer": a.pop("customer_id"), **a} for a in raised],
    )


class AlertRouter:
    """Who must act on a new alert: the policy's ``alert_routing`` per severity.

    ``owner``: the client's account manager; ``team_lead``: a lead of the client's team, else
    of the nearest parent team; ``risk_officer``: the active risk officer with the fewest
    open alerts (counting the ones assigned in this run). Anyone missing falls back to the
    owner.
    """

    def __init__(self, policy: PolicyConfig, customer_ids: list[int]):
        from fincrm.accounts.models import Team

        self.routing = policy.alert_routing
        clients = Customer.objects.filter(pk__in=customer_ids).values_list(
            "pk", "owner_id", "team_id"
        )
        self.owners = {pk: owner for pk, owner, _team in clients}
        self.teams = {pk: team for pk, _owner, team in clients}
        self.parents = dict(Team.objects.values_list("pk", "parent_id"))
        self.leads: dict[int, int] = {}
        for user_id, team_id in (
            User.objects.filter(role=Role.TEAM_LEAD, is_active=True)
            .order_by("pk")
            .values_list("pk", "team_id")
        ):
            self.leads.setdefault(team_id, user_id)
        officers = User.objects.filter(role=Role.RISK_OFFICER, is_active=True)
        load = dict(
            Alert.objects.filter(assigned_to__in=officers)
            .exclude(status__in=CLOSED_ALERT_STATUSES)
            .values("assigned_to")
            .annotate(n=Count("pk"))
            .values_list("assigned_to", "n")
        )
        self.officer_load = {pk: load.get(pk, 0) for pk in officers.values_list("pk", flat=True)}

    def __call__(self, customer_id: int, severity: str) -> int | None:
        owner = self.owners.get(customer_id)
        target = self.routing.get(severity, "owner")
        if target == "team_lead":
            team = self.teams.get(customer_id)
            while team is not None:
                if team in self.leads:
                    return self.leads[team]
                team = self.parents.get(team)
        elif target == "risk_officer" and self.officer_load:
            officer = min(self.officer_load, key=lambda pk: (self.officer_load[pk], pk))
            self.officer_load[officer] += 1
            return officer
        return owner
