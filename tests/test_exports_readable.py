"""Exports people can open (issue 18, point 2) and the streaming XLSX writer (issue 19).

Every CSV/XLSX kind of ``dpa_panel.exports.EXPORTS`` is fetched through the registry, as
``/api/download`` streams it, in Kazakh, Russian and English, and parsed back with pandas:
the header is row 0 and is the translated labels, code cells are labels (no ``snake_case``
token), every time carries the Almaty offset, the file name carries the Almaty date, an XLSX
has its About sheet, and a CSV's metadata is beside it (the ``export.file`` audit event and
the ``export_about`` companion text) with digests this test recomputes from the bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS, release_row
from dpa_panel.i18n import catalog, tr
from dpa_panel.services import audit, tabular
from tests.test_exports_injection import SCENARIOS, world  # noqa: F401  (the fixture)

LANGUAGES = ("kk", "ru", "en")
#: A code as stored: lowercase words joined by "_" (``law_enforcement``, ``first_name``).
CODE = re.compile(r"(?:^|[\s;,])[a-z]+(?:_[a-z]+)+(?:$|[\s;,])")
#: A date-time cell (a date alone is a calendar date and has no zone).
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
#: Columns copied as recorded because a hash covers them (label keys), per kind.
VERBATIM = {
    "audit_csv": {"audit.action", "audit.entity_type", "audit.entity_id", "audit.details",
                  "export.audit.prev_hash", "export.audit.hash"},
    "acts_csv": {"gaps.act.categories_recorded", "gaps.act.rule_recorded", "retention.digest",
                 "retention.act_batch", "export.act.reference", "retention.act_subject"},
}  # fmt: skip
KINDS = [k for k in SCENARIOS if k.endswith(("_csv", "_xlsx")) and SCENARIOS[k]]


def _fetch(kind: str, params: dict, user_id: int) -> bytes:
    return b"".join(EXPORTS[kind].stream({"kind": kind, **params}, user_id))


def _read(kind: str, data: bytes, lang: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) as pandas reads them, every cell as text."""
    if kind.endswith("_xlsx"):
        frames = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=str,
                               keep_default_na=False)  # fmt: skip
        assert list(frames)[-1] == tr(lang, "export.about.sheet")
        frame = frames[tr(lang, "export.sheet.data")]
    else:
        assert data.startswith("\ufeff".encode())
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")  # fmt: skip
    return [str(c) for c in frame.columns], frame.to_numpy().tolist()


def _last_export_event(engine, user_id: int, kind: str) -> dict:
    with session_scope(engine) as s:
        event = s.scalars(
            select(audit.AuditEvent)
            .where(audit.AuditEvent.action == "export.file", audit.AuditEvent.entity_id == kind,
                   audit.AuditEvent.actor_id == user_id)
            .order_by(audit.AuditEvent.id.desc())
        ).first()  # fmt: skip
        assert event is not None, kind
        return {"id": event.id, **json.loads(event.details)}


def test_every_export_reads_back_in_every_language(world, engine):  # noqa: F811
    user = world["officer"]
    checked = 0
    for kind in KINDS:
        scenario = SCENARIOS[kind][0]
        params = {k: v for k, v in world[scenario][0].items() if k != "language"}
        headers = {}
        for lang in LANGUAGES:
            data = _fetch(kind, {**params, "language": lang}, user)
            header, rows = _read(kind, data, lang)
            labels = set(catalog(lang).values())
            # Row 0 is the header, and every header cell is a label of this language.
            assert header and all(h in labels for h in header), (kind, lang, header)
            headers[lang] = header
            assert rows, (kind, lang)
            verbatim = {tr(lang, k) for k in VERBATIM.get(kind, ())}
            for row in rows:
                for name, cell in zip(header, row, strict=True):
                    if TIME.match(cell):
                        assert cell.endswith("+05:00"), (kind, lang, name, cell)
                    if name not in verbatim:
                        assert not CODE.search(cell), (kind, lang, name, cell)
            event = _last_export_event(engine, user, kind)
            assert event["rows"] == len(rows) and event["generated_at"].endswith("+05:00")
            assert event["file"] == EXPORTS[kind].filename({"kind": kind, **params})
            if kind.endswith("_xlsx"):
                book = load_workbook(io.BytesIO(data))
                data_sheet = book[tr(lang, "export.sheet.data")]
                assert data_sheet.freeze_panes == "A2" and data_sheet["A1"].font.b
                cells = [["" if c is None else str(c) for c in r]
                         for r in data_sheet.iter_rows(values_only=True)]  # fmt: skip
                about = dict(pd.read_excel(io.BytesIO(data), sheet_name=-1, dtype=str,
                                           keep_default_na=False).to_numpy().tolist())  # fmt: skip
                assert about[tr(lang, "export.about.generated_at")].endswith("+05:00")
                assert about[tr(lang, "export.about.rows")] == str(len(rows))
                digest = about[tr(lang, "export.about.table_sha256")]
                assert digest == tabular.table_digest(cells) == event["table_sha256"]
            else:
                # Nothing above the header, nothing below the last row.
                assert len(data.decode("utf-8-sig").split("\r\n")) == len(rows) + 2
                assert event["file_sha256"] == hashlib.sha256(data).hexdigest()
                parsed = [header, *rows]
                assert event["table_sha256"] == tabular.table_digest(parsed)
                text = _fetch("export_about", {"event_id": event["id"]}, user).decode("utf-8-sig")
                assert event["file_sha256"] in text and event["table_sha256"] in text
                assert tr(lang, "export.about.generated_at") in text
                name = EXPORTS["export_about"].filename({"event_id": event["id"]})
                assert name == event["file"].rsplit(".", 1)[0] + ".about.txt"
                # Only one's own export: another user gets nothing.
                assert _fetch("export_about", {"event_id": event["id"]}, user + 999) == b""
            checked += 1
        assert len({tuple(h) for h in headers.values()}) == 3, (kind, headers)
    assert checked == len(KINDS) * 3 and len(KINDS) >= 9


