"""Every project model has a factory, and each factory saves a row that passes full_clean().

Issue 20, point 4. A new model without a factory in ``fincrm.testing.factories`` fails here
with its name, so the factories keep up with the schema.
"""

from __future__ import annotations

import factory
import pytest
from django.apps import apps

from fincrm.testing import factories


def project_models() -> list[type]:
    """The concrete models of the ``fincrm.*`` apps: not simple_history's Historical* models
    (generated from ours), and django-tasks' models live outside ``fincrm``."""
    return sorted(
        (
            model
            for model in apps.get_models()
            if model.__module__.startswith("fincrm.")
            and not model._meta.proxy
            and not model._meta.abstract
            and not _is_history(model)
        ),
        key=lambda model: model._meta.label,
    )


def _is_history(model: type) -> bool:
    # simple_history builds Historical<Model> in the app's models module with this attribute.
    return hasattr(model, "instance_type") and model.__name__.startswith("Historical")


def factories_by_model() -> dict[type, type[factory.django.DjangoModelFactory]]:
    found: dict[type, type[factory.django.DjangoModelFactory]] = {}
    for name in dir(factories):
        value = getattr(factories, name)
        if (
            isinstance(value, type)
            and issubclass(value, factory.django.DjangoModelFactory)
            and not name.startswith("_")
            and value._meta.model is not None
        ):
            found.setdefault(value._meta.model, value)
    return found


def test_the_project_models_are_found_without_history_or_task_models():
    labels = {model._meta.label for model in project_models()}
    assert {"customers.Customer", "financing.Facility", "accounts.User"} <= labels
    assert not [label for label in labels if ".Historical" in label]
    assert not [label for label in labels if label.startswith("django_tasks")]


def test_every_project_model_has_a_factory():
    have = factories_by_model()
    missing = [model._meta.label for model in project_models() if model not in have]
    assert not missing, f"no factory in fincrm.testing.factories for: {', '.join(missing)}"


@pytest.mark.parametrize("model", project_models(), ids=lambda model: model._meta.label)
def test_the_factory_saves_a_valid_row(db, model):
    maker = factories_by_model().get(model)
    if maker is None:
        pytest.skip(f"no factory for {model._meta.label}: test_every_project_model_has_a_factory")
    row = maker()
    assert row.pk is not None
    stored = model._default_manager.get(pk=row.pk)
    stored.full_clean()
    # A second row from the same factory is valid too (sequences keep unique fields apart).
    maker().full_clean()
