"""The notification bell in a browser: the top bar loads its count after the page, the
dropdown lists the latest notification, and opening it marks it read."""

import pytest

from fincrm.engagement.models import Notification
from fincrm.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_bell_counts_lists_and_marks_a_notification_read(page, log_in, users, book):
    customer = book["a_company"]
    note = Notification.objects.create(recipient=users["manager_a"], customer=customer,
                                       kind="task", message="补充财务报表")  # fmt: skip
    log_in("manager_a", PASSWORD)
    page.wait_for_selector("#bell-total")
    assert page.locator("#bell-total").inner_text() == "1"
    assert page.locator("#notifications").get_by_text("补充财务报表").count() == 1  # the workbench
    page.click("#bell summary")
    page.locator(".bell-latest").get_by_text("补充财务报表").click()
    page.wait_for_url(page.base_url + customer.get_absolute_url())
    note.refresh_from_db()
    assert note.read_at is not None
    page.wait_for_selector("#bell details.bell-menu")  # the bell loaded on the new page
    assert page.locator("#bell-total").count() == 0  # nothing left: no count shown
