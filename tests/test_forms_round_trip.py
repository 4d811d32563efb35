"""Saving an edit form untouched changes nothing, for every edit form of the product.

The edit pages are found in the URL conf (every route named ``…edit``); each is opened for
each realistic object below that its URL can name, as every role that may open it, and the
form is posted back as a browser would post it untouched (a date input whose value is not
``yyyy-MM-dd`` posts empty, as does a number input with a comma). The object must be
unchanged. A new edit page is covered without a new test; one whose object is not among
the realistic ones fails below until it is added.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import ManyToManyField
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from fincrm.customers.models import Tag
from fincrm.engagement.models import MessageTemplate
from fincrm.events.models import Event
from fincrm.knowledge.choices import ArticleStatus
from fincrm.testing import factories
from fincrm.testing.html import forms

pytestmark = pytest.mark.django_db

#: Not ours to test here: Django's admin has its own tests.
_SKIP_NAMESPACES = {"admin"}


def _edit_routes(resolver=None, prefix: str = "") -> list[tuple[str, list[str]]]:
    """(url name, its keyword arguments) of every route named ``…edit``."""
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in _SKIP_NAMESPACES:
                continue
            inner = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            routes += _edit_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name and entry.name.endswith("edit"):
            routes.append((prefix + entry.name, list(entry.pattern.converters)))
    return routes


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _realistic_objects(users) -> list:
    """Objects with every field a form shows filled in, dates and decimals included."""
    manager = users["manager_a"]
    big, small = Tag.objects.create(name="重点"), Tag.objects.create(name="新客")
    company = factories.CustomerFactory(
        owner=manager,
        name="苏州恒瑞精密机械有限公司",
        founded_on=date(2011, 1, 31),
        registered_capital=Decimal("12345678.90"),
        annual_revenue=Decimal("52000000.50"),
        employee_count=240,
        email="cfo@hengrui.example.cn",
        address="苏州工业园区星湖街 328 号",
        needs_level="premium",
        risk_appetite="steady",
        source_channel="referral",
    )
    company.tags.set([big, small])
    person = factories.CustomerFactory(
        owner=manager, person=True, name="王建国", birthday=date(1979, 12, 31)
    )
    contact = factories.ContactFactory(
        customer=company,
        name="李晓梅",
        email="li@hengrui.example.cn",
        wechat_id="lixm_88",
        birthday=date(1985, 2, 28),
        preferred_channel="wechat",
        is_key=True,
    )
    statement = factories.StatementFactory(
        customer=company, period_end=date(2025, 12, 31), revenue=Decimal("50000000.25")
    )
    template = MessageTemplate.objects.create(
        occasion="birthday",
        language="zh-hans",
        channel="wechat",
        body="{contact}您好，{manager}祝您生日快乐！",
        provider_code="SMS_2941",
    )
    event = Event.objects.create(
        kind="forum",
        title="2027 年长三角制造业投融资论坛",
        description="行业展望与融资方案交流",
        starts_at=datetime(2027, 1, 31, 14, 30, tzinfo=SHANGHAI),
        ends_at=datetime(2027, 1, 31, 17, 0, tzinfo=SHANGHAI),
        place="苏州金鸡湖国际会议中心 3 楼",
        capacity=120,
        audience={"tiers": ["core", "key"]},
        channel="sms",
        organiser=manager,
    )
    article = factories.ArticleFactory(
        author=manager,
        status=ArticleStatus.DRAFT,
        published_at=None,
        title="2026年三季度制造业景气简报",
        summary="采购经理指数回升至 50.8%。",
    )
    return [company, person, contact, statement, template, event, article]


def _state(obj) -> dict:
    """Every stored value of ``obj`` a person could change, many-to-many included."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    state = {}
    for f in fresh._meta.get_fields():
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, ManyToManyField):
            state[f.name] = sorted(getattr(fresh, f.name).values_list("pk", flat=True))
        elif getattr(f, "concrete", False) and not f.auto_created:
            state[f.attname] = getattr(fresh, f.attname)
    return state


def _kwargs(names: list[str], obj) -> dict:
    values = {
        "pk": obj.pk,
        "customer_pk": getattr(obj, "customer_id", None) or obj.pk,
        f"{obj._meta.model_name}_id": obj.pk,  # e.g. knowledge's article_id
    }
    return {name: values[name] for name in names if name in values}


def _edits(client, users, objects):
    """(url name, object, role) of every edit page that opened for an object."""
    for name, params in _edit_routes():
        for obj in objects:
            try:
                url = reverse(name, kwargs=_kwargs(params, obj))
            except NoReverseMatch:
                continue
            for role, user in users.items():
                client.force_login(user)
                response = client.get(url)
                form = (response.context or {}).get("form") if response.status_code == 200 else None
                # A model form's instance, else (a plain form) the object the page names.
                instance = getattr(form, "instance", None) or (response.context or {}).get(
                    obj._meta.model_name
                )
                if type(instance) is type(obj) and instance.pk == obj.pk:
                    yield name, obj, role, url, response


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_saving_an_untouched_edit_form_changes_nothing(client, users, language):
    objects = _realistic_objects(users)
    client.cookies["django_language"] = language
    seen: set[str] = set()
    for name, obj, role, url, page in _edits(client, users, objects):
        html = page.content.decode()
        own = [f for f in forms(html) if f.method == "post" and f.action in ("", url)]
        if not own:
            continue  # shown read-only to this role
        [form] = own
        before = _state(obj)
        response = client.post(url, form.data())
        assert _state(obj) == before, (name, type(obj).__name__, role)
        if response.status_code == 403:
            continue  # a role that may read the page but not save it
        assert response.status_code in (302, 303), (name, role, response.context["form"].errors)
        seen.add(name)
    routes = {name for name, _params in _edit_routes()}
    assert routes, "no edit page found"
    assert seen == routes, f"edit pages without a realistic object: {routes - seen}"


def test_a_date_input_shows_its_value_in_the_format_browsers_accept(client, users):
    company = _realistic_objects(users)[0]
    client.force_login(users["manager_a"])
    url = reverse("customers:edit", args=[company.pk])
    [form] = [f for f in forms(client.get(url).content.decode()) if f.action in ("", url)]
    assert ("founded_on", "2011-01-31") in form.fields
    assert ("registered_capital", "12345678.90") in form.fields
