"""The policy store: every app reads the active policy here (DESIGN.md, layer 0).

The policy's schema and defaults are pure (``fincrm.analytics.policy``); its versions are rows
of ``evaluation.PolicyVersion``, published and previewed by the evaluation app that owns the
editing page. Reading is what every app needs — lending's authority and pricing, care,
messaging caps, loyalty, surveys — so it lives at the bottom, and the model is found by its
label, as Django finds the user model, not by an import: no app imports ``evaluation`` to read
a setting.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction

from fincrm.analytics.policy import PolicyConfig, default_policy

#: Where the versions are stored (app label and model name).
POLICY_MODEL = "evaluation.PolicyVersion"


def policy_model() -> Any:
    return apps.get_model(POLICY_MODEL)


def policy_active() -> Any:
    """The active policy version; the default shipped in code becomes v1 on first use."""
    model = policy_model()
    version = model.objects.filter(is_active=True).first()
    if version is not None:
        return version
    with transaction.atomic():
        version, _created = model.objects.get_or_create(
            number=1,
            defaults={
                "config": default_policy().model_dump(mode="json"),
                "is_active": True,
                "note": "default policy shipped with fincrm",
            },
        )
    return version


def policy_config(version: Any) -> PolicyConfig:
    """The validated configuration of a stored version."""
    return PolicyConfig.model_validate(version.config)


def policy_current() -> tuple[PolicyConfig, int]:
    """The active policy and its version number, in one read."""
    version = policy_active()
    return policy_config(version), version.number


def segment_names() -> dict[str, str]:
    """Segment code → name in the reader's language, from the active policy."""
    from django.utils.translation import get_language

    policy, _number = policy_current()
    chinese = (get_language() or "").startswith("zh")
    return {rule.code: rule.name_zh if chinese else rule.name_en for rule in policy.segments}


def green_channel_tiers() -> list[str]:
    """Tiers whose service plan grants green-channel approval (their applications go first)."""
    policy, _number = policy_current()
    return [tier for tier, plan in policy.service_plans.items() if plan.green_channel]
