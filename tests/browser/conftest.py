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


@pytest.fixture(scope="session")
def browser(live_server):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

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
