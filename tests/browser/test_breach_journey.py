"""Breach journey (issue 17), in Kazakh. The administrator fills the organisation profile and
``/privacy`` shows its e-mail in place of the policy's blank in all three languages. A
compliance officer records a breach detected on Friday 20 March 2026 at 16:30 (before Nauryz):
the deadline is Thursday 26 March, the countdown shows on the register and on the officer's
home page; ``dpa-panel notify`` e-mails the reminders to a local SMTP server; the officer
records the notification of the authorised body, downloads its PDF, notifies two people (one
by e-mail after confirming, one by letter) and closes the breach with its lessons.
Screenshots at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path
from tests.smtp_server import start_smtp

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
KK = "kk"
EMAIL = "privacy@assoc.kz"


def _fill_profile(page, base: str) -> None:
    log_in(page, base, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    page.goto(base + "/admin/organisation")
    expect(page.locator("#profile-missing")).to_be_visible()
    values = {
        "name_kk": "Мамандар Ассоциациясы", "name_ru": "Ассоциация специалистов",
        "name_en": "Association of Specialists", "address": "Алматы, Абай даңғылы 1",
        "responsible_contact": "+7 701 000 00 00", "authority_name": "ҚР ЦДИАӨМ",
        "authority_contact": "Астана, Мәңгілік Ел 55",
    }  # fmt: skip
    for name, value in values.items():
        page.fill(f"#{name}", value)
    page.fill("#dp_email", EMAIL)
    page.select_option("#responsible_user_id", label="Әкімші Демо (admin)")
    page.fill("#bin", "180240005434")  # wrong check digit: refused, nothing saved
    page.click("#profile-save")
    expect(page.locator("#bin-error")).to_have_text(tr(KK, "profile.bad_bin"))
    page.fill("#bin", "180240005439")
    page.click("#profile-save")
    expect(page.locator("#form-notice")).to_have_text(tr(KK, "profile.saved"))
    expect(page.locator("#profile-missing")).to_have_count(0)
    expect(page.locator("#footer-operator")).to_contain_text("Мамандар Ассоциациясы")


def test_privacy_shows_the_profile_email_and_a_breach_is_handled(new_page, live_server,
                                                                 monkeypatch):  # fmt: skip
    base = live_server.url
    admin = new_page(locale=KK, viewport=DESKTOP)
    _fill_profile(admin, base)
    for lang, blank in (("kk", "[эл. пошта]"), ("ru", "[эл. почта]"), ("en", "[e-mail]")):
        reader = new_page(locale=lang, viewport=DESKTOP)
        reader.goto(base + "/privacy?v=v1")
        text_box = reader.locator("#policy-text")
        expect(text_box).to_contain_text(EMAIL)
        expect(text_box).not_to_contain_text(blank)
        expect(reader.locator("#privacy-filled-note")).to_have_text(tr(lang, "profile.filled_note"))
        expect(reader.locator("#footer-operator")).to_contain_text(EMAIL)

    # A new edition with a blank the profile cannot fill is refused, naming the blank.
    admin.goto(base + "/policy-versions")
    admin.fill("#policy-label", "v9-blank")
    admin.fill("#policy-effective", "2099-01-01")
    for lang in ("kk", "ru", "en"):
        admin.fill(f"textarea[name=text_{lang}]", "Телефон: [телефон нөмірі]")
    admin.click("#policy-add")
    expect(admin.locator("#policy-error")).to_contain_text("[телефон нөмірі]")
    expect(admin.locator("#policy-table")).not_to_contain_text("v9-blank")

    # The list of personal data: the compliance home page asks for approval until the
    # responsible person (the admin, chosen above) approves it.
    officer = new_page(locale=KK, viewport=DESKTOP)
    log_in(officer, base, "compliance2", PASSWORDS["compliance2"])
    wait_path(officer, "/requests")
    expect(officer.locator("#inventory-needs-approval-home")).to_be_visible()
    officer.goto(base + "/inventory")
    officer.click("#inventory-approve")
    expect(officer.locator("#form-error")).to_have_text(tr(KK, "inventory.not_responsible"))
    admin.goto(base + "/inventory")
    admin.click("#inventory-approve")
    expect(admin.locator("#form-notice")).to_have_text(tr(KK, "inventory.approved_notice"))
    expect(admin.locator("#inventory-version")).to_have_text("v1")
    officer.goto(base + "/requests")
    expect(officer.locator("#breach-countdown-home")).to_have_count(0)
    expect(officer.locator("#inventory-needs-approval-home")).to_have_count(0)

    engine = make_engine(live_server.db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE staff_user SET email = 'gulnar@assoc.kz', language = 'kk' "
                          "WHERE username = 'compliance'"))  # fmt: skip
        people = conn.execute(text(
            "SELECT id, email FROM data_subject WHERE status = 'active' AND email <> '' "
            "ORDER BY id LIMIT 2 OFFSET 20")).all()  # fmt: skip

    page = new_page(locale=KK, viewport=DESKTOP)
    log_in(page, base, "compliance", PASSWORDS["compliance"])
    wait_path(page, "/requests")
    page.goto(base + "/breaches")
    page.fill("#detected_at", "20.03.2026 16:30")
    page.fill("#detected_by", "Гүлнар Оспанова")
    page.fill("#description", "Реестр көшірмесі бар ноутбук ұрланды")
    page.fill("#data_categories", "Аты-жөні, телефон, e-mail")
    page.fill("#subjects_estimate", "40")
    page.fill("#containment", "Құпиясөздер ауыстырылды")
    page.click("#breach-record")
    reference = page.locator("#breach-reference")
    expect(reference).to_have_text("BR-2026-0001")
    detail_url = page.url
    # Friday 16:30 + one working day: 21-25 March are Nauryz and its transferred days off.
    expect(page.get_by_text("26.03.2026").first).to_be_visible()
    expect(page.locator("#breach-countdown")).to_contain_text("BR-2026-0001")
    screenshot(page, "breach-detail-kk-1280")
    page.goto(base + "/requests")
    expect(page.locator("#breach-countdown-home")).to_contain_text("26.03.2026")

    server = start_smtp()
    try:
        from dpa_panel import cli

        monkeypatch.setenv("DPA_DATABASE_URL", live_server.db_url)
        monkeypatch.setenv("DPA_SMTP_URL", server.url())
        assert cli.main(["notify"]) == 0
        mine = [m for m in server.messages if m.envelope_to == ["gulnar@assoc.kz"]]
        subjects = {m.message["Subject"] for m in mine}
        assert tr(KK, "mail.breach.detected.subject", reference="BR-2026-0001") in subjects
        assert tr(KK, "mail.breach.overdue.subject", reference="BR-2026-0001") in subjects
    finally:
        server.stop()

    page.goto(detail_url)
    for person in people:
        page.fill("#subject_id", str(person.id))
        page.click("#subject-add")
        expect(page.locator("#form-notice")).to_have_text(tr(KK, "breach.subject_added"))
    first, second = (str(p.id) for p in people)
    page.click(f"#notify-email-{first}")
    expect(page.locator("#confirm-text")).to_contain_text("BR-2026-0001")
    page.click("#confirm-yes")
    expect(page.locator("#form-notice")).to_have_text(tr(KK, "breach.subject_notified"))
    page.click(f"#notify-letter-{second}")
    expect(page.locator("#breach-subjects")).to_contain_text(
        tr(KK, "breach.subject_channel.letter"))  # fmt: skip

    page.fill("#sent_at", "20.03.2026 12:00")  # before detection: refused
    page.select_option("#channel", "e_government")
    page.click("#authority-save")
    expect(page.locator("#sent_at-error")).to_have_text(tr(KK, "breach.notified_before_detection"))
    page.fill("#sent_at", "23.03.2026 10:00")
    page.fill("#reference", "ЖТ-2026-123")
    page.click("#authority-save")
    expect(page.locator("#form-notice")).to_have_text(tr(KK, "breach.authority_recorded"))
    expect(page.locator("#breach-countdown")).to_have_count(0)
    with page.expect_download() as info:
        page.click("#notice-pdf-kk")
    pdf = open(info.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000

    page.fill("#lessons", "Ноутбуктардың дискілерін шифрлау")
    page.click("#breach-close")
    expect(page.locator("#confirm-text")).to_contain_text("BR-2026-0001")
    page.click("#confirm-yes")
    expect(page.locator("#form-notice")).to_have_text(tr(KK, "breach.closed_notice"))
    screenshot(page, "breach-closed-kk-1280")
    phone = new_page(locale=KK, viewport=PHONE)
    log_in(phone, base, "compliance2", PASSWORDS["compliance2"])
    wait_path(phone, "/requests")
    phone.goto(detail_url)
    expect(phone.locator("#breach-reference")).to_have_text("BR-2026-0001")
    screenshot(phone, "breach-closed-kk-390")
    with engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_event WHERE action LIKE 'breach.%' ORDER BY id"
        ))]  # fmt: skip
    for action in ("breach.recorded", "breach.viewed", "breach.subject_added",
                   "breach.subject_notified", "breach.authority_notified",
                   "breach.notice_generated", "breach.closed"):  # fmt: skip
        assert action in actions
    engine.dispose()
