"""The shell: Kazakh by default, language switch remembered, the policy in three languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dpa_panel.i18n import tr
from dpa_panel.services.policy_texts import load_edition, text_sha256
from tests.browser.conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def test_home_is_kazakh_by_default_and_has_login_entry(new_page, live_server):
    page = new_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("kk", "home.title"))
    expect(page.locator("#home-login")).to_be_visible()
    expect(page.locator("#home-login")).to_have_attribute("href", "/login")
    expect(page.locator("#nav-privacy")).to_have_text(tr("kk", "nav.privacy"))


def test_language_switch_is_remembered(new_page, live_server):
    page = new_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("kk", "home.title"))
    page.locator("#locale-switcher").click()
    page.get_by_role("option", name=tr("ru", "locale.ru")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("ru", "home.title"))
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("ru", "home.title"))
    page.locator("#locale-switcher").click()
    page.get_by_role("option", name=tr("en", "locale.en")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("en", "home.title"))


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_privacy_policy_in_each_language(new_page, live_server, locale):
    page = new_page(locale=locale)
    # Edition v1 by label: another test adds a newer edition, which then is the one in force.
    page.goto(live_server.url + "/privacy?v=v1")
    edition = load_edition("v1")
    first_line = edition.texts[locale].splitlines()[0].strip()
    expect(page.locator("#policy-text")).to_contain_text(first_line)
    expect(page.locator("#policy-text")).to_contain_text("4.4.")
    expect(page.get_by_text(text_sha256(edition.texts[locale]))).to_be_visible()
    if locale != "kk":
        expect(page.get_by_text(tr(locale, "privacy.translation_note"))).to_be_visible()


def test_unknown_edition_says_so(new_page, live_server):
    page = new_page(locale="en")
    page.goto(live_server.url + "/privacy?v=v99")
    expect(page.get_by_text(tr("en", "privacy.not_found"))).to_be_visible()


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
@pytest.mark.parametrize(("width_name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_the_shell(new_page, live_server, locale, width_name, viewport):
    page = new_page(locale=locale, viewport=viewport)
    for route, name in (("/", "home"), ("/privacy", "privacy")):
        page.goto(live_server.url + route)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # Nothing overflows sideways on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{route} overflows by {overflow}px at {viewport['width']}px"
        screenshot(page, f"{name}-{locale}-{width_name}")
