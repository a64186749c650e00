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
    "acts_csv": {"retention.act_categories", "retention.act_rule", "retention.digest",
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
def test_file_names_carry_the_almaty_date(kind, monkeypatch):
    """20:00 UTC on 1 March is already 2 March in Almaty."""
    monkeypatch.setattr(tabular, "_now", lambda: datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    params = {"kind": kind, "language": "kk", "version": 3, "subject_id": 1, "request_id": 1,
              "breach_id": 1, "release_id": 7}  # fmt: skip
    name = EXPORTS[kind].filename(params)
    if kind.startswith(("subject_report", "access_package", "inventory")):
        return  # a document of one subject / one version: named after it, not a day
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
