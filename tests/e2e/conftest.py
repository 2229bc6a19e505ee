"""Browser tests: Python playwright drives the system Chromium against pytest-django's live server.

playwright's sync API runs an event loop in the test thread, which trips Django's
async-unsafe guard for the test's own database calls; the live server thread is unaffected.
"""

import os
from pathlib import Path

import pytest

from tests.requirements import require_program

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct-horse-battery-staple"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser():
    # Package scope: playwright's event loop ends with the browser tests, before other packages run.
    require_program(CHROMIUM, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def page(browser, live_server, transactional_db):
    from django.core.cache import cache

    cache.clear()  # the queue's filter menus are cached per set of queues
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.console_errors = errors
    yield tab
    context.close()


@pytest.fixture
def login(page):
    def sign_in(username, password=PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/review/**")
        return page

    return sign_in


@pytest.fixture
def screenshot(page):
    def take(name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def crm_changes(submit):
    """Pending in the support queue; one approval decides each."""

    def make(count=1):
        return [
            submit(
                action_type="crm.update",
                payload={"customer": f"C-{n}", "email": f"old{n}@example.com", "tags": ["vip"], "credit": 100},
                summary=f"Update the e-mail of customer C-{n}",
                reasoning="The customer asked by phone; the call is recorded.",
                evidence=[{"type": "call", "id": f"CALL-{n}"}],
                expected_impact="One customer record",
            )
            for n in range(1, count + 1)
        ]

    return make
