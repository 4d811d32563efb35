from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from fincrm.customers.models import Contact, Customer
from fincrm.demo.replicate import BOOK, replicate_book
from fincrm.engagement.models import Interaction
from fincrm.financing.models import Facility, Installment, Payment

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_replicated_book_is_whole_copies_with_their_own_ids_and_identifiers():
    call_command(
        "demo-data", customers=40, seed=3, as_of=date(2026, 6, 30), stdout=StringIO(),
        stderr=StringIO(),
    )  # fmt: skip
    before = {m: m.objects.count() for m in BOOK}
    span = Customer.objects.order_by("-pk").values_list("pk", flat=True)[0]  # copy k: + k·span
    assert before[Installment] and before[Payment] and before[Interaction]

    assert replicate_book(3) == 120

    for model, n in before.items():
        assert model.objects.count() == 3 * n, model.__name__
    # Unique identifiers stay unique (the database would refuse otherwise) and each copy's
    # children hang off the same copy's parents: a facility's customer is its application's.
    codes = [c for c in Customer.objects.values_list("credit_code", flat=True) if c]
    assert len(codes) == len(set(codes)) and {c[0] for c in codes} == {"9", "A", "B"}
    assert not Facility.objects.exclude(application__customer_id=F("customer_id")).exists()
    assert (
        not Interaction.objects.exclude(contact__isnull=True)
        .exclude(contact__customer_id=F("customer_id"))
        .exists()
    )
    original = Contact.objects.filter(customer_id__lte=span).count()
    assert Contact.objects.filter(customer_id__gt=2 * span).count() == original
    # Each copy's schedule mirrors the original's.
    first = Installment.objects.filter(facility__customer_id__lte=span).count()
    assert Installment.objects.filter(facility__customer_id__gt=2 * span).count() == first
