"""The membership pipeline as its users live it: a member of the public applies in Kazakh,
staff finds the application, asks for information, approves, and the member is registered;
bad input shows translated messages and stores nothing; compliance can only read."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}


def _fill_application(page, email: str) -> None:
    page.fill("#surname", "Сәрсенбаева")
    page.fill("#first_name", "Әйгерім")
    page.fill("#patronymic", "Нұрланқызы")
    page.fill("#phone", "8 (701) 555-12-34")
    page.fill("#email", email)
    page.fill("#workplace", "«Дала Медиа» ЖШС")
    page.select_option("#workplace_category", "media")
    page.fill("#position", "Редактор")
    page.select_option("#position_level", "senior")
    page.select_option("#education_level", "master")
    page.fill("#experience_years", "7")
    page.fill("#education", "ҚазҰУ, журналистика")
    page.fill("#experience", "<b>Жаңалықтар</b> редакциясы")


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def _step(page, to_status: str, reason: str = "") -> None:
    page.select_option("#to-status", to_status)
    if reason:
        page.fill("#reason", reason)
    page.click("#apply-step")
    expect(page.locator("#detail-notice")).to_be_visible()


def test_apply_review_approve_register(new_page, live_server):
    engine = make_engine(live_server.db_url)
    email = f"aigerim.{uuid.uuid4().hex[:6]}@example.kz"

    public = new_page(locale="kk")
    public.goto(live_server.url + "/apply")
    expect(public.get_by_role("heading", level=1)).to_have_text(tr("kk", "apply.title"))
    _fill_application(public, email)
    public.check("#consent_application_review")
    public.check("#consent_member_register")
    public.click("#apply-submit")
    expect(public.locator("#apply-reference")).to_have_text(re.compile(r"^A-20\d\d-\d{6}$"))
    reference = public.locator("#apply-reference").inner_text()
    screenshot(public, "apply-done-kk")

    with engine.connect() as conn:
        subject = conn.execute(
            text("SELECT id, phone, experience FROM data_subject WHERE email = :e"), {"e": email}
        ).one()
        consents = conn.execute(
            text("SELECT purpose_code, language, channel, consent_text FROM consent "
                 "WHERE subject_id = :s ORDER BY purpose_code"),
            {"s": subject.id},
        ).all()  # fmt: skip
    assert subject.phone == "+77015551234", "phone normalised to E.164"
    assert subject.experience == "<b>Жаңалықтар</b> редакциясы", "HTML kept as text"
    assert [c.purpose_code for c in consents] == ["application_review", "member_register"]
    assert all(c.language == "kk" and c.channel == "web_form" for c in consents)
    # Issue 17: the catalog sentence plus the evidence (operator, duration, transfer).
    assert consents[0].consent_text.startswith(tr("kk", "consent.sentence.application_review"))
    assert tr("kk", "consent.evidence.no_transfer") in consents[0].consent_text

    staff = new_page(locale="ru")
    log_in(staff, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(staff, "/applications")
    expect(staff.locator("#column-submitted")).to_contain_text(reference)
    screenshot(staff, "pipeline-board-ru")
    staff.get_by_role("radio", name=tr("ru", "pipeline.table")).click()
    staff.fill("#pipeline-search", email)
    staff.click("#pipeline-apply")
    row = staff.locator("#pipeline-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(reference)
    row.get_by_role("link").click()
    expect(staff.locator("#detail-reference")).to_have_text(reference)

    _step(staff, "in_review")
    _step(staff, "info_requested", "Дипломның көшірмесін жіберіңіз")
    expect(staff.locator("#timeline-card")).to_contain_text("Дипломның көшірмесін жіберіңіз")
    _step(staff, "in_review")
    _step(staff, "approved")
    expect(staff.locator("#member-link")).to_have_text(re.compile(r"^PRMA-20\d\d-\d{6}$"))
    number = staff.locator("#member-link").inner_text()
    screenshot(staff, "application-detail-ru")

    staff.goto(live_server.url + "/members")
    staff.fill("#members-search", email)
    staff.click("#members-apply")
    expect(staff.locator("#members-table tbody tr")).to_have_count(1)
    expect(staff.locator("#members-table")).to_contain_text(number)

    with engine.connect() as conn:
        app_id = conn.execute(
            text("SELECT id FROM membership_application WHERE reference = :r"), {"r": reference}
        ).scalar()
        reads = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'application.read' "
                 "AND entity_id = :i"),
            {"i": str(app_id)},
        ).scalar()  # fmt: skip
        steps = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'application.status_changed' "
                 "AND entity_id = :i"),
            {"i": str(app_id)},
        ).scalar()  # fmt: skip
    engine.dispose()
    assert reads >= 1, "opening the detail is an audited read"
    assert steps == 4


def test_bad_input_shows_messages_and_stores_nothing(new_page, live_server):
    engine = make_engine(live_server.db_url)
    before = {t: _count(engine, t) for t in ("data_subject", "membership_application", "consent")}
    page = new_page(locale="ru")
    page.goto(live_server.url + "/apply")
    page.fill("#first_name", "Иван")
    page.fill("#phone", "12345")
    page.fill("#email", "not-an-email")
    page.fill("#workplace", "Редакция")
    page.fill("#position", "Журналист\u0007")
    page.click("#apply-submit")
    expect(page.locator("#form-error")).to_have_text(tr("ru", "form.has_errors"))
    expect(page.locator("#surname-error")).to_have_text(tr("ru", "field.required"))
    expect(page.locator("#phone-error")).to_have_text(tr("ru", "field.phone_invalid"))
    expect(page.locator("#email-error")).to_have_text(tr("ru", "field.email_invalid"))
    expect(page.locator("#consent_application_review-error")).to_have_text(
        tr("ru", "apply.review_consent_required")
    )
    screenshot(page, "apply-errors-ru")
    after = {t: _count(engine, t) for t in before}
    engine.dispose()
    assert after == before, "an invalid submission stores nothing"


def test_compliance_reads_but_cannot_act(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    page.goto(live_server.url + "/applications")
    page.get_by_role("radio", name=tr("en", "pipeline.table")).click()
    page.locator("#pipeline-table tbody tr").first.get_by_role("link").click()
    expect(page.get_by_text(tr("en", "detail.read_only"))).to_be_visible()
    expect(page.locator("#apply-step")).to_have_count(0)


@pytest.mark.parametrize("locale", ["kk", "ru"])
@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_pipeline_pages(new_page, live_server, locale, width, viewport):
    page = new_page(locale=locale, viewport=viewport)
    page.goto(live_server.url + "/apply")
    expect(page.locator("#apply-submit")).to_be_visible()
    screenshot(page, f"apply-{locale}-{width}")
    log_in(page, live_server.url, "staff", PASSWORDS["staff"])
    wait_path(page, "/applications")
    expect(page.locator("#column-approved")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page overflows sideways by {overflow}px"
    screenshot(page, f"pipeline-{locale}-{width}")
    page.locator("#column-submitted a").first.click()
    expect(page.locator("#detail-reference")).to_be_visible()
    screenshot(page, f"detail-{locale}-{width}")
