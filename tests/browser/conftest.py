"""Playwright driving Debian's Chromium (no browser download: the machine has no internet)."""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("FINCRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("FINCRM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} and FINCRM_REQUIRE_BROWSER=1")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def log_in(page):
    def _log_in(username: str, password: str):
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(page.base_url + "/")

    return _log_in


@pytest.fixture
def log_out(page):
    """End the session as closing the tab would: leave the page first, so that nothing it
    still loads (the bell, htmx partials) goes out after the cookies are gone, then clear
    them. Clearing the cookies under an open page let its bell request reach the server
    without a session, and the login page it was sent to set a new CSRF cookie under the
    login form the test had just opened (a CI run's login timed out on that race)."""

    def _log_out():
        page.goto("about:blank")
        page.context.clear_cookies()

    return _log_out


@pytest.fixture
def demo_book(clock):
    """A small demo book (its named users, 40 clients, applications at every stage, alerts,
    tasks, tickets, surveys, a portal client) after a full evaluation run, as of the fixed
    day; the users log in with ``fincrm.demo.generator.demo_password``."""
    from io import StringIO

    from django.core.management import call_command

    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    call_command("demo-data", customers=40, seed=3, reset=True, **quiet)
    call_command("evaluate", full=True, **quiet)


@pytest.fixture
def log_in_demo(page):
    """Log a demo user in (staff at /accounts/login/, the portal client at /portal/login/)."""
    from fincrm.demo.generator import PORTAL_USERNAME, demo_password

    def _log_in(username: str) -> None:
        portal = username == PORTAL_USERNAME
        page.goto(page.base_url + ("/portal/login/" if portal else "/accounts/login/"))
        page.fill("#id_username", username)
        page.fill("#id_password", demo_password(username))
        page.click("button[type=submit]")
        page.wait_for_url(page.base_url + ("/portal/" if portal else "/"))

    return _log_in