def test_disclosure_log_cells_are_labels(world):  # noqa: F811
    """The user's report: raw codes and UTC times in the disclosure log."""
    data = _fetch("disclosure_log_csv", {"language": "ru"}, world["officer"])
    header, rows = _read("disclosure_log_csv", data, "ru")
    row = dict(zip(header, rows[-1], strict=True))
    assert row[tr("ru", "disclosure_log.kind")] == tr("ru", "disclosure.kind.authority")
    assert row[tr("ru", "disclosure_log.status")] == tr("ru", "disclosure.status.disclosed")
    assert row[tr("ru", "disclosure_log.body_type")] == tr(
        "ru", "disclosure.body_type.law_enforcement")
    assert tr("ru", "subject.surname") in row[tr("ru", "disclosure_log.disclosed_fields")]
    assert row[tr("ru", "disclosure_log.disclosed_at")].endswith("+05:00")


@pytest.mark.parametrize("kind", sorted(k for k, e in EXPORTS.items()
                                        if k not in ("disclosure_package", "export_about")
                                        and "{" not in str(e.filename)))  # fmt: skip
def test_file_names_carry_the_almaty_date(kind, monkeypatch, engine):
    """20:00 UTC on 1 March is already 2 March in Almaty."""
    monkeypatch.setattr(tabular, "_now", lambda: datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    params = {"kind": kind, "language": "kk", "version": 3, "subject_id": 1, "request_id": 1,
              "breach_id": 1, "release_id": 7}  # fmt: skip
    name = EXPORTS[kind].filename(params)
    if kind.startswith("inventory"):
        return  # one version of the list: named after it, not a day
    assert "2026-03-02" in name and "2026-03-01" not in name, name


def test_almaty_time_and_names():
    moment = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert tabular.local_time(moment) == "2026-03-02 01:00:00+05:00"
    assert tabular.export_filename("audit", "csv", moment) == "audit-2026-03-02.csv"
    assert tabular.about_filename("audit-2026-03-02.csv") == "audit-2026-03-02.about.txt"
    with pytest.raises(ValueError):
        tabular.local_time(datetime(2026, 3, 1, 20, 0))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_statistics_release_csv_is_in_words(lang):
    """The user's report: statistics CSV headers were English in every language."""
    from dpa_panel.services import stats_releases

    header = [tr(lang, f"export.stats.{c}") for c in stats_releases.EXPORT_COLUMNS]
    cells = [
        {"table": "disclosures", "period": "2026-Q1", "row": "all", "column": "law_enforcement",
         "value": 12, "hidden": False},
        {"table": "consents", "period": "2026-01", "row": "informing", "column": "share_pct",
         "value": None, "hidden": True},
    ]  # fmt: skip
    rows = [release_row(c, lang) for c in cells]
    about = tabular.About(title="x", language=lang, generated_at=datetime.now(UTC))
    data = b"".join(tabular.table_chunks("csv", header, rows, about=about))
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")  # fmt: skip
    assert list(frame.columns) == header
    assert frame.iloc[0].tolist() == [
        tr(lang, "stats_rel.table_disclosures"), "2026-Q1", tr(lang, "stats_rel.col_total"),
        tr(lang, "disclosure.body_type.law_enforcement"), "12", tr(lang, "export.no")]
    assert frame.iloc[1, 2] == tr(lang, "consents.short_informing")
    assert frame.iloc[1, 4] == "" and frame.iloc[1, 5] == tr(lang, "export.yes")
    assert not any(CODE.search(c) for c in frame.to_numpy().ravel())


def test_streaming_xlsx_keeps_neutralisation_and_reads_back():
    """The streaming writer (issue 19): no cell is a formula, payloads keep their quote,
    numbers stay numbers, control characters cannot break the XML."""
    from tests.test_tabular import PAYLOADS

    rows = [[p, -3, True, "x\r\ny & <z>"] for p in PAYLOADS] + [["a\x01b", 1.5, None, ""]]
    about = tabular.About(title="t", language="en", generated_at=datetime.now(UTC))
    data = b"".join(tabular.table_chunks("xlsx", ["a", "b", "c", "d"], rows, about=about,
                                         batch=2))  # fmt: skip
    book = load_workbook(io.BytesIO(data))
    ws = book["Data"]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    values = list(ws.iter_rows(min_row=2, values_only=True))
    assert [v[0] for v in values[:-1]] == ["'" + p if tabular.needs_neutralising(p) else p
                                           for p in PAYLOADS]  # fmt: skip
    assert values[0][1] == -3 and values[0][2] is True and values[0][3] == "x\r\ny & <z>"
    assert values[-1][0] == "a\ufffdb" and values[-1][1] == 1.5
    assert about.rows == len(rows)
    assert book.sheetnames == ["Data", "About"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_import_reconsent_list_has_its_about_sheet(engine, lang):
    """The small in-memory workbooks (import reports) carry the same About sheet."""
    from dpa_panel.services import member_import as mi

    with session_scope(engine) as s:
        data = mi.reconsent_xlsx(s, lang)
    frames = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=str, keep_default_na=False)
    assert list(frames) == [tr(lang, "import.reconsent.sheet"), tr(lang, "export.about.sheet")]
    header = list(frames[tr(lang, "import.reconsent.sheet")].columns)
    about = dict(frames[tr(lang, "export.about.sheet")].to_numpy().tolist())
    assert about[tr(lang, "export.about.generated_at")].endswith("+05:00")
    assert about[tr(lang, "export.about.rows")] == "0"
    assert about[tr(lang, "export.about.table_sha256")] == tabular.table_digest([header])


# --- issue 18 gaps (decisions 18-gaps-*) ------------------------------------------------------


def test_file_names_use_references_not_ids_or_names(world, engine, monkeypatch):  # noqa: F811
    """A subject's report is named after the reference the person quotes (their application's),
    an access package after its request, a release after its month: no internal id, no name."""
    from dpa_panel.models import DataSubject, MembershipApplication, StatsRelease, SubjectRequest

    monkeypatch.setattr(tabular, "_now", lambda: datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    with session_scope(engine) as s:
        app = s.scalars(select(MembershipApplication).order_by(MembershipApplication.id)).first()
        subject = s.get(DataSubject, app.subject_id)
        request = s.scalars(select(SubjectRequest)).first()
        s.add(StatsRelease(id=4242, period=202602, k=5))
        ref, sid, surname = app.reference, subject.id, subject.surname
        rref, rid = request.reference, request.id
    for kind, ext in (("subject_report_pdf", "pdf"), ("subject_report_json", "json")):
        name = EXPORTS[kind].filename({"kind": kind, "subject_id": sid})
        assert name == f"data-report-{ref}-2026-03-02.{ext}", name
        assert f"-{sid}-" not in name and (not surname or surname not in name)
    name = EXPORTS["access_package_pdf"].filename({"request_id": rid})
    assert name == f"access-package-{rref}-2026-03-02.pdf" and str(rid) not in name.split("-")
    for kind, ext in (("stats_release_csv", "csv"), ("stats_release_json", "json")):
        name = EXPORTS[kind].filename({"kind": kind, "release_id": 4242})
        assert name == f"statistics-release-2026-02-2026-03-02.{ext}" and "4242" not in name
    for kind in ("breach_notice", "breach_letter"):
        name = EXPORTS[kind].filename({"reference": "BR-2026-000007", "subject_id": sid})
        assert name == f"{kind.replace('_', '-')}-BR-2026-000007-2026-03-02.pdf", name
    # Unknown subject: no reference, still dated.
    assert EXPORTS["subject_report_pdf"].filename({"subject_id": 10**9}) == \
        "data-report-2026-03-02.pdf"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_about_filters_are_labelled_names_and_values(world, engine, lang):  # noqa: F811
    """The About "filters" line: the filter form's labels and the values in words."""
    user = world["officer"]
    params = {"actor_type": "user", "action": "export.file", "entity_type": "export",
              "date_from": "2020-01-01", "actor_id": str(user), "language": lang}
    _fetch("audit_csv", params, user)
    event = _last_export_event(engine, user, "audit_csv")
    text = _fetch("export_about", {"event_id": event["id"]}, user).decode("utf-8-sig")
    line = next(x for x in text.splitlines()
                if x.startswith(tr(lang, "export.about.filters")))  # fmt: skip
    from dpa_panel.services import audit_view

    for label in ("audit.actor", "export.audit.actor_type", "audit.action", "audit.entity_type",
                  "audit.date_from"):
        assert tr(lang, label) + ": " in line, (label, line)
    assert tr(lang, "export.audit.actor_user") in line
    assert audit_view.action_label(lang, "export.file") in line
    assert "officer" in line and "2020-01-01" in line
    assert "=" not in line and "actor_type" not in line and not CODE.search(line), line
    # The request register's filters read the same way.
    _fetch("requests_csv", {"view": "all", "request_kind": "access", "assignee": "none",
                            "language": lang}, user)  # fmt: skip
    event = _last_export_event(engine, user, "requests_csv")
    filters = dict(event["extra"])[tr(lang, "export.about.filters")]
    assert tr(lang, "register.view.all") in filters and tr(lang, "request_kind.access") in filters
    assert tr(lang, "register.nobody") in filters and not CODE.search(filters), filters


@pytest.mark.parametrize("lang", LANGUAGES)
def test_destruction_acts_have_words_beside_the_codes(world, engine, lang):  # noqa: F811
    """Categories and ground in words next to the recorded codes the act's digest covers."""
    from dpa_panel.models import DestructionAct
    from dpa_panel.services.documents import destruction_act

    data = _fetch("acts_csv", {"language": lang}, world["officer"])
    header, rows = _read("acts_csv", data, lang)
    col = {name: i for i, name in enumerate(header)}
    readable = (tr(lang, "retention.act_categories"), tr(lang, "doc.act.ground"))
    recorded = (tr(lang, "gaps.act.categories_recorded"), tr(lang, "gaps.act.rule_recorded"))
    assert all(h in col for h in readable + recorded)
    assert col[readable[0]] == col[recorded[0]] + 1 and col[readable[1]] == col[recorded[1]] + 1
    with session_scope(engine) as s:
        acts = {tabular.neutralise(a.reference): a for a in s.scalars(select(DestructionAct))}
    assert rows
    cell = tabular.neutralise  # what the writer makes of a payload
    for row in rows:
        act = acts[row[col[tr(lang, "export.act.reference")]]]
        assert row[col[readable[0]]] == cell(destruction_act.categories(lang, act.categories))
        assert row[col[readable[1]]] == cell(destruction_act.ground(lang, act.rule))
        assert row[col[recorded[1]]] == cell(act.rule)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reconsent_list_shows_language_names(engine, lang, monkeypatch):
    from dpa_panel.services import member_import as mi

    rows = [["A", "B", "", "a@example.kz", code, f"M-{code}"] for code in ("kk", "ru", "en")]
    monkeypatch.setattr(mi, "reconsent_rows", lambda _s: iter(rows))
    with session_scope(engine) as s:
        data = mi.reconsent_xlsx(s, lang)
    frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, keep_default_na=False)
    column = frame[tr(lang, "import.field.language")].tolist()
    assert column == [tr(lang, f"gaps.language.{c}") for c in ("kk", "ru", "en")]
    assert not {"kk", "ru", "en"} & set(column)


def test_about_text_only_for_the_exports_owner(world, engine):  # noqa: F811
    """Another real account gets nothing for the owner's event (and no file name leak)."""
    from tests.pipeline_helpers import make_staff

    owner = world["officer"]
    other = make_staff(engine, "another-officer", "compliance")
    _fetch("mailing_csv", {"language": "en"}, owner)
    event = _last_export_event(engine, owner, "mailing_csv")
    assert event["file_sha256"] in _fetch("export_about", {"event_id": event["id"]},
                                          owner).decode("utf-8-sig")  # fmt: skip
    assert _fetch("export_about", {"event_id": event["id"]}, other) == b""
