"""``get_restricted_or_404``: one object, if the user may act on it; else a 404 exactly like
an object that does not exist."""

import pytest
from django.http import Http404

from fincrm.core.permissions import get_restricted_or_404
from fincrm.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "source",
    [lambda: Customer, lambda: Customer.objects, lambda: Customer.objects.select_related("owner")],
)
def test_it_takes_a_model_a_manager_or_a_queryset(book, users, source):
    mine = book["a_company"]
    assert get_restricted_or_404(users["manager_a"], source(), pk=mine.pk) == mine
    assert get_restricted_or_404(users["manager_a"], source(), "change", pk=mine.pk) == mine
    with pytest.raises(Http404):
        get_restricted_or_404(users["manager_b"], source(), pk=mine.pk)


def test_viewing_is_not_changing(book, users):
    client = book["b_company"]
    assert get_restricted_or_404(users["exec"], Customer, "view", pk=client.pk) == client
    for role in ("exec", "agent", "risk", "outsider", "lead"):
        with pytest.raises(Http404):
            get_restricted_or_404(users[role], Customer, "change", pk=client.pk)
    with pytest.raises(Http404):
        get_restricted_or_404(users["admin"], Customer, pk=10**9)  # absent: the same 404
