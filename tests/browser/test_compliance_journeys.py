"""Compliance journeys (clauses 6–7): an access request answered on time with the subject's
data report; a withdrawal of "informing" removes the subject from the mailing list; a blocked
subject disappears from staff work."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}

INFORMED_SUBJECT = """
SELECT s.id, s.surname, s.email, a.id AS app_id FROM data_subject s
JOIN membership_application a ON a.subject_id = s.id
JOIN consent c ON c.subject_id = s.id AND c.purpose_code = 'informing' AND c.withdrawn_at IS NULL
WHERE s.status = 'active' AND s.id NOT IN (SELECT subject_id FROM subject_request
                                            WHERE subject_id IS NOT NULL)
ORDER BY s.id {order} LIMIT 1
"""


def _subject(engine, order: str = "ASC"):
    with engine.connect() as conn:
        return conn.execute(text(INFORMED_SUBJECT.format(order=order))).one()


def _compliance(new_page, live_server, locale="en"):
    page = new_page(locale=locale)
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    return page


def _download(page, button: str) -> bytes:
    with page.expect_download() as info:
        page.click(button)
    return open(info.value.path(), "rb").read()


def test_access_request_answered_on_time_with_report(new_page, live_server):
    engine = make_engine(live_server.db_url)
    subject = _subject(engine)
    page = _compliance(new_page, live_server)
    page.select_option("#new-kind", "access")
    page.select_option("#new-channel", "email")
    page.fill("#new-received", date.today().isoformat())
    page.fill("#new-requester", "Letter signed by the subject")
    page.fill("#new-contact", subject.email)
    page.fill("#new-details", "What data do you hold about me?")
    page.click("#request-create")
    expect(page.locator("#request-reference")).to_have_text(re.compile(r"^R-20\d\d-\d{6}$"))
    page.fill("#verify-subject", subject.email)
    page.fill("#verify-method", "ID card copy attached to the letter")
    page.click("#verify-submit")
    expect(page.locator("#request-notice")).to_have_text(tr("en", "requests.identity_verified"))
    expect(page.locator("#open-subject")).to_be_visible()
    screenshot(page, "request-detail-en")

    page.click("#open-subject")
    expect(page.locator("#subject-name")).to_contain_text(subject.surname)
    report = json.loads(_download(page, "#report-json"))
    assert subject.surname in json.dumps(report, ensure_ascii=False)
    pdf = _download(page, "#report-pdf")
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    page.go_back()
    expect(page.locator("#request-to-status")).to_be_visible()
    page.select_option("#request-to-status", "answered")
    page.fill("#request-text", "Report sent by e-mail (PDF attached).")
    page.click("#request-step")
    expect(page.locator("#request-status")).to_have_text(tr("en", "request_status.answered"))
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, answered_at, due_date FROM subject_request WHERE subject_id = :s"),
            {"s": subject.id},
        ).one()
        reports = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'subject.report_generated' "
                 "AND entity_id = :s"), {"s": str(subject.id)},
        ).scalar()  # fmt: skip
    engine.dispose()
    assert row.status == "answered"
    assert str(row.answered_at)[:10] <= str(row.due_date), "answered on time"
    assert reports == 2, "both report downloads are audited"


def test_withdrawal_of_informing_leaves_the_mailing_list(new_page, live_server):
    engine = make_engine(live_server.db_url)
    subject = _subject(engine, order="DESC")
    page = _compliance(new_page, live_server, "ru")
    page.goto(live_server.url + "/consents")
    raw = _download(page, "#mailing-export")
    before = raw.decode("utf-8-sig")
    assert subject.email in before
    # Its metadata beside it (issue 18 gaps): "About this file" fetches <name>.about.txt.
    with page.expect_download() as info:
        page.click("#about-mailing-csv")
    about = open(info.value.path(), "rb").read().decode("utf-8-sig")
    assert info.value.suggested_filename.startswith("mailing-list-")
    assert info.value.suggested_filename.endswith(".about.txt")
    assert hashlib.sha256(raw).hexdigest() in about
    assert tr("ru", "export.about.generated_at") in about
    page.goto(f"{live_server.url}/subjects/{subject.id}")
    expect(page.locator("#state-informing")).to_contain_text(tr("ru", "consent_state.granted"))
    page.select_option("#withdraw-purpose", "informing")
    page.select_option("#withdraw-channel", "email")
    page.fill("#withdraw-evidence", "Письмо от 01.12.2026: прошу не присылать новости")
    page.click("#record-withdrawal")
    expect(page.locator("#subject-notice")).to_have_text(tr("ru", "subject.withdrawal_recorded"))
    expect(page.locator("#state-informing")).to_contain_text(tr("ru", "consent_state.withdrawn"))
    screenshot(page, "subject-ru")
    page.goto(live_server.url + "/consents")
    after = _download(page, "#mailing-export").decode("utf-8-sig")
    emails = {row[1] for row in csv.reader(io.StringIO(after))}
    assert subject.email not in emails
    engine.dispose()


def test_blocked_subject_disappears_from_staff_work(new_page, live_server):
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        subject = conn.execute(text(
            "SELECT s.id, s.email, a.id AS app_id FROM data_subject s "
            "JOIN membership_application a ON a.subject_id = s.id "
            "WHERE s.status = 'active' ORDER BY s.id LIMIT 1 OFFSET 5"
        )).one()  # fmt: skip
    page = _compliance(new_page, live_server)
    page.goto(f"{live_server.url}/subjects/{subject.id}")
    page.fill("#block-subject-reason", "Subject's request to block, letter of 01.12.2026")
    page.click("#block-subject")
    expect(page.locator("#blocked-badge")).to_be_visible()

    staff = new_page(locale="en")
    log_in(staff, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(staff, "/applications")
    staff.get_by_role("radio", name=tr("en", "pipeline.table")).click()
    staff.fill("#pipeline-search", subject.email)
    staff.click("#pipeline-apply")
    expect(staff.locator("#pipeline-summary")).to_contain_text("0")
    expect(staff.locator("#pipeline-table tbody tr")).to_have_count(0)
    staff.goto(f"{live_server.url}/applications/{subject.app_id}")
    expect(staff.get_by_text(tr("en", "detail.not_found"))).to_be_visible()
    assert subject.email not in staff.content()
    engine.dispose()


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_screenshots_of_compliance_pages(new_page, live_server, locale):
    page = new_page(locale=locale, viewport=PHONE)
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    screenshot(page, f"requests-{locale}-phone")
    page.goto(live_server.url + "/consents")
    expect(page.locator("#consent-table")).to_be_visible()
    screenshot(page, f"consents-{locale}-phone")


def test_admin_extends_the_holiday_table(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    page.goto(live_server.url + "/calendar")
    expect(page.locator("#holiday-table")).to_contain_text(tr("en", "holiday_name.nauryz"))
    # The transfer rule's days are listed, computed (e.g. 9 March 2026 for 8 March, a Sunday).
    expect(page.locator("#holiday-table")).to_contain_text(tr("en", "calendar.kind.transfer"))
    year = date.today().year
    # A weekday cannot be entered as a worked weekend day.
    page.fill("#holiday-day", f"30.12.{year}" if date(year, 12, 30).weekday() < 5
              else f"29.12.{year}")  # fmt: skip
    page.select_option("#holiday-kind", "working_day")
    page.fill("#holiday-name", "Worked day")
    page.fill("#holiday-source", "Government decree (example)")
    page.click("#holiday-add")
    expect(page.locator("#calendar-error")).to_have_text(
        tr("en", "calendar.working_day_not_weekend")
    )
    day = date(year, 12, 31)
    while day.weekday() >= 5:
        day = day.replace(day=day.day - 1)
    page.fill("#holiday-day", day.strftime("%d.%m.%Y"))
    page.select_option("#holiday-kind", "day_off")
    page.fill("#holiday-name", "Day off moved by decree")
    page.fill("#holiday-source", "Government decree (example)")
    page.click("#holiday-add")
    expect(page.locator("#calendar-notice")).to_have_text(tr("en", "calendar.holiday_added"))
    expect(page.locator("#holiday-table")).to_contain_text("Day off moved by decree")
    screenshot(page, "calendar-en")


def test_new_policy_edition_lists_subjects_on_the_older_one(new_page, live_server):
    page = _compliance(new_page, live_server)
    page.goto(live_server.url + "/policy-versions")
    expect(page.locator("#policy-table")).to_contain_text("v1")
    page.fill("#policy-label", "v2-test")
    page.fill("#policy-effective", date.today().isoformat())
    for lang in ("kk", "ru", "en"):
        page.fill(f"textarea[name=text_{lang}]", f"Test edition text ({lang}).")
    page.click("#policy-add")
    expect(page.locator("#policy-notice")).to_have_text(tr("en", "policies.added"))
    expect(page.locator("#policy-table")).to_contain_text("v2-test")
    expect(page.locator("#older-total")).not_to_have_text(re.compile(r"\s0$"))
    screenshot(page, "policy-versions-en")
