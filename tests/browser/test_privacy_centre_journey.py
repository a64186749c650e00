"""The data subject's own journey (issue 20), in Kazakh, with a real local SMTP server and the
outbox's real delivery (what ``dpa-panel notify`` runs):

apply → the acknowledgement arrives → /my with the code from the mailbox → withdraw
"informing" (the mailing list no longer has the person) → ask for a copy of the data → the
compliance officer previews and releases the package → the person downloads it; then another
person's unsubscribe link from an exported row. Screenshots of /my at 1280 and 390 px."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine, session_scope
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.services import consent, mail, outbox
from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_auth_journeys import log_in
from tests.browser.test_pipeline_journeys import _fill_application
from tests.smtp_server import start_smtp

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
KK = "kk"


def _deliver(engine, server) -> None:
    outbox.deliver(lambda: session_scope(engine), mail.parse_smtp_url(server.url()))


def _mail_to(server, email: str) -> list[tuple[str, str]]:
    return [(m.message["Subject"], m.message.get_content()) for m in server.messages
            if m.envelope_to[0] == email]  # fmt: skip


def _download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return open(info.value.path(), "rb").read()


def test_apply_then_withdraw_and_get_a_reviewed_copy_in_the_privacy_centre(new_page, live_server):
    engine = make_engine(live_server.db_url)
    server = start_smtp()
    email = f"aigerim.{uuid.uuid4().hex[:6]}@example.kz"
    try:
        person = new_page(locale=KK)
        person.goto(live_server.url + "/apply")
        _fill_application(person, email)
        person.check("#consent_application_review")
        person.check("#consent_informing")
        person.click("#apply-submit")
        expect(person.locator("#apply-reference")).to_have_text(re.compile(r"^A-20\d\d-\d{6}$"))
        reference = person.locator("#apply-reference").inner_text()
        _deliver(engine, server)
        [(subject_line, body)] = _mail_to(server, email)
        assert reference in subject_line and "/my" in body
        assert tr(KK, "purpose.informing") in body

        # /my: the code from the mailbox
        person.goto(live_server.url + "/my")
        person.fill("#email", email)
        person.click("#send-code")
        expect(person.locator("#my-notice")).to_contain_text(
            tr(KK, "my.code_sent", minutes=10))
        _deliver(engine, server)
        code = re.search(r"\b(\d{6})\b", _mail_to(server, email)[-1][1]).group(1)
        person.fill("#code", code)
        person.click("#verify-code")
        expect(person.locator("#my-name")).to_contain_text("Сәрсенбаева")
        expect(person.locator("#my-categories")).to_contain_text(
            tr(KK, "my.category.contacts"))
        screenshot(person, "my-centre-kk-1280")

        # withdraw "informing": asked first, naming the purpose
        person.click("#withdraw-informing")
        expect(person.locator("#confirm-text")).to_contain_text(tr(KK, "purpose.informing"))
        person.click("#confirm-yes")
        expect(person.locator("#my-notice")).to_have_text(tr(KK, "my.withdrawn_notice"))
        expect(person.locator("#my-state-informing")).to_contain_text(
            tr(KK, "consent_state.withdrawn"))
        with Session(engine) as s:
            assert email not in {e for _n, e, _u in consent.mailing_list(s)}

        # ask for a full copy
        person.click("#ask-access")
        person.click("#confirm-yes")
        expect(person.locator("#my-notice")).to_contain_text(re.compile(r"R-20\d\d-\d{6}"))
        expect(person.locator("#my-requests")).to_contain_text(tr(KK, "my.package.review"))
        person.set_viewport_size(PHONE)
        screenshot(person, "my-centre-kk-390")
        with engine.connect() as conn:
            request_id = conn.execute(text(
                "SELECT r.id FROM subject_request r JOIN data_subject s ON s.id = r.subject_id "
                "WHERE s.email = :e AND r.kind = 'access'"), {"e": email}).scalar_one()  # fmt: skip

        # the officer reviews and releases it
        officer = new_page(locale=KK)
        log_in(officer, live_server.url, "compliance", PASSWORDS["compliance"])
        officer.wait_for_url(re.compile(r".*/requests/?$"))
        officer.goto(f"{live_server.url}/requests/{request_id}")
        expect(officer.locator("#access-package")).to_be_visible()
        assert _download(officer, "#package-preview").startswith(b"%PDF")
        officer.click("#package-release")
        officer.click("#package-release-confirm")
        expect(officer.locator("#package-released")).to_be_visible()
        expect(officer.locator("#request-status")).to_have_text(
            tr(KK, "request_status.answered"))
        screenshot(officer, "request-package-released-kk")

        # the person downloads it
        person.set_viewport_size({"width": 1280, "height": 800})
        person.reload()
        expect(person.locator(f"#my-download-{request_id}")).to_be_visible()
        assert _download(person, f"#my-download-{request_id}").startswith(b"%PDF")
        with engine.connect() as conn:
            assert conn.execute(text(
                "SELECT downloads FROM access_package WHERE request_id = :r"),
                {"r": request_id}).scalar_one() == 1  # fmt: skip
    finally:
        server.stop()
        engine.dispose()


def test_unsubscribe_from_an_exported_row(new_page, live_server):
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        _name, email, url = next(iter(consent.mailing_list(s)))
    token = url.rsplit("/api/unsubscribe/", 1)[1]
    page = new_page(locale=KK)
    page.goto(f"{live_server.url}/api/unsubscribe/{token}?lang=kk")
    expect(page.locator("#unsubscribe-text")).to_have_text(tr(KK, "unsub.lead"))
    page.click("#unsubscribe-confirm")
    expect(page.locator("#unsubscribe-text")).to_have_text(
        tr(KK, "unsub.done", purpose=tr(KK, "purpose.informing")))
    screenshot(page, "unsubscribe-done-kk")
    with Session(engine) as s:
        assert email not in {e for _n, e, _u in consent.mailing_list(s)}
    engine.dispose()
