"""Two-factor login in the browser (issue 15): a compliance officer without a second factor
sets it up right after the password (QR code, key as text, first code, ten recovery codes
shown once), logs in again with a code and with a recovery code; an admin resets it after a
question naming the account. Screenshots in Kazakh at desktop and phone width."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.services import accounts
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import ROLE_HOME
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}
OFFICER = "aizhan.2fa"
OFFICER_PASSWORD = "Saryarka-Zhibek-Zholy-7"


def _create_officer(live_server, username: str) -> None:
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        accounts.create_account(
            s,
            Actor.system(),
            username=username,
            full_name="Айжан Екіфактор",
            role="compliance",
            password=OFFICER_PASSWORD,
            must_change_password=False,
        )
        s.commit()
    engine.dispose()


def _enrolled(live_server, username: str) -> bool:
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT COUNT(*) FROM two_factor t JOIN staff_user u ON u.id = t.user_id "
                "WHERE u.username = :u AND t.confirmed_at IS NOT NULL"
            ),
            {"u": username},
        ).scalar()
    engine.dispose()
    return bool(found)


def _log_out(page, label: str) -> None:
    """The header's logout button, or on a phone the same entry in the menu."""
    if label == "phone":
        page.click("#phone-menu")
        page.click("#logout-button-phone")
    else:
        page.click("#logout-button")


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_enrolment_then_login_with_a_code_and_a_recovery_code(
    new_page, live_server, viewport, label
):
    username = f"{OFFICER}.{label}"
    _create_officer(live_server, username)
    page = new_page(locale="kk", viewport=viewport)
    log_in(page, live_server.url, username, OFFICER_PASSWORD)

    # Right after the password: the set-up, nothing else (no session cookie yet).
    expect(page.locator("#enrol-qr")).to_be_visible()
    expect(page.get_by_text(tr("kk", "two_factor.enrol_required"))).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "dpa_session"]
    screenshot(page, f"two-factor-enrol-kk-{label}")
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    assert len(secret) == 32

    page.fill("#code", "000000")
    page.click("#enrol-submit")
    expect(page.locator("#login-error")).to_have_text(tr("kk", "two_factor.code_wrong"))
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#enrol-submit")
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    screenshot(page, f"two-factor-recovery-codes-kk-{label}")
    page.click("#codes-continue")
    wait_path(page, ROLE_HOME["compliance"])
    assert _enrolled(live_server, username)

    page.goto(live_server.url + "/account")
    expect(page.locator("#two-factor-on")).to_be_visible()
    screenshot(page, f"two-factor-account-kk-{label}")
    _log_out(page, label)
    wait_path(page, "/login")

    # Next login: the code step. A recovery code works once.
    log_in(page, live_server.url, username, OFFICER_PASSWORD)
    expect(page.locator("#code-submit")).to_be_visible()
    screenshot(page, f"two-factor-code-kk-{label}")
    page.fill("#code", recovery[0])
    page.click("#code-submit")
    wait_path(page, ROLE_HOME["compliance"])
    _log_out(page, label)
    wait_path(page, "/login")
    log_in(page, live_server.url, username, OFFICER_PASSWORD)
    page.fill("#code", recovery[0])
    page.click("#code-submit")
    expect(page.locator("#login-error")).to_have_text(tr("kk", "auth.code_failed"))
    # The current step may be the one the set-up used (a code is accepted once): the app's
    # next code is within the accepted drift.
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("#code-submit")
    wait_path(page, ROLE_HOME["compliance"])


def test_admin_resets_a_second_factor_after_a_question_naming_the_account(new_page, live_server):
    username = f"{OFFICER}.reset"
    _create_officer(live_server, username)
    officer = new_page(locale="kk")
    log_in(officer, live_server.url, username, OFFICER_PASSWORD)
    secret = officer.locator("#enrol-secret").inner_text().replace(" ", "")
    officer.fill("#code", pyotp.TOTP(secret).now())
    officer.click("#enrol-submit")
    officer.click("#codes-continue")
    wait_path(officer, ROLE_HOME["compliance"])

    admin = new_page(locale="kk")
    log_in(admin, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(admin, "/admin/users")
    # The desktop table's row of that account (the phone cards are hidden at this width).
    admin.locator(f'[id="account-{username}"] [id="reset-2fa-{username}"]').click()
    question = admin.locator("#reset-2fa-question")
    expect(question).to_contain_text(username)
    screenshot(admin, "two-factor-reset-question-kk")
    assert _enrolled(live_server, username), "nothing happens before the answer"
    admin.click("#reset-2fa-confirm")
    expect(admin.locator("#accounts-notice")).to_have_text(tr("kk", "two_factor.reset_done"))
    assert not _enrolled(live_server, username)
    # The officer's session ended; the next login asks for a new set-up.
    officer.goto(live_server.url + "/audit")
    wait_path(officer, "/login")
    log_in(officer, live_server.url, username, OFFICER_PASSWORD)
    expect(officer.locator("#enrol-qr")).to_be_visible()
