"""The board's dashboard: anonymised charts at desktop and phone width, a filter, a download."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORD = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}["board"]


@pytest.mark.parametrize("locale", ["kk", "ru"])
@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_board_dashboard_screens(new_page, live_server, locale, width, viewport):
    page = new_page(locale=locale, viewport=viewport)
    log_in(page, live_server.url, "board", PASSWORD)
    wait_path(page, "/statistics")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(locale, "stats.title"))
    expect(
        page.locator("#chart-applications_per_month .recharts-bar-rectangle").first
    ).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"dashboard overflows sideways by {overflow}px"
    screenshot(page, f"statistics-{locale}-{width}")


def test_filter_and_download_table(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "board", PASSWORD)
    wait_path(page, "/statistics")
    page.select_option("#stats-year", "2026")
    page.select_option("#stats-quarter", "1")
    page.click("#stats-apply")
    expect(page.locator("#chart-applications_per_month")).to_contain_text("2026")
    with page.expect_download() as info:
        page.click("#csv-members_by_education_level")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert rows[0][0] == "category"
    cells = [c for row in rows[1:] for c in row[1:]]
    assert all(c.isdigit() or c.startswith("<") for c in cells), cells
