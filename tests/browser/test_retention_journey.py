"""Retention (clauses 4.4, 7.2): compliance opens the countdown, places a legal hold, previews
and runs a sweep, and finds the destruction act; the held subject survives untouched."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.services import requests
from dpa_panel.services.audit import Actor
from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORD = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}["compliance"]

REJECTED = """
SELECT s.id, s.surname, a.reference FROM data_subject s
JOIN membership_application a ON a.subject_id = s.id
WHERE a.status = 'rejected' AND s.status = 'active' ORDER BY s.id LIMIT 2
"""


def test_countdown_hold_sweep_act(new_page, live_server):
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        doomed, held = conn.execute(text(REJECTED)).all()
    with Session(engine) as s:  # two destruction requests, confirmed: both due now
        for subject_id in (doomed.id, held.id):
            requests.schedule_destruction(s, Actor.system(), subject_id, "destruction request")
        s.commit()

    page = new_page(locale="en")
    log_in(page, live_server.url, "compliance", PASSWORD)
    wait_path(page, "/requests")
    page.goto(live_server.url + "/retention")
    expect(page.locator("#bucket-overdue")).not_to_have_text("0")
    # Issue 18: the hold's subject is found by reference (or name), then chosen from results.
    page.fill("#hold-query", held.reference.lower())
    page.click("#hold-search")
    page.click(f"#hold-pick-{held.id}")
    expect(page.locator("#hold-chosen")).to_contain_text(held.surname)
    page.fill("#hold-reason", "Open authority request")
    page.click("#hold-submit")
    expect(page.locator("#retention-notice")).to_have_text(tr("en", "retention.hold_placed"))
    page.click("#sweep-preview")
    expect(page.locator("#sweep-count")).to_be_visible()
    preview = page.locator("#sweep-count").inner_text()
    # The preview names who goes: the doomed subject is listed by name, the held one is not.
    expect(page.locator(f"#due-{doomed.id}")).to_contain_text(doomed.surname)
    expect(page.locator(f"#due-{held.id}")).to_have_count(0)
    page.click("#sweep-run")
    expect(page.get_by_role("alertdialog")).to_contain_text(preview.split()[-1])
    page.click("#sweep-confirm")
    expect(page.locator("#retention-notice")).to_contain_text(preview.split()[-1])
    expect(page.locator("#acts-table")).to_contain_text(str(doomed.id))
    screenshot(page, "retention-en")

    # The subject's own page shows its countdown and the hold, which can be lifted there.
    page.goto(f"{live_server.url}/subjects/{held.id}")
    expect(page.locator("#subject-countdown")).to_contain_text(
        tr("en", "retention.event.destruction_scheduled")
    )
    lift = page.locator("form").filter(
        has=page.get_by_role("button", name=tr("en", "retention.lift_hold"))
    )
    lift.locator("input[name=reason]").fill("Authority request closed")
    lift.get_by_role("button").click()
    expect(page.locator("#subject-notice")).to_have_text(tr("en", "retention.hold_lifted"))

    with engine.connect() as conn:
        gone = conn.execute(
            text("SELECT status, surname, email FROM data_subject WHERE id = :i"), {"i": doomed.id}
        ).one()
        kept = conn.execute(
            text("SELECT status, surname FROM data_subject WHERE id = :i"), {"i": held.id}
        ).one()
        lifted = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'retention.hold_lifted'")
        ).scalar()
        acts = conn.execute(
            text("SELECT COUNT(*) FROM destruction_act WHERE subject_ref = :r"),
            {"r": str(doomed.id)},
        ).scalar()
    engine.dispose()
    assert gone.status == "destroyed" and gone.surname == "" and gone.email == ""
    assert kept.status == "active" and kept.surname == held.surname, "a held subject survives"
    assert acts == 1
    assert lifted >= 1, "lifting a hold is audited"


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_retention_screens(new_page, live_server, locale):
    page = new_page(locale=locale, viewport=PHONE)
    log_in(page, live_server.url, "compliance", PASSWORD)
    wait_path(page, "/requests")
    page.goto(live_server.url + "/retention")
    expect(page.locator("#bucket-overdue")).to_be_visible()
    screenshot(page, f"retention-{locale}-phone")
