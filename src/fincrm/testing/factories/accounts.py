"""Factories for accounts (teams, users, saved views) and the rows that hang off a user."""

from __future__ import annotations

import hashlib

import factory

from fincrm.accounts.choices import Role
from fincrm.accounts.models import SavedView, Team, User
from fincrm.api.models import ApiToken

PASSWORD = "Fincrm-test-pass-42"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"团队{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ACCOUNT_MANAGER
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    owner = factory.SubFactory(UserFactory)
    path = "/customers/"
    name = factory.Sequence(lambda n: f"我的客户{n}")
    query = "tier=core"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; its plain key is never known (use ``ApiToken.issue`` when a test calls
    the API with it)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"集成{n}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    key_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())
