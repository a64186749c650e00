"""Disclosure register (clauses 5.1, 5.2): compliance A records an authority request and picks
fields, compliance B approves (A cannot), A discloses and downloads the package; the log exports
in CSV, XLSX and PDF open and agree with the database."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pandas as pd
import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from dpa_panel.db import make_engine
from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import tr
from dpa_panel.services.disclosures import CATEGORIES
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_auth_journeys import log_in, wait_path

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, _r, _n, p in DEMO_ACCOUNTS}

SUBJECT = """
SELECT s.id, s.surname, s.first_name, s.email, s.phone FROM data_subject s
JOIN member m ON m.subject_id = s.id
WHERE s.status = 'active' AND m.status = 'active' ORDER BY s.id DESC LIMIT 1
"""


def _logged_in(new_page, live_server, username: str, locale: str = "en", viewport=None):
    page = new_page(locale=locale, viewport=viewport)
    log_in(page, live_server.url, username, PASSWORDS[username])
    wait_path(page, "/requests")
    return page


def _download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return open(info.value.path(), "rb").read()


def test_request_four_eyes_disclose_and_export(new_page, live_server):
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        subject = conn.execute(text(SUBJECT)).one()
    identity = next(iter(CATEGORIES))
    picked_fields = [f for f in CATEGORIES[identity] if f in ("surname", "first_name")] or list(
        CATEGORIES[identity][:1]
    )

    # Compliance A records the request about one member.
    a = _logged_in(new_page, live_server, "compliance")
    a.goto(live_server.url + "/disclosures")
    a.fill("#subject-query", subject.email)
    a.click("#subject-search")
    a.click(f"#pick-{subject.id}")
    expect(a.locator("#picked-subjects")).to_contain_text(subject.surname)
    a.select_option("#new-kind", "authority")
    a.select_option("#new-body_type", "law_enforcement")
    a.fill("#new-body_name", "Департамент полиции г. Алматы")
    a.fill("#new-body_department", "Следственное управление")
    a.fill("#new-request_number", "12-3/4567")
    a.fill("#new-request_date", "2026-11-20")
    a.fill("#new-answer_due_on", "2027-01-15")
    a.fill("#new-legal_article", "УПК РК ст. 122")
    a.fill("#new-legal_basis", "Запрос в рамках досудебного расследования")
    a.check(f"#ask-{identity}")
    a.click("#disclosure-create")
    a.wait_for_url(re.compile(r".*/disclosures/\d+/?$"))
    disclosure_id = int(a.url.rstrip("/").rsplit("/", 1)[1])
    expect(a.locator("#disclosure-status")).to_contain_text(tr("en", "disclosure.status.received"))
    expect(a.locator("#fact-body_type")).to_have_text(
        tr("en", "disclosure.body_type.law_enforcement")
    )

    # Minimisation: tick only the name fields, justify the category, send for approval.
    for name in picked_fields:
        a.check(f"#pick-{subject.id}-{name}")
    a.click("#save-selection")
    expect(a.locator("#disclosure-error")).to_be_visible()  # no justification yet: refused
    a.fill(f"#just-{identity}", "Установление личности свидетеля по запросу следователя")
    a.click("#save-selection")
    expect(a.locator("#disclosure-notice")).to_have_text(tr("en", "disclosure.selection_saved"))
    expect(a.locator(f"#compare-{identity}")).to_contain_text(str(len(picked_fields)))
    a.click("#submit-review")
    expect(a.locator("#disclosure-status")).to_contain_text(
        tr("en", "disclosure.status.under_review")
    )
    expect(a.locator("#approve")).to_have_count(0)  # the creator cannot approve their own
    screenshot(a, "disclosure-detail-en")

    # Compliance B approves.
    b = _logged_in(new_page, live_server, "compliance2")
    b.goto(f"{live_server.url}/disclosures/{disclosure_id}")
    b.click("#approve")
    # Issue 18: approval asks first, naming the disclosure and its recipient.
    expect(b.get_by_role("alertdialog")).to_contain_text(tr("en", "confirm.approve.title"))
    b.click("#approve-yes")
    expect(b.locator("#disclosure-status")).to_contain_text(tr("en", "disclosure.status.approved"))

    # A discloses by e-mail as CSV and gets the package: only the picked fields.
    a.reload()
    a.select_option("#disclose-format", "csv")
    package = _download(a, "#disclose")
    expect(a.locator("#disclosure-status")).to_contain_text(
        tr("en", "disclosure.status.disclosed")
    )
    rows = list(csv.DictReader(io.StringIO(package.decode("utf-8-sig"))))
    assert len(rows) == 1
    values = " ".join(v for v in rows[0].values() if v)
    assert subject.surname in values
    assert subject.email not in values and subject.phone not in values, "only picked fields"
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT status, package_sha256 AS package_digest FROM disclosure WHERE id = :i"),
            {"i": disclosure_id},
        ).one()
        holds_open = conn.execute(
            text(
                "SELECT COUNT(*) FROM legal_hold WHERE source_ref = :r AND lifted_at IS NULL"
            ),
            {"r": f"disclosure:{disclosure_id}"},
        ).scalar()
    assert recorded.status == "disclosed"
    assert recorded.package_digest == hashlib.sha256(package).hexdigest()
    assert holds_open == 0, "closing the request lifts its legal hold"
    # The same package again, byte for byte.
    assert _download(a, "#download-package") == package

    # The subject's page lists the disclosure.
    a.goto(f"{live_server.url}/subjects/{subject.id}")
    expect(a.locator("#subject-disclosures")).to_contain_text("Департамент полиции")

    # The log, filtered to this body, in each format.
    a.goto(live_server.url + "/disclosures")
    a.fill("#filter-body", "Департамент полиции г. Алматы")
    a.click("#filter-apply")
    expect(a.locator("#disclosures-table")).to_contain_text("12-3/4567")
    with engine.connect() as conn:
        expected = [
            r.reference
            for r in conn.execute(
                text(
                    "SELECT reference FROM disclosure WHERE body_name = :b ORDER BY reference"
                ),
                {"b": "Департамент полиции г. Алматы"},
            )
        ]
    log_csv = _download(a, "#export-log-csv").decode("utf-8-sig")
    csv_refs = sorted(
        r[0] for r in csv.reader(io.StringIO(log_csv)) if r and re.match(r"^[A-Z]+-\d{4}-", r[0])
    )
    assert csv_refs == expected
    log_xlsx = _download(a, "#export-log-xlsx")
    frame = pd.read_excel(io.BytesIO(log_xlsx), dtype=str)
    xlsx_refs = sorted(
        v for v in frame.iloc[:, 0].dropna() if re.match(r"^[A-Z]+-\d{4}-", str(v))
    )
    assert xlsx_refs == expected
    assert _download(a, "#export-log-pdf").startswith(b"%PDF")
    screenshot(a, "disclosures-en")
    engine.dispose()


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_disclosure_screens(new_page, live_server, locale):
    page = _logged_in(new_page, live_server, "compliance", locale=locale, viewport=PHONE)
    page.goto(live_server.url + "/disclosures")
    expect(page.locator("#disclosures-table")).to_be_visible()
    screenshot(page, f"disclosures-{locale}-phone")
    page.goto(live_server.url + "/disclosures/1")
    expect(page.locator("#selection-matrix")).to_be_visible()
    screenshot(page, f"disclosure-detail-{locale}-phone")
    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(page.locator("#comparison-table")).to_be_visible()
    screenshot(page, f"disclosure-detail-{locale}-desktop")


def test_third_party_transfer_needs_written_consent(new_page, live_server):
    engine = make_engine(live_server.db_url)
    with engine.connect() as conn:
        subject = conn.execute(text(SUBJECT.replace("DESC", "ASC"))).one()
    engine.dispose()
    page = _logged_in(new_page, live_server, "compliance")

    def ask_for_transfer(search: bool = True):
        page.goto(live_server.url + "/disclosures")
        if search:
            page.fill("#subject-query", subject.email)
            page.click("#subject-search")
            page.click(f"#pick-{subject.id}")
        expect(page.locator("#picked-subjects")).to_contain_text(subject.surname)
        page.select_option("#new-kind", "third_party")
        page.select_option("#new-received_via", "email")
        page.fill("#new-body_name", "ТОО «Медиа Аналитика»")
        page.fill("#new-recipient", "ТОО «Медиа Аналитика»")
        page.fill("#new-request_number", "MA-77")
        page.fill("#new-request_date", "2026-11-25")
        page.fill("#new-answer_due_on", "2027-01-25")
        page.fill("#new-legal_basis", "Письмо о сотрудничестве")
        page.check("#ask-identity")
        page.click("#disclosure-create")

    ask_for_transfer()
    expect(page.locator("#disclosure-form-error")).to_have_text(
        tr("en", "disclosure.no_written_consent", subject_id=subject.id)
    )
    # The signed consent arrives on paper: recorded on the subject's page, naming the recipient.
    page.goto(f"{live_server.url}/subjects/{subject.id}")
    page.select_option("#consent-form-purpose", "transfer")
    page.fill("#consent-form-recipient", "ТОО «Медиа Аналитика»")
    page.select_option("#consent-form-channel", "paper")
    page.locator("input[name=evidence_ref]").fill("Вх. № 15 от 26.11.2026")
    page.locator("input[name=evidence_received]").fill("2026-11-26")
    page.click("#record-consent")
    expect(page.locator("#subject-notice")).to_have_text(tr("en", "subject.consent_recorded"))
    ask_for_transfer(search=False)  # the picked subjects survived the refusal
    page.wait_for_url(re.compile(r".*/disclosures/\d+/?$"))
    expect(page.locator("#disclosure-status")).to_contain_text(
        tr("en", "disclosure.status.received")
    )
