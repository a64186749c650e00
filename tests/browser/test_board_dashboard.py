"""The board's statistics release page and the compliance preview (issue 14): which release,
when published, k, the "hidden" mark explained, every table column visible at desktop and
phone width, a release download listing every cell."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORD = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}


def _nothing_cut_off(page, selector: str) -> list[str]:
    """Elements matching ``selector`` that are visible but narrower than their content."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.className)""",
        selector,
    )


@pytest.mark.parametrize("locale", ["kk", "ru"])
@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_board_release_page(new_page, live_server, locale, width, viewport):
    page = new_page(locale=locale, viewport=viewport)
    log_in(page, live_server.url, "board", PASSWORD["board"])
    wait_path(page, "/statistics")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(locale, "stats.title"))
    expect(page.locator("#stats-release-period")).to_have_text(
        re.compile(r"^\d{4}-\d{2}$")
    )
    expect(page.locator("#stats-k")).to_have_text("5")
    expect(page.locator("#stats-hidden-note")).to_contain_text(tr(locale, "stats_rel.hidden_mark"))
    kind = ".stats-table" if width == "desktop" else ".stats-rows"
    expect(page.locator(kind).first).to_be_visible()
    # The 60-subject demo hides most monthly cells: the mark is shown, and charts draw no
    # zero-height bar for them (a hidden value is a gap).
    expect(page.locator(f"#chart-applications {kind}")).to_contain_text(
        tr(locale, "stats_rel.hidden_mark")
    )
    heights = page.evaluate(
        """() => [...document.querySelectorAll('.recharts-bar-rectangle path')]
            .map(p => p.getBoundingClientRect().height)"""
    )
    assert all(h > 0 for h in heights), heights
    assert not _nothing_cut_off(page, f"{kind}, [id^=chart-]")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page overflows sideways by {overflow}px"
    # The demo's small association hides cells: the mark is shown, never "<5".
    body = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text(
        "body")  # fmt: skip
    assert "<5" not in body
    screenshot(page, f"statistics-release-{locale}-{width}")
    # Years: the demo's year tables are large enough to be shown, and drawn.
    page.select_option("#stats-scope", "year")
    page.click("#stats-apply")
    expect(page.locator("#chart-applications .recharts-bar-rectangle").first).to_be_visible()
    assert not _nothing_cut_off(page, f"{kind}, [id^=chart-]")
    screenshot(page, f"statistics-release-{locale}-{width}-years")


def test_choose_release_scope_and_download(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "board", PASSWORD["board"])
    wait_path(page, "/statistics")
    expect(page.locator("#stats-release-period")).to_have_text(re.compile(r"^\d{4}-\d{2}$"))
    options = page.eval_on_selector_all("#stats-release option", "els => els.map(e => e.text)")
    assert len(options) >= 2
    page.select_option("#stats-release", label=options[-1])
    page.select_option("#stats-scope", "quarter")
    page.click("#stats-apply")
    expect(page.locator("#stats-release-period")).to_have_text(options[-1])
    expect(page.locator("#chart-applications")).to_contain_text("-Q")
    with page.expect_download() as info:
        page.click("#stats-download-json")
    document = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert document["release"]["period"] == options[-1]
    assert document["cells"] and all((c["value"] is None) == c["hidden"]
                                     for c in document["cells"])  # fmt: skip
    expect(page.locator("#stats-preview-link")).to_have_count(0)


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_compliance_preview(new_page, live_server, width, viewport):
    page = new_page(locale="kk", viewport=viewport)
    log_in(page, live_server.url, "compliance", PASSWORD["compliance"])
    wait_path(page, "/requests")
    page.goto(live_server.url + "/statistics")
    page.click("#stats-preview-link")
    wait_path(page, "/statistics/preview")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("kk", "stats_rel.preview_title"))
    expect(page.locator("#preview-period")).to_have_text(re.compile(r"^\d{4}-\d{2}$"))
    expect(page.locator("#preview-hidden")).to_contain_text(tr("kk", "stats_rel.reason_primary"))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"preview overflows sideways by {overflow}px"
    screenshot(page, f"statistics-preview-kk-{width}")
