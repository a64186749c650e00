"""Staff journeys: log in per role, wrong password, lockout, logout, a board member who types
a staff URL, an admin creating an account that must change its password, the audit viewer."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS, DEMO_TOTP_SECRETS
from dpa_panel.i18n import tr
from dpa_panel.services import accounts, auth
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import ROLE_HOME
from tests.browser.conftest import PHONE, screenshot
from tests.live_server import totp_code

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
ROLE_OF = {username: role for username, role, _name, _password in DEMO_ACCOUNTS}


def log_in(page, base: str, username: str, password: str) -> None:
    """The login form; for a demo account with a second factor (admin, compliance) and its
    right password, then the code step with a code computed from its known secret."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    if username in DEMO_TOTP_SECRETS and password == PASSWORDS.get(username):
        page.locator("#code").wait_for()
        page.fill("#code", totp_code(None, username))
        page.click("#code-submit")


def complete_enrolment(page) -> list[str]:
    """The required set-up after the password: type the shown key into "the app" (pyotp),
    confirm with its code, see the recovery codes, continue. Returns the recovery codes."""
    import pyotp

    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#enrol-submit")
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    shown = codes.all_inner_texts()
    page.click("#codes-continue")
    return shown


def wait_path(page, path: str) -> None:
    """Wait until the browser shows ``path`` (Reflex may add a trailing slash)."""
    page.wait_for_url(re.compile(rf"^https?://[^/]+{re.escape(path)}/?(\?.*)?$"))


def _path(page) -> str:
    return "/" + page.url.split("/", 3)[3].split("?")[0].rstrip("/")


@pytest.mark.parametrize("username", ["admin", "staff", "compliance", "board"])
def test_each_role_lands_on_its_home(new_page, live_server, username):
    page = new_page(locale="en")
    completions = []
    page.on(
        "request",
        lambda r: completions.append((r.method, r.url)) if "/api/auth/complete" in r.url else None,
    )
    log_in(page, live_server.url, username, PASSWORDS[username])
    home = ROLE_HOME[ROLE_OF[username]]
    wait_path(page, home)
    expect(page.locator("#me-username")).to_have_text(username)
    # The ticket went in a POST body, never in a URL (issue 15: no GET completes a login).
    assert completions == [("POST", f"{live_server.url}/api/auth/complete")]
    cookies = {c["name"]: c for c in page.context.cookies()}
    for name in ("dpa_session", "dpa_browser"):
        assert cookies[name]["httpOnly"] and cookies[name]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("dpa_session") == -1, "token not readable by JS"
    screenshot(page, f"home-{username}-en")


def test_login_csrf_from_another_site_logs_no_one_in(new_page, live_server):
    """Login CSRF (issue 15): a page on another site auto-submits a valid login ticket of the
    attacker's account to the panel from the victim's browser; the victim stays logged out."""
    victim = new_page(locale="en")
    victim.goto(live_server.url + "/login")
    expect(victim.locator("#login-submit")).to_be_visible()
    engine = make_engine(live_server.db_url)
    try:
        with Session(engine) as s:
            board_id = s.execute(text("SELECT id FROM staff_user WHERE username='board'")).scalar()
            ticket = auth.issue_ticket(s, board_id, "login")
            # Bound to the attacker's own browser, as the real login handler does.
            assert auth.bind_login_ticket(s, ticket, "attackers-browser")
            s.commit()
    finally:
        engine.dispose()
    attack = (
        f'<form id="f" method="POST" action="{live_server.url}/api/auth/complete">'
        f'<input type="hidden" name="t" value="{ticket}"></form>'
        '<script>document.getElementById("f").submit()</script>'
    )
    victim.route(
        "http://attacker.example/**",
        lambda route: route.fulfill(body=attack, content_type="text/html"),
    )
    with victim.expect_response(lambda r: "/api/auth/complete" in r.url) as answer:
        victim.goto("http://attacker.example/")
    assert answer.value.status == 403
    assert not [c for c in victim.context.cookies() if c["name"] == "dpa_session"]
    victim.goto(live_server.url + "/statistics")
    wait_path(victim, "/login")


def test_wrong_password_shows_one_generic_message(new_page, live_server):
    page = new_page(locale="kk")
    log_in(page, live_server.url, "staff", "Definitely-Wrong-1")
    expect(page.locator("#login-error")).to_have_text(tr("kk", "auth.failed"))
    log_in(page, live_server.url, "no-such-user", "Definitely-Wrong-1")
    expect(page.locator("#login-error")).to_have_text(tr("kk", "auth.failed"))
    assert _path(page) == "/login"
    screenshot(page, "login-error-kk")


def _failures(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT COUNT(*) FROM audit_event WHERE action = 'auth.login_failed' "
                "AND entity_id = (SELECT CAST(id AS TEXT) FROM staff_user WHERE username = :u)"
            ),
            {"u": username},
        ).scalar()


def _wait_for(predicate, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.1)


def test_repeated_failures_slow_down_that_address_without_locking_the_account(
    new_page, live_server
):
    """Issue 15: failures no longer lock the account for everybody; this browser's address
    must wait (the message says how long), the account itself stays open."""
    engine = make_engine(live_server.db_url)
    with Session(engine) as s:
        accounts.create_account(
            s,
            Actor.system(),
            username="locktest",
            full_name="Lock Test",
            role="staff",
            password="Lock-Test-Password-1",
            must_change_password=False,
        )
        s.commit()
    page = new_page(locale="en")
    for attempt in range(1, 4):
        log_in(page, live_server.url, "locktest", "Wrong-Password-123")
        _wait_for(lambda n=attempt: _failures(engine, "locktest") == n)
    # The third failure imposes the first wait: the message says so instead of "failed".
    expect(page.locator("#login-error")).to_contain_text("Too many failed attempts")
    assert _path(page) == "/login"
    screenshot(page, "login-throttled-en")
    with engine.connect() as conn:
        locked = conn.execute(
            text("SELECT locked_until FROM staff_user WHERE username = 'locktest'")
        ).scalar()
        lock_events = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action = 'auth.account_locked'")
        ).scalar()
    engine.dispose()
    assert locked is None and lock_events == 0


