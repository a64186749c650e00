"""No code reaches a screen (issue 18): every page each role can open, in kk, ru and en at
1280 px, with demo data (lists filled, an application, a subject, a request, a disclosure and a
breach opened), shows labels, never ``auth.session_started`` or ``membership_application``.

``assert_no_codes(page)`` is the per-page check, reusable by any test that visits pages.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel.db import make_engine, session_scope
from dpa_panel.i18n import tr
from dpa_panel.models.types import utcnow
from dpa_panel.services import breaches, requests
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import AUTHENTICATED, PUBLIC, has_permission
from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_auth_journeys import PASSWORDS, log_in
from tests.visible_codes import visible_code_tokens

pytestmark = pytest.mark.browser

#: What a person reads besides the text itself: placeholders, option labels, titles.
_VISIBLE_TEXT_JS = """() => {
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder]')) parts.push(el.placeholder);
  for (const el of document.querySelectorAll('option')) parts.push(el.textContent);
  for (const el of document.querySelectorAll('[title]')) parts.push(el.title);
  for (const el of document.querySelectorAll('[aria-label]'))
    parts.push(el.getAttribute('aria-label'));
  return parts.join('\\n');
}"""

#: The page's text is settled when it reads the same on five checks in a row (Reflex fills
#: a page over its websocket after the first paint; there is no single "loaded" signal).
_SETTLED_JS = """() => {
  const now = document.body.innerText;
  if (window.__dpaLastText === now) { window.__dpaSame = (window.__dpaSame || 0) + 1; }
  else { window.__dpaLastText = now; window.__dpaSame = 0; }
  return window.__dpaSame >= 5;
}"""


def visible_text(page) -> str:
    return page.evaluate(_VISIBLE_TEXT_JS)


def usernames(db_url: str) -> set[str]:
    """Staff usernames: chosen by people, shown as typed (``dana.new`` is not a code)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT username FROM staff_user"))}
    finally:
        engine.dispose()


