"""Issue 18 (point 5, part of 6) in the browser: the question naming its target before the
irreversible (cancel focused, cancel changes nothing), the readable sweep preview, the legal
hold by search, and the board at 1280 px and 390 px. Screenshots go to /tmp/confirm-shots."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.models.vocab import APPLICATION_STATUSES
from dpa_panel.services import accounts, requests
from dpa_panel.services.audit import Actor
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}
SHOTS = Path("/tmp/confirm-shots")


def _shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    screenshot(page, f"confirm-{name}")


def _engine(live_server):
    return make_engine(live_server.db_url)


def test_deactivate_asks_naming_the_account_and_cancel_changes_nothing(new_page, live_server):
    engine = _engine(live_server)
    with Session(engine) as s:
        accounts.create_account(
            s, Actor.system(), username="tempclerk", full_name="Temp Clerk", role="compliance",
            password="Tamgaly-Tas-Demo-2026!", must_change_password=False,
        )  # fmt: skip
        s.commit()

    page = new_page(locale="en")
    log_in(page, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    row = page.locator("#account-tempclerk")
    # One's own account offers no deactivation and no role choice.
    expect(page.locator("#account-admin #deactivate-admin")).to_have_count(0)
    expect(page.locator("#account-admin")).to_contain_text(tr("en", "confirm.own_account"))

    row.locator("#deactivate-tempclerk").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(tr("en", "confirm.deactivate.title"))
    expect(dialog).to_contain_text(f"«tempclerk» ({tr('en', 'role.compliance')})")
    expect(page.locator("#confirm-no")).to_be_focused()  # the safe choice comes first
    _shot(page, "deactivate-question-en", full_page=False)
    page.click("#confirm-no")
    expect(dialog).to_have_count(0)
    with engine.connect() as conn:
        active = conn.execute(
            text("SELECT is_active FROM staff_user WHERE username = 'tempclerk'")
        ).scalar()
    assert active, "cancel changed nothing"

    # Escape cancels too; then a confirmed deactivation acts.
    row.locator("#deactivate-tempclerk").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    row.locator("#deactivate-tempclerk").click()
    page.click("#confirm-yes")
    expect(page.locator("#accounts-notice")).to_have_text(tr("en", "accounts.deactivated"))
    with engine.connect() as conn:
        active = conn.execute(
            text("SELECT is_active FROM staff_user WHERE username = 'tempclerk'")
        ).scalar()
    engine.dispose()
    assert not active


DUE = """
SELECT s.id, s.surname, s.first_name, a.reference FROM data_subject s
JOIN membership_application a ON a.subject_id = s.id
WHERE a.status = 'withdrawn' AND s.status = 'active' ORDER BY s.id DESC LIMIT 2
"""


def test_sweep_preview_names_people_and_hold_by_search(new_page, live_server):
    engine = _engine(live_server)
    with engine.connect() as conn:
        doomed, held = conn.execute(text(DUE)).all()
    with Session(engine) as s:
        for subject_id in (doomed.id, held.id):
            requests.schedule_destruction(s, Actor.system(), subject_id, "destruction request")
        s.commit()

    page = new_page(locale="ru")
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    page.goto(live_server.url + "/retention")
    expect(page.locator("#bucket-overdue")).to_be_visible()

    # A legal hold: the subject is found by name and chosen from the results.
    page.fill("#hold-query", held.reference)
    page.click("#hold-search")
    expect(page.locator("#hold-hits")).to_contain_text(held.surname)
    _shot(page, "hold-search-ru")
    page.click(f"#hold-pick-{held.id}")
    expect(page.locator("#hold-chosen")).to_contain_text(held.reference)
    page.fill("#hold-reason", "Запрос уполномоченного органа")
    page.click("#hold-submit")
    expect(page.locator("#retention-notice")).to_have_text(tr("ru", "retention.hold_placed"))

    # The preview lists reference, name and what goes; the held person is not there.
    page.click("#sweep-preview")
    row = page.locator(f"#due-{doomed.id}")
    expect(row).to_contain_text(doomed.surname)
    expect(row).to_contain_text(doomed.reference)
    expect(row).to_contain_text(tr("ru", "confirm.destroys.subject"))
    expect(page.locator(f"#due-{held.id}")).to_have_count(0)
    _shot(page, "sweep-preview-ru")

    # Destroying one person asks, naming them; cancel keeps them.
    row.locator(f"#destroy-{doomed.id}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(doomed.surname)
    expect(dialog).to_contain_text(doomed.reference)
    _shot(page, "destroy-question-ru", full_page=False)
    page.click("#sweep-cancel")
    expect(dialog).to_have_count(0)
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM data_subject WHERE id = :i"), {"i": doomed.id}
        ).scalar()
    assert status == "active"
    row.locator(f"#destroy-{doomed.id}").click()
    page.click("#sweep-confirm")
    expect(page.locator("#retention-notice")).to_contain_text("D-")
    expect(page.locator(f"#due-{doomed.id}")).to_have_count(0)

    # The sweep asks naming how many it destroys.
    page.click("#sweep-run")
    expect(dialog).to_be_visible()
    count = page.locator("#sweep-count").inner_text().split()[-1]
    expect(page.locator("#confirm-text")).to_contain_text(count)
    _shot(page, "sweep-question-ru", full_page=False)
    page.click("#sweep-cancel")
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT status FROM data_subject WHERE id = :i"), {"i": held.id}
        ).scalar()
        gone = conn.execute(
            text("SELECT status FROM data_subject WHERE id = :i"), {"i": doomed.id}
        ).scalar()
    engine.dispose()
    assert kept == "active" and gone == "destroyed"


def test_board_fits_1280_and_stays_short(new_page, live_server):
    page = new_page(locale="kk", viewport=DESKTOP)
    log_in(page, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(page, "/applications")
    expect(page.locator("#column-approved")).to_be_visible()
    board = page.locator("#pipeline-board").bounding_box()
    for status in APPLICATION_STATUSES:
        box = page.locator(f"#column-{status}").bounding_box()
        assert box["x"] >= board["x"] - 1, status
        assert box["x"] + box["width"] <= board["x"] + board["width"] + 1, f"{status} is cut"
    scroll = page.evaluate(
        "(() => { const b = document.getElementById('pipeline-board');"
        " return b.scrollWidth - b.clientWidth; })()"
    )
    assert scroll <= 1, "all six columns fit at 1280 px"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1600, f"the board page is {height}px tall"
    _shot(page, "board-1280-kk")
    more = page.locator("[id^=more-]").first
    if more.count():
        status = more.get_attribute("id").removeprefix("more-")
        before = page.locator(f"#cards-{status} a").count()
        more.click()
        expect(page.locator(f"#cards-{status} a")).not_to_have_count(before)
        assert page.evaluate("document.documentElement.scrollHeight") < 1600


def test_board_on_a_phone_puts_the_cards_first(new_page, live_server):
    page = new_page(locale="ru", viewport=PHONE)
    log_in(page, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(page, "/applications")
    expect(page.locator("#column-submitted")).to_be_visible()
    expect(page.locator("#pipeline-search")).to_be_hidden()
    first_card = page.locator("#cards-submitted a").first.bounding_box()
    assert first_card["y"] < 900, f"the first card starts at {first_card['y']}px"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page overflows sideways by {overflow}px"
    _shot(page, "board-390-ru")
    page.click("#pipeline-filters-toggle")
    expect(page.locator("#pipeline-search")).to_be_visible()
    expect(page.locator("#pipeline-filters-toggle")).to_have_attribute("aria-expanded", "true")
    _shot(page, "board-390-ru-filters")


def test_list_filters_fold_on_a_phone(new_page, live_server):
    """The other list pages fold their filters the same way (one compliance login)."""
    page = new_page(locale="kk", viewport=PHONE)
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    for path, prefix in (
        ("/requests", "register"),
        ("/members", "members"),
        ("/consents", "consents"),
        ("/disclosures", "disclosures"),
        ("/retention", "retention"),
    ):
        page.goto(live_server.url + path)
        toggle = page.locator(f"#{prefix}-filters-toggle")
        expect(toggle).to_be_visible()
        form = page.locator(f"#{prefix}-filters")
        expect(form).to_be_hidden()
        toggle.click()
        expect(form).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    _shot(page, "retention-390-kk-filters-open")
