"""Customer's own get_FOO_display for the list's choice columns answers what Django's does."""

from django.db import models
from django.utils import translation

from fincrm.customers.choices import CityTier, ClientType, Industry
from fincrm.customers.models import Customer

FIELDS = {"industry": Industry, "client_type": ClientType, "city_tier": CityTier}


def test_same_labels_as_django_in_both_languages():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for name, choices in FIELDS.items():
                field = Customer._meta.get_field(name)
                for value in [*choices.values, "no-such-value", ""]:
                    customer = Customer(**{name: value})
                    ours = getattr(customer, f"get_{name}_display")()
                    django = models.Model._get_FIELD_display(customer, field)
                    assert ours == django, (language, name, value)
                    assert type(ours) is type(django)


def test_label_follows_the_active_language():
    customer = Customer(industry=Industry.choices[0][0])
    with translation.override("en"):
        english = customer.get_industry_display()
    with translation.override("zh-hans"):
        chinese = customer.get_industry_display()
    assert english != chinese