def codes_on(page, allowed: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The code-like tokens the page shows now (``allowed``: e.g. the usernames)."""
    return visible_code_tokens(visible_text(page), allowed)


def assert_no_codes(page) -> None:
    """Fail naming the page and every code it shows."""
    tokens = codes_on(page)
    assert not tokens, f"{page.url} shows codes: {tokens}"


def settle(page, ready: str = "h1") -> None:
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator(ready).first).to_be_visible()
    page.evaluate("() => { window.__dpaLastText = null; window.__dpaSame = 0; }")
    page.wait_for_function(_SETTLED_JS, polling=200, timeout=20_000)


def _ids(live_server) -> dict[str, int]:
    """Ids of records to open; a request and a breach are added (the demo has none)."""
    engine = make_engine(live_server.db_url)
    try:
        with Session(engine) as s:
            one = lambda sql: s.execute(text(sql)).scalar()  # noqa: E731
            officer = one("SELECT id FROM staff_user WHERE role = 'compliance' ORDER BY id")
            subject = one(
                "SELECT s.id FROM data_subject s JOIN membership_application a"
                " ON a.subject_id = s.id WHERE s.status = 'active' ORDER BY s.id"
            )
            ids = {
                "app": one(
                    "SELECT application_id FROM application_event GROUP BY application_id"
                    " ORDER BY COUNT(*) DESC, application_id"
                ),
                "member": one("SELECT id FROM member ORDER BY id"),
                "subject": subject,
                "disclosure": one("SELECT id FROM disclosure ORDER BY id"),
            }
            rid = one("SELECT id FROM subject_request ORDER BY id")
            bid = one("SELECT id FROM breach ORDER BY id")
        actor = Actor.user(officer)
        now = utcnow()
        if rid is None:
            with session_scope(engine) as s:
                rid = requests.create_request(
                    s, actor, kind="access", received_at=now - timedelta(days=2),
                    channel="email", requester="Ахметова Айгүл", contact="aigul@mail.kz",
                    subject_id=subject, now=now,
                ).id  # fmt: skip
        if bid is None:
            with session_scope(engine) as s:
                bid = breaches.record_breach(s, actor, {
                    "detected_at": (now - timedelta(hours=5)).strftime("%d.%m.%Y %H:%M"),
                    "detected_by": "Дана", "description": "Ноутбук ұрланды",
                    "data_categories": "Т.А.Ә., телефон", "subjects_estimate": "4",
                    "systems": "Ноутбук", "cause": "Ұрлық",
                    "containment": "Құпиясөздер ауыстырылды",
                    "risk_assessment": "Жоғары",
                }, now=now).id  # fmt: skip
                breaches.add_subject(s, actor, bid, subject)
        ids.update(request=rid, breach=bid)
        return ids
    finally:
        engine.dispose()


def pages_for(role: str | None, ids: dict[str, int]) -> list[str]:
    """Every page ``role`` may open (``None``: the public), with records to open."""
    table = [
        ("/", PUBLIC), ("/privacy", PUBLIC), ("/apply", PUBLIC), ("/my", PUBLIC),
        ("/applications", "applications.read"),
        (f"/applications/{ids['app']}", "applications.read"),
        ("/members", "members.read"), (f"/members/{ids['member']}", "members.read"),
        ("/requests", "requests.manage"), (f"/requests/{ids['request']}", "requests.manage"),
        (f"/subjects/{ids['subject']}", "requests.manage"),
        ("/consents", "consents.read"), ("/retention", "retention.manage"),
        ("/disclosures", "disclosures.manage"),
        (f"/disclosures/{ids['disclosure']}", "disclosures.manage"),
        ("/breaches", "breaches.read"), (f"/breaches/{ids['breach']}", "breaches.read"),
        ("/inventory", "inventory.read"), ("/statistics", "stats.read"),
        ("/statistics/preview", "stats.preview"), ("/policy-versions", "policies.manage"),
        ("/admin/users", "accounts.manage"), ("/admin/import", "members.import"),
        ("/calendar", "calendar.manage"), ("/admin/settings", "deployment.read"),
        ("/admin/organisation", "profile.manage"), ("/audit", "audit.read"),
        ("/account", AUTHENTICATED),
    ]  # fmt: skip
    if role is None:
        return [path for path, perm in table if perm == PUBLIC] + ["/login"]
    return [path for path, perm in table if perm != PUBLIC and has_permission(role, perm)]


@pytest.fixture(scope="module")
def record_ids(live_server):
    return _ids(live_server)


@pytest.mark.parametrize("role", ["compliance", "staff"])
def test_audit_and_timeline_read_as_labels(new_page, live_server, record_ids, role):
    """The two pages whose content is the point: the audit viewer says "who did what" in
    words and the application history names its events, in kk, ru and en. (Every page of
    every role is scanned for codes by ``test_page_scans``, one visit per page.)"""
    page = new_page(viewport=DESKTOP)
    page.goto(live_server.url + "/")
    log_in(page, live_server.url, role, PASSWORDS[role])
    page.wait_for_url(lambda url: "/login" not in url)
    paths = [path for path in pages_for(role, record_ids)
             if path in ("/audit", f"/applications/{record_ids['app']}")]  # fmt: skip
    assert paths
    found: list[str] = []
    for locale in ("kk", "ru", "en"):
        page.evaluate(f"window.localStorage.setItem('dpa_locale', '{locale}')")
        for path in paths:
            page.goto(live_server.url + path)
            expect(page.get_by_text(tr(locale, "app.name")).first).to_be_visible()
            if path == "/audit":
                settle(page, "table tbody tr")
                expect(page.locator("table")).to_contain_text(
                    tr(locale, "audit_action.auth.session_started")
                )
                screenshot(page, f"audit-{role}-{locale}")
            else:
                settle(page, "#timeline-card")
                expect(page.locator("#timeline-card")).to_contain_text(
                    tr(locale, "application_event.submitted")
                )
                screenshot(page, f"application-timeline-{role}-{locale}")
            tokens = codes_on(page, usernames(live_server.db_url))
            if tokens:
                found.append(f"{locale} {path}: {', '.join(tokens)}")
    if found:
        pytest.fail(f"codes on screen ({role}):\n" + "\n".join(found), False)
