"""Casework journey (issue 16), in Kazakh: a compliance officer records an access request
received on Friday 20 March 2026 (before Nauryz), sees it due on Monday 30 March with the rule
and its citation, verifies the identity of the linked subject electronically, answers it, finds
it under "answered" by its reference, and reads its history. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import to_local
from dpa_panel.services import request_deadlines
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
KK = "kk"


def _subject(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT s.id, s.surname, s.email FROM data_subject s "
            "WHERE s.status = 'active' AND s.id NOT IN (SELECT subject_id FROM subject_request "
            "WHERE subject_id IS NOT NULL) ORDER BY s.id LIMIT 1 OFFSET 11"
        )).one()  # fmt: skip


def test_request_before_nauryz_due_answered_and_found_with_history(new_page, live_server):
    engine = make_engine(live_server.db_url)
    subject = _subject(engine)
    page = new_page(locale=KK, viewport=DESKTOP)
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    # "Date received" defaults to today (Almaty), in the UI's DD.MM.YYYY format.
    today = to_local(datetime.now(UTC)).date()
    expect(page.locator("#new-received")).to_have_value(today.strftime("%d.%m.%Y"))
    expect(page.locator("#new-received")).to_have_attribute(
        "placeholder", tr(KK, "date.placeholder")
    )
    # A date in another format is refused with a message naming the format.
    page.fill("#new-received", "03/20/2026")
    page.click("#request-create")
    expect(page.locator("#request-form-error")).to_contain_text(tr(KK, "date.bad"))

    page.select_option("#new-kind", "access")
    page.select_option("#new-channel", "email")
    page.fill("#new-received", "20.03.2026")
    page.fill("#new-requester", "Хат, субъектінің қолы қойылған")
    page.fill("#new-contact", subject.email)
    page.fill("#new-subject", subject.email)
    page.fill("#new-details", "Мен туралы қандай жеке деректер сақталады?")
    page.click("#request-create")
    expect(page.locator("#request-reference")).to_have_text(re.compile(r"^R-20\d\d-\d{6}$"))
    reference = page.locator("#request-reference").inner_text()
    # Friday 20 March + 3 working days: 21-25 March are Nauryz and its transferred days off.
    expect(page.locator("#request-due")).to_have_text("30.03.2026")
    expect(page.locator("#request-citation")).to_contain_text("94-V")
    expect(page.locator("#request-rule")).to_contain_text(tr(KK, "calendar.from_received"))
    expect(page.locator("#request-history li[data-kind=received]")).to_contain_text("30.03.2026")

    # The identity step uses the request's subject; the hint names electronic verification.
    expect(page.locator("#verify-linked-subject")).to_contain_text(subject.surname)
    expect(page.get_by_text(tr(KK, "requests.method_note"))).to_be_visible()
    page.fill("#verify-method", "eGov арқылы ЭЦҚ")
    page.click("#verify-submit")
    expect(page.locator("#request-notice")).to_have_text(tr(KK, "requests.identity_verified"))

    page.select_option("#request-to-status", "answered")
    page.fill("#request-text", "Жеке деректер туралы есеп e-mail арқылы жіберілді.")
    page.click("#request-step")
    expect(page.locator("#request-status")).to_have_text(tr(KK, "request_status.answered"))
    with Session(engine) as s:
        late = request_deadlines.closing_outcome(s, date(2026, 3, 30), datetime.now(UTC))
    expected = (tr(KK, "requests.on_time_answer") if late.on_time
                else tr(KK, "requests.late_by", days=late.late_days))  # fmt: skip
    expect(page.locator("#request-outcome")).to_have_text(expected)
    expect(page.locator("#request-closed-on")).to_be_visible()
    expect(page.locator("#request-days-left")).to_have_count(0)
    screenshot(page, "request-closed-kk-desktop")

    # Found under "answered" by its reference, with its history.
    page.goto(live_server.url + "/requests")
    page.click("#view-answered")
    page.fill("#register-search", reference)
    page.click("#register-apply")
    row = page.locator(f"#request-{reference}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(expected)
    screenshot(page, "requests-register-kk-desktop")
    page.click("#view-withdrawn")
    expect(page.locator("#register-empty")).to_have_text(tr(KK, "register.empty.withdrawn"))
    page.click("#view-answered")
    page.locator(f"#request-{reference} a").click()
    history = page.locator("#request-history")
    for kind in ("received", "identity_verified", "answered"):
        expect(history).to_contain_text(tr(KK, f"request_event.{kind}"))

    # The subject's page lists the request.
    page.click("#open-subject")
    expect(page.locator("#subject-requests")).to_contain_text(reference)

    phone = new_page(locale=KK, viewport=PHONE)
    log_in(phone, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(phone, "/requests")
    phone.click("#view-answered")
    expect(phone.locator(f"#request-{reference}")).to_be_visible()
    screenshot(phone, "requests-register-kk-phone")
    phone.locator(f"#request-{reference} a").click()
    expect(phone.locator("#request-history")).to_be_visible()
    screenshot(phone, "request-closed-kk-phone")
    engine.dispose()