def test_logout_ends_the_session(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, ROLE_HOME["compliance"])
    page.click("#logout-button")
    wait_path(page, "/login")
    assert not [c for c in page.context.cookies() if c["name"] == "dpa_session"]
    page.goto(live_server.url + "/audit")
    wait_path(page, "/login")
    expect(page.locator("#login-submit")).to_be_visible()


def test_board_member_typing_a_staff_url_is_sent_away_and_sees_no_data(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "board", PASSWORDS["board"])
    wait_path(page, ROLE_HOME["board"])
    for url in ("/admin/users", "/audit", "/applications", "/members", "/requests", "/consents"):
        page.goto(live_server.url + url)
        wait_path(page, ROLE_HOME["board"])
        content = page.content()
        assert "compliance2" not in content and "Гүлнар Оспанова" not in content
        assert "auth.login_succeeded" not in content
    expect(page.get_by_text(tr("en", "auth.forbidden")).first).to_be_visible()
    # The start page says why it was opened (a toast alone is gone before it is read).
    expect(page.locator("#refused-notice")).to_have_text(tr("en", "shell.refused"))
    screenshot(page, "board-sent-away-en")
    page.goto(live_server.url + ROLE_HOME["board"])
    expect(page.locator("main#main[data-hydrated='true']")).to_be_visible()
    expect(page.locator("#refused-notice")).to_have_count(0)


def test_admin_creates_an_account_that_must_change_its_password(new_page, live_server):
    admin = new_page(locale="ru")
    log_in(admin, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(admin, "/admin/users")
    admin.fill("#new_username", "dana.new")
    admin.fill("#new_full_name", "Дана Новикова")
    admin.select_option("#new_role", "compliance")
    admin.fill("#new_password", "short")
    admin.click("#create-account")
    expect(admin.locator("#create-error")).to_have_text(tr("ru", "password.too_short"))
    admin.fill("#new_password", "First-Password-2026")
    admin.click("#create-account")
    expect(admin.locator("#accounts-notice")).to_contain_text("dana.new")
    expect(admin.locator("#account-dana\\.new")).to_be_visible()
    screenshot(admin, "admin-users-ru")

    user = new_page(locale="ru")
    log_in(user, live_server.url, "dana.new", "First-Password-2026")
    complete_enrolment(user)  # a compliance officer sets up the second factor first
    wait_path(user, "/account/password")
    user.goto(live_server.url + "/audit")  # cannot skip the change
    wait_path(user, "/account/password")
    user.fill("#current", "First-Password-2026")
    user.fill("#password", "Second-Password-2026")
    user.fill("#confirm", "Second-Password-2026")
    user.click("#password-submit")
    wait_path(user, ROLE_HOME["compliance"])
    expect(user.locator("#me-username")).to_have_text("dana.new")


def test_audit_viewer_filters_and_exports_csv(new_page, live_server):
    page = new_page(locale="en")
    log_in(page, live_server.url, "compliance", PASSWORDS["compliance"])
    wait_path(page, ROLE_HOME["compliance"])
    page.goto(live_server.url + "/audit")
    # The filter offers labels; its values stay codes (issue 18).
    label = tr("en", "audit_action.auth.login_succeeded")
    expect(page.locator("#filter-action option", has_text=label)).to_have_attribute(
        "value", "auth.login_succeeded"
    )
    page.select_option("#filter-action", label=label)
    page.click("#filter-apply")
    expect(page.locator("#audit-summary")).to_contain_text("page 1")
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text(label)
    actions_shown = set(rows.locator("td:nth-child(4)").all_inner_texts())
    assert actions_shown == {label}
    # Who: username and role label.
    expect(rows.first.locator("td:nth-child(3)")).to_contain_text(tr("en", "role.compliance"))
    with page.expect_download() as info:
        page.click("#audit-export")
    content = open(info.value.path(), encoding="utf-8-sig").read()
    exported = list(csv.DictReader(io.StringIO(content)))
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        expected = list(
            conn.execute(
                text(
                    "SELECT id, hash FROM audit_event "
                    "WHERE action = 'auth.login_succeeded' ORDER BY id"
                )
            )
        )
        exported_event = conn.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE action='audit.exported'")
        ).scalar()
    engine.dispose()
    # Issue 18: the header is in the page's language (English here), the first row.
    number, digest = tr("en", "audit.id"), tr("en", "export.audit.hash")
    assert [(int(r[number]), r[digest]) for r in exported] == [(r.id, r.hash) for r in expected]
    assert all(r[tr("en", "audit.when")].endswith("+05:00") for r in exported)
    assert exported_event >= 1, "the export itself is audited"
    screenshot(page, "audit-viewer-en")


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_screenshots_of_auth_pages(new_page, live_server, locale):
    page = new_page(locale=locale, viewport=PHONE)
    page.goto(live_server.url + "/login")
    expect(page.locator("#login-submit")).to_be_visible()
    screenshot(page, f"login-{locale}-phone")
    log_in(page, live_server.url, "admin", PASSWORDS["admin"])
    wait_path(page, "/admin/users")
    expect(page.locator("#account-card-staff")).to_be_visible()
    screenshot(page, f"admin-users-{locale}-phone")
    page.goto(live_server.url + "/audit")
    expect(page.locator("#audit-summary")).to_be_visible()
    screenshot(page, f"audit-{locale}-phone")
