"""The notification bell (issue 19, point 5): counts of the user's unread notifications and of
the open items waiting for them, exact on a small book, in a fixed number of queries, cached;
the dropdown's links; marking one or all read, only the user's own."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.engagement.models import Notification, Task
from fincrm.financing.models import ApprovalVote
from fincrm.risk.models import Alert
from fincrm.service.models import Ticket
from fincrm.testing.factories import ApplicationFactory
from fincrm.web.bell import bell_counts, bell_for

pytestmark = pytest.mark.django_db


def _note(user, customer, message, *, read=False, **data):
    return Notification.objects.create(
        recipient=user, customer=customer, kind="task", message=message, data=data,
        read_at=timezone.now() if read else None,
    )  # fmt: skip


def _ticket(customer, *, resolve_in_hours, status="open"):
    now = timezone.now()
    return Ticket.objects.create(
        customer=customer, channel="phone", subject="手续费", description="多收",
        category="fees", status=status, opened_at=now - timedelta(hours=30),
        respond_by=now + timedelta(hours=resolve_in_hours),
        resolve_by=now + timedelta(hours=resolve_in_hours),
    )  # fmt: skip


def _items(n_extra: int, book, users):
    """The small book: n_extra more of every row, to show the query count does not grow."""
    today = timezone.localdate()
    a, _b = users["manager_a"], users["manager_b"]
    for i in range(1 + n_extra):
        _note(a, book["a_company"], f"申请待补资料{i}", application=1)
        Task.objects.create(customer=book["a_company"], owner=a, kind="follow_up",
                            title="回访", due_on=today - timedelta(days=1))  # fmt: skip
        Alert.objects.create(customer=book["a_company"], rule_code="dpd_30", signal="current_dpd",
                             value=31, threshold=30, severity="high", raised_on=today,
                             assigned_to=a)  # fmt: skip
        ApplicationFactory(customer=book["b_company"], stage="credit_review")
        _ticket(book["b_company"], resolve_in_hours=-2)


@pytest.fixture
def bell_book(book, users, clock):
    today = timezone.localdate()
    a, b, risk = users["manager_a"], users["manager_b"], users["risk"]
    notes = {
        "new": _note(a, book["a_company"], "新的预警", ticket=None),
        "newer": _note(a, book["a_person"], "续贷申请已提交", application=12),
        "read": _note(a, book["a_company"], "旧消息", read=True),
        "others": _note(b, book["b_company"], "别人的"),
    }
    task = dict(customer=book["a_company"], kind="follow_up", title="回访")
    Task.objects.create(owner=a, due_on=today - timedelta(days=3), **task)
    Task.objects.create(owner=a, due_on=today, **task)
    Task.objects.create(owner=a, due_on=today, **task)
    Task.objects.create(owner=a, due_on=today + timedelta(days=1), **task)  # not yet
    Task.objects.create(owner=a, due_on=today, status="done", **task)  # done
    Task.objects.create(owner=b, due_on=today, **task)  # someone else's
    alert = dict(rule_code="dpd_30", signal="current_dpd", value=31, threshold=30,
                 severity="high", raised_on=today)  # fmt: skip
    Alert.objects.create(customer=book["a_company"], assigned_to=a, **alert)
    Alert.objects.create(customer=book["a_company"], assigned_to=a, status="resolved", **alert)
    Alert.objects.create(customer=book["b_company"], assigned_to=b, **alert)
    # Credit review: two wait for the risk officer; one it approved, one it submitted, one
    # is not at credit review, one is over 10m (a risk officer and an executive together).
    waiting = [ApplicationFactory(customer=book["a_company"], stage="credit_review"),
               ApplicationFactory(customer=book["b_company"], stage="credit_review")]  # fmt: skip
    voted = ApplicationFactory(customer=book["b_person"], stage="credit_review")
    ApprovalVote.objects.create(application=voted, user=risk, role="risk", vote="approve")
    ApplicationFactory(customer=book["b_person"], stage="credit_review", submitted_by=risk)
    ApplicationFactory(customer=book["a_person"], stage="documents")
    big = ApplicationFactory(customer=book["b_company"], stage="credit_review", amount=20_000_000)
    # Complaints: one past its deadline, one in time, one closed after its deadline.
    _ticket(book["a_company"], resolve_in_hours=-3)
    _ticket(book["a_company"], resolve_in_hours=20)
    _ticket(book["b_company"], resolve_in_hours=-5, status="closed")
    return {"notes": notes, "waiting": waiting, "big": big}


def test_a_managers_bell_counts_exactly_what_waits_for_them(bell_book, users):
    found = bell_counts(users["manager_a"])
    assert found["counts"] == {"notifications": 2, "tasks_overdue": 1, "tasks_today": 2,
                               "alerts": 1}  # fmt: skip
    # Newest first; a notification about an application leads to it, else to the client.
    assert [n["id"] for n in found["latest"]] == [bell_book["notes"]["newer"].pk,
                                                  bell_book["notes"]["new"].pk]  # fmt: skip
    assert found["latest"][0]["link"] == reverse("financing:application", args=[12])
    assert found["latest"][1]["link"] == bell_book["notes"]["new"].customer.get_absolute_url()


def test_approvals_wait_for_the_roles_whose_authority_covers_them(bell_book, book, users):
    # The risk officer: the two at credit review within 10m (its rule alone) and the big one
    # (the committee rule: risk and exec); not the one it approved, nor its own submission.
    assert bell_counts(users["risk"])["counts"]["approvals"] == 3
    # The executive sits on the committee only, for any amount: every one at credit review
    # but the one whose submitter ... is the risk officer (maker-checker binds the submitter).
    assert bell_counts(users["exec"])["counts"]["approvals"] == 5
    # A lead approves up to 1m, grade BBB or better, own teams: none here (no grade).
    assert bell_counts(users["lead"])["counts"]["approvals"] == 0
    assert "approvals" not in bell_counts(users["manager_a"])["counts"]  # no authority


def test_an_agents_bell_counts_complaints_past_their_sla(bell_book, users):
    counts = bell_counts(users["agent"])["counts"]
    assert counts["complaints_breached"] == 1 and "alerts" not in counts


@pytest.mark.parametrize(
    ("role", "queries"),
    [("manager_a", 5), ("lead", 12), ("risk", 6), ("agent", 5), ("exec", 6)],
)
def test_the_bell_costs_a_fixed_number_of_queries(
    role, queries, book, users, clock, django_assert_num_queries
):
    from fincrm.evaluation.services import policy_active

    policy_active()  # the policy row exists, as it does after the first run
    _items(0, book, users)
    with django_assert_num_queries(queries):
        bell_counts(users[role])
    _items(5, book, users)  # six times the rows: the same queries
    with django_assert_num_queries(queries):
        bell_counts(users[role])


def test_the_bell_is_cached_and_forgotten_when_notifications_are_read(
    bell_book, users, login, django_assert_num_queries
):
    manager = users["manager_a"]
    assert bell_for(manager)["total"] == 2 + 1 + 2 + 1
    with django_assert_num_queries(0):
        assert bell_for(manager)["total"] == 6
    client = login(manager)
    note = bell_book["notes"]["new"]
    response = client.post(reverse("notification_read", args=[note.pk]),
                           {"next": note.customer.get_absolute_url()})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == note.customer.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None
    assert bell_for(manager)["total"] == 5  # the cache forgot the old count


def test_marking_read_touches_only_the_users_own_notifications(bell_book, users, login):
    others = bell_book["notes"]["others"]
    client = login(users["manager_a"])
    assert client.post(reverse("notification_read", args=[others.pk])).status_code == 404
    assert client.post(reverse("notifications_read"), {"next": "/customers/"})["Location"] == (
        "/customers/"
    )
    assert not Notification.objects.filter(recipient=users["manager_a"], read_at=None).exists()
    others.refresh_from_db()
    assert others.read_at is None  # manager_b's stays unread
    assert (
        login(users["admin"]).post(reverse("notification_read", args=[others.pk])).status_code
        == 404
    )
    assert client.get(reverse("notifications_read")).status_code == 405


def test_the_bell_and_the_notifications_page_in_chinese(bell_book, users, login):
    client = login(users["manager_a"])
    html = client.get(reverse("notification_bell")).content.decode()
    assert "未读通知" in html and "今日到期任务" in html and "分配给我的预警" in html
    assert 'id="bell-total">6<' in html
    assert "续贷申请已提交" in html and "别人的" not in html and "旧消息" not in html
    assert reverse("financing:application", args=[12]) in html
    page = client.get(reverse("notifications")).content.decode()
    assert "续贷申请已提交" in page and "旧消息" in page and "别人的" not in page
    assert 'hx-get="/notifications/bell/' in page  # the top bar loads the bell
    assert client.get(reverse("notification_bell")).status_code == 200
    client.logout()
    assert client.get(reverse("notification_bell")).status_code == 302


def test_a_bell_loaded_after_the_session_ended_sends_the_page_to_the_login_form(client):
    """htmx asks for the bell of /risk/portfolio/ without a session: no login page inside the
    request (it would set a new CSRF cookie under the login form open in the tab), but 204 and
    HX-Redirect to the login page for the page the user was on, whatever host the header names."""
    response = client.get(
        reverse("notification_bell"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://evil.example/risk/portfolio/?tab=classes",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/risk/portfolio/%3Ftab%3Dclasses"
    assert "csrftoken" not in response.cookies
    # Without htmx the login redirect is unchanged.
    plain = client.get(reverse("notification_bell"))
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/")
