"""``fincrm train-scorecard``: fit the statistical scorecard on the book's own outcomes."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from fincrm.analytics.scorecard import InsufficientData
from fincrm.core.policy import policy_active, policy_config
from fincrm.risk.hooks import scorecard_train
from fincrm.risk.models import ScorecardModel


class Command(BaseCommand):
    help = (
        "Train the credit scorecard (optimal binning + WoE + logistic regression) on clients "
        "that had a facility one horizon ago; default = 90+ days past due within it. "
        "With too few defaults nothing changes and the expert rule stays in use. With a "
        "scorecard in use the new one is a challenger until a switch is approved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        policy = policy_config(policy_active())
        as_of = options["as_of"] or timezone.localdate()
        # A book with a scorecard in use gets a challenger: a risk officer's switch, approved
        # by a second one on the model governance page, puts it in use.
        first = not ScorecardModel.objects.filter(is_active=True).exists()
        try:
            with transaction.atomic():
                model = scorecard_train(
                    policy=policy, as_of=as_of, seed=options["seed"], activate=first
                )
        except InsufficientData as exc:
            raise CommandError(f"not enough history to train a scorecard: {exc}") from exc
        self.stdout.write(
            f"scorecard {model.pk} trained: {model.n_train} clients, {model.n_defaults} defaults, "
            f"AUC train {model.auc_train:.3f}, hold-out "
            f"{model.auc_holdout if model.auc_holdout is not None else 'n/a'}; "
            + ("in use" if first else "a challenger (switch on the model governance page)")
        )
