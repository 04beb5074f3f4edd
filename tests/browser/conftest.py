"""Browser tests: Playwright's sync client driving Debian's Chromium against ``live_server``.

xdist-safe: each worker gets its own live server on a free port, its own test database and its
own browser process; screenshots are named per test, so workers never write the same file.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "pass-1234-word"  # what UserFactory gives everyone


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Browser:
    from django.db import connections
    from django.urls import get_resolver

    # Import the URLconf (and with it the whole API's schemas) once, before the first page load
    # rather than inside it, where it would eat into the navigation timeout.
    get_resolver().resolve("/login/")
    before = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        # Playwright's sync API leaves its event loop registered as running on this thread, so
        # asgiref's Local (Django's connection registry) switches from thread-local to
        # context-local storage and would hand the tests a second connection: one without the
        # serialized reference data and not the one the live server thread shares. Keep one.
        for alias, connection in before.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The organisation has 14 users; a fast hasher keeps the tests about the pages."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Session:
    """One person's browser: log in, visit pages, take screenshots at desktop and phone width."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.context: BrowserContext = browser.new_context(
            viewport=DESKTOP, base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.context.set_default_timeout(20_000)
        self.page: Page = self.context.new_page()

    def login(self, username: str) -> Page:
        page = self.page
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/login/'] button[type=submit]")
        page.wait_for_url(f"{self.base_url}/")
        return page

    def screenshot(self, name: str) -> None:
        """``name``-desktop.png of the current page, and ``name``-phone.png at 375×812."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
        phone = self.browser.new_context(
            viewport=PHONE,
            base_url=self.base_url,
            storage_state=self.context.storage_state(),
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        try:
            page = phone.new_page()
            page.goto(self.page.url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        finally:
            phone.close()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session_for(browser, live_server):
    """``session_for("rep_a1")`` → a logged-in browser session for that user."""
    sessions: list[Session] = []

    def open_session(username: str) -> Session:
        session = Session(browser, live_server.url)
        session.login(username)
        sessions.append(session)
        return session

    yield open_session
    for session in sessions:
        session.close()
