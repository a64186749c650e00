"""Browser tests: the live panel (``tests/live_server.py``) driven by Debian's Chromium.

Without ``/usr/bin/chromium`` the browser tests are skipped with a message saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


#: How long an ``expect`` assertion waits for its condition (Playwright's default is 5 s). The
#: same bound as the pages' actions (``set_default_timeout``): on a busy 2-core machine a first
#: visit to a route once kept the old page on screen past 5 s after the address had changed
#: (tests/browser/test_shell.py, a fresh clone's run). A passing assertion returns as soon as its
#: condition holds, so this costs nothing when the panel is quick.
EXPECT_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def browser(live_server):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _context(browser, viewport, locale: str | None):
    ctx = browser.new_context(viewport=viewport)
    if locale:
        ctx.add_init_script(f"window.localStorage.setItem('dpa_locale', '{locale}')")
    return ctx


@pytest.fixture
def new_page(browser, live_server):
    """Factory: ``new_page(locale=None, viewport=DESKTOP)`` -> a fresh page (own context)."""
    contexts = []

    def make(locale: str | None = None, viewport: dict | None = None):
        ctx = _context(browser, viewport or DESKTOP, locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under artifacts/screenshots/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
