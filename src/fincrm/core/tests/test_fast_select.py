"""FastSelect writes the HTML Django's select templates write, byte for byte."""

import django_filters
import pytest
from django import forms
from django.test import RequestFactory
from django.utils import translation
from django.utils.safestring import mark_safe

from fincrm.core.widgets import FastSelect, with_fast_selects
from fincrm.customers.filtersets import CustomerFilterSet
from fincrm.customers.models import Customer
from fincrm.testing.factories import UserFactory

CASES = [
    ("a", None, {}, [("1", "One"), ("2", "Two & <b>")]),
    ("b", "2", {"id": "id_b", "class": 'x"y', "disabled": True, "data-off": False},
     [("", "---------"), ("1", "One"), ("2", "Two")]),
    ("c", ["1", "4"], {"multiple": True},
     [("G1", [("1", "a"), ("2", "b")]), ("3", "c"), ("G<2>", [(4, 4.5)])]),
    ("d", 3, {"required": True}, [(1, "x"), (3, "y"), (None, "n")]),
    ("e", "s", {"title": mark_safe("<i>safe</i>")}, [("s", mark_safe("<b>safe</b>")), ("t", 7)]),
    ("f", "", {}, []),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "attrs", "choices"), CASES)
def test_same_html_as_django(name, value, attrs, choices):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            django = forms.Select(choices=choices).render(name, value, attrs)
            ours = FastSelect(choices=choices).render(name, value, attrs)
            assert ours == django
            assert type(ours) is type(django)


def test_other_option_templates_go_through_django():
    class Custom(FastSelect):
        option_template_name = "django/forms/widgets/input_option.html"

    class Plain(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    choices = [("1", "One")]
    assert Custom(choices=choices).render("x", "1") == Plain(choices=choices).render("x", "1")


@pytest.mark.django_db
def test_the_client_filter_form_renders_as_before():
    UserFactory(role="account_manager", username="m1")
    request = RequestFactory().get("/customers/")
    request.user = UserFactory(role="admin")
    data = {"industry": "C", "city_tier": "1", "ordering": "-annual_revenue", "q": "x", "owner": ""}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            fast = CustomerFilterSet(data, queryset=Customer.objects.all(), request=request)
            plain = CustomerFilterSet(data, queryset=Customer.objects.all(), request=request)
            plain_form = django_filters.FilterSet.get_form_class(plain)(data)
            assert any(type(f.widget) is FastSelect for f in fast.form.fields.values())
            assert not any(type(f.widget) is FastSelect for f in plain_form.fields.values())
            for name in plain_form.fields:
                assert str(fast.form[name]) == str(plain_form[name]), name


def test_only_plain_selects_are_swapped():
    class Form(forms.Form):
        one = forms.ChoiceField(choices=[("a", "A")])
        many = forms.MultipleChoiceField(choices=[("a", "A")])
        radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)

    with_fast_selects(Form)
    assert type(Form.base_fields["one"].widget) is FastSelect
    assert type(Form.base_fields["many"].widget) is forms.SelectMultiple
    assert type(Form.base_fields["radio"].widget) is forms.RadioSelect
