"""Admin settings (clause 4.3): the declared data location and the deployment checklist; the
same page refuses staff."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path
from tests.live_server import DATA_LOCATION

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}


def test_admin_sees_data_location_and_checks(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    page.goto(live_server.url + "/admin/settings")
    expect(page.locator("#data-location")).to_have_text(DATA_LOCATION)
    # The test deployment runs on SQLite without a secret: the checklist says so.
    engine_row = page.locator("#check-database_engine")
    expect(engine_row).to_contain_text(tr("en", "settings.status.fail"))
    expect(page.locator("#check-data_location")).to_contain_text(tr("en", "settings.status.pass"))
    expect(page.locator("#check-retention_sweep")).to_be_visible()
    screenshot(page, "settings-en")


def test_staff_cannot_open_settings(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(page, "/applications")
    page.goto(live_server.url + "/admin/settings")
    wait_path(page, "/applications")
    expect(page.locator("#data-location")).to_have_count(0)


def test_settings_screens_in_kazakh(new_page, live_server):
    page = new_page(locale="kk", viewport=PHONE)
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    page.goto(live_server.url + "/admin/settings")
    expect(page.locator("#data-location")).to_have_text(DATA_LOCATION)
    screenshot(page, "settings-kk-phone")
    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(page.locator("#settings-checks")).to_be_visible()
    screenshot(page, "settings-kk-desktop")
