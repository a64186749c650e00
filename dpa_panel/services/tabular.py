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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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
        if not value:
            return value
        first = value[0]
        if first in FORMULA_TRIGGERS:
            return QUOTE + value
        if not first.isspace():  # the usual cell: decided by its first character
            return value
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
        #: The ``TableDigest`` of the header and rows written so far (for an About sheet).
        self.digest = TableDigest()

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

        values = neutralise_row(values)
        self.digest.update(values)
        self._sheet.append(self._cells(values, Font(bold=True)))

    def row(self, values: Iterable[Any]) -> None:
        values = neutralise_row(values)
        self.digest.update(values)
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

    def about(self, about: About, data: XlsxSheet) -> None:
        """The ``About`` sheet (issue 18) of a small workbook: rows and table SHA-256 of
        ``data``, generated at (Almaty time), the caller's extra lines."""
        from dpa_panel.i18n import tr

        about.rows, about.table_sha256 = data.count, data.digest.hexdigest()
        lang = about.language
        sheet = self.sheet(tr(lang, "export.about.sheet"),
                           [tr(lang, "export.about.item"), tr(lang, "export.about.value")],
                           widths=[34, 100])  # fmt: skip
        sheet.rows(about.lines())

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


# --- exports people open (issue 18): labels, Almaty times, About, streaming XLSX -------------
#
# Every CSV/XLSX *export* (not a disclosure package, whose bytes are frozen by its digest) is
# written by ``table_chunks``: the header is the first row (nothing above it, nothing below
# the last row), header and code cells are labels in the chosen language (the caller passes
# them), times are Almaty times with their offset (``local_time``), the file name carries the
# Almaty date (``export_filename``). The metadata — generated at, row count, the SHA-256 of
# the table and, for a CSV, of the file — goes into an ``About`` sheet of an XLSX and, for a
# CSV, *beside* the file (decision 18-exports-1): ``about_text`` is the companion
# ``<name>.about.txt`` and the export layer records the same values in the audit event of the
# download (``dpa_panel.exports``).
#
# The XLSX is written by ``StreamingXlsx``: a minimal SpreadsheetML writer that streams the
# zip (no temporary file, constant memory) and is several times faster than openpyxl's
# write-only mode; its cells go through ``neutralise`` exactly like every other writer here.

_ALMATY = None


def _zone():
    global _ALMATY
    if _ALMATY is None:
        from zoneinfo import ZoneInfo

        from dpa_panel import settings

        _ALMATY = ZoneInfo(settings.DISPLAY_TZ)
    return _ALMATY


def local_time(value: datetime | None) -> str:
    """``2026-03-01 15:00:00+05:00``: the display-zone (Almaty) time with its offset;
    ``""`` for None. Refuses a naive datetime (stored times are aware UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return value.astimezone(_zone()).isoformat(sep=" ", timespec="seconds")


def _now() -> datetime:
    """The current time (a seam for tests around Almaty midnight)."""
    return datetime.now(UTC)


def local_today(now: datetime | None = None) -> date:
    """The Almaty calendar date of ``now`` (default: the current time)."""
    return (now or _now()).astimezone(_zone()).date()


def export_filename(stem: str, ext: str, now: datetime | None = None) -> str:
    """``<stem>-<Almaty date>.<ext>`` (20:00 UTC is already the next day in Almaty)."""
    return f"{stem}-{local_today(now).isoformat()}.{ext}"


def about_filename(filename: str) -> str:
    """The companion of a CSV: ``audit-2026-03-02.csv`` -> ``audit-2026-03-02.about.txt``."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}.about.txt"


def cell_text(value: Cell) -> str:
    """A written cell as the table digest reads it (the text a CSV holds)."""
    return value if isinstance(value, str) else str(value)


class TableDigest:
    """SHA-256 over the table as written: for the header and each row, the JSON array of its
    neutralised cells as text (``cell_text``) and a new line. A CSV parsed back with the csv
    module (or pandas, ``dtype=str``) and an XLSX read back give the same texts, so anyone can
    recompute it from the file (``table_digest``)."""

    def __init__(self) -> None:
        import hashlib

        self._h = hashlib.sha256()

    def update(self, cells: Sequence[Cell]) -> None:
        import json

        line = json.dumps([c if type(c) is str else str(c) for c in cells], ensure_ascii=False,
                          separators=(",", ":"))  # fmt: skip
        self._h.update(line.encode("utf-8") + b"\n")

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def table_digest(rows: Iterable[Sequence[Any]]) -> str:
    """The ``TableDigest`` of rows read back from a file (header first), cells as text."""
    digest = TableDigest()
    for row in rows:
        digest.update(["" if c is None else str(c) for c in row])
    return digest.hexdigest()


@dataclass
class About:
    """What an export says about itself (the About sheet / the companion text)."""

    title: str
    language: str
    generated_at: datetime
    filename: str = ""
    rows: int = 0
    table_sha256: str = ""
    file_sha256: str = ""
    #: (label, value) lines the caller adds: who exported, the filters, a register digest.
    extra: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        from dpa_panel.i18n import tr

        lang = self.language

        def t(key: str) -> str:
            return tr(lang, f"export.about.{key}")

        out = [(t("title"), self.title), (t("generated_at"), local_time(self.generated_at))]
        if self.filename:
            out.append((t("file"), self.filename))
        out.append((t("rows"), str(self.rows)))
        out.append((t("table_sha256"), self.table_sha256))
        if self.file_sha256:
            out.append((t("file_sha256"), self.file_sha256))
        out.extend(self.extra)
        out.append((t("how_to_verify"), t("how_to_verify_text")))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The values for an audit event (codes, not labels)."""
        return {
            "file": self.filename,
            "generated_at": local_time(self.generated_at),
            "rows": self.rows,
            "table_sha256": self.table_sha256,
            **({"file_sha256": self.file_sha256} if self.file_sha256 else {}),
        }


def about_text(about: About) -> bytes:
    """The companion ``<name>.about.txt`` of a CSV: one ``label: value`` line each, UTF-8
    with a BOM (Notepad and Excel read it), CRLF line ends."""
    lines = [f"{label}: {value}" for label, value in about.lines()]
    return (BOM + CRLF.join(lines) + CRLF).encode("utf-8")


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Anything a text cell cannot carry as it is: markup characters, CR, illegal characters.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class _Sink(io.RawIOBase):
    """A write-only, unseekable byte sink: ``zipfile`` then streams (data descriptors)."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class StreamingXlsx:
    """A workbook written straight into a streamed zip: ``sheet`` opens a sheet, ``row``
    appends (every cell through ``neutralise``; text as inline strings, so no cell is ever a
    formula), ``take`` returns the bytes written so far, ``close`` finishes the file.
    One sheet is open at a time; sheets appear in the order they were opened."""

    def __init__(self, *, title: str = "", moment: datetime | None = None) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._title = title
        self._moment = moment or datetime.now(UTC)
        self._sheets: list[str] = []
        self._handle = None
        self._row = 0
        self._refs: list[str] = []
        self.count = 0

    def sheet(
        self,
        name: str,
        header: Sequence[Any] | None = None,
        *,
        widths: Sequence[float] | None = None,
        freeze_header: bool = True,
        wrap: bool = False,
    ) -> StreamingXlsx:
        self._end_sheet()
        self._sheets.append(name[:31])
        path = f"xl/worksheets/sheet{len(self._sheets)}.xml"
        self._handle = self._zip.open(path, "w", force_zip64=True)
        self._row = 0
        self.count = 0
        self._style = ' s="2"' if wrap else ""
        head = [_XML_HEAD, f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">']
        if header is not None and freeze_header:
            head.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
                        'topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                        "</sheetView></sheetViews>")  # fmt: skip
        if widths:
            head.append("<cols>")
            head.extend(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                        for i, w in enumerate(widths, start=1))  # fmt: skip
            head.append("</cols>")
        head.append("<sheetData>")
        self._write("".join(head))
        if header is not None:
            self._append(header, ' s="1"')
        return self

    def _write(self, text: str) -> None:
        self._handle.write(text.encode("utf-8"))

    def _append(self, values: Iterable[Any], style: str) -> list[Cell]:
        """One ``<row>``; the hot loop of a large export, so: one regex probe per text cell
        (plain text is written as it is), cell-reference prefixes computed once per column."""
        self._row += 1
        n = self._row
        cells = neutralise_row(values)
        refs = self._refs
        while len(refs) < len(cells):
            refs.append(f'<c r="{_column_letter(len(refs) + 1)}')
        text_tail = f'{n}" t="inlineStr"{style}><is><t xml:space="preserve">'
        plain_tail = f'{n}"{style}><v>'
        special = _XML_SPECIAL.search
        parts = [f'<row r="{n}">']
        append = parts.append
        for i, cell in enumerate(cells):
            if type(cell) is str:
                if not cell:
                    continue
                if special(cell):
                    if _ILLEGAL_XML.search(cell):  # XML cannot hold it; the digest reads the same
                        cell = cells[i] = _ILLEGAL_XML.sub("\ufffd", cell)
                    append(f"{refs[i]}{text_tail}{_xml_text(cell)}</t></is></c>")
                else:
                    append(f"{refs[i]}{text_tail}{cell}</t></is></c>")
            elif isinstance(cell, bool):
                append(f'{refs[i]}{n}" t="b"{style}><v>{int(cell)}</v></c>')
            else:
                append(f"{refs[i]}{plain_tail}{cell}</v></c>")
        append("</row>")
        self._write("".join(parts))
        return cells

    def row(self, values: Iterable[Any]) -> list[Cell]:
        """Append one data row; returns its cells as written (for a digest)."""
        cells = self._append(values, self._style)
        self.count += 1
        return cells

    def _end_sheet(self) -> None:
        if self._handle is not None:
            self._write("</sheetData></worksheet>")
            self._handle.close()
            self._handle = None

    def take(self) -> bytes:
        return self._sink.take()

    def close(self) -> bytes:
        """Finish the workbook; returns the remaining bytes."""
        self._end_sheet()
        z = self._zip
        n = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        z.writestr("[Content_Types].xml", _XML_HEAD +
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml"/>' + overrides + "</Types>")  # fmt: skip
        z.writestr("_rels/.rels", _XML_HEAD + f'<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>")  # fmt: skip
        stamp = self._moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        z.writestr("docProps/core.xml", _XML_HEAD +
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_xml_text(_ILLEGAL_XML.sub('', self._title))}</dc:title>"
            "<dc:creator>DPA Panel</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>")  # fmt: skip
        sheets = "".join(
            f'<sheet name="{_xml_text(name).replace(chr(34), "&quot;")}" sheetId="{i}" '
            f'r:id="rId{i}"/>'
            for i, name in enumerate(self._sheets, start=1)
        )
        z.writestr("xl/workbook.xml", _XML_HEAD +
                   f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>{sheets}</sheets>'
                   "</workbook>")  # fmt: skip
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        z.writestr("xl/_rels/workbook.xml.rels", _XML_HEAD +
                   f'<Relationships xmlns="{_NS_PKG}">{rels}<Relationship Id="rId{n + 1}" '
                   f'Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>')  # fmt: skip
        z.writestr("xl/styles.xml", _STYLES)
        z.close()
        return self.take()


def table_chunks(
    fmt: str,
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    about: About,
    sheet: str = "",
    widths: Sequence[float] | None = None,
    batch: int = 2000,
    on_done: Callable[[About], None] | None = None,
) -> Iterator[bytes]:
    """THE export writer: a whole CSV (BOM, header on the first line, rows — nothing else)
    or XLSX (data sheet with a bold frozen header, then the ``About`` sheet), in chunks.

    While writing, ``about`` gets the row count, the table SHA-256 (``TableDigest``) and, for a
    CSV, the SHA-256 of the file's bytes; ``on_done(about)`` is then called (the export layer
    records it in the audit event and offers the companion text)."""
    import hashlib

    digest = TableDigest()
    if fmt == "csv":
        file_hash = hashlib.sha256()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=CRLF)
        cells = neutralise_row(header)
        writer.writerow(cells)
        digest.update(cells)
        count = 0

        def flush(prefix: str = "") -> bytes:
            data = (prefix + buffer.getvalue()).encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            file_hash.update(data)
            return data

        yield flush(BOM)
        for values in rows:
            cells = neutralise_row(values)
            writer.writerow(cells)
            digest.update(cells)
            count += 1
            if count % batch == 0:
                yield flush()
        if buffer.tell():
            yield flush()
        about.file_sha256 = file_hash.hexdigest()
    elif fmt == "xlsx":
        from dpa_panel.i18n import tr

        book = StreamingXlsx(title=about.title, moment=about.generated_at)
        book.sheet(sheet or tr(about.language, "export.sheet.data"), header, widths=widths)
        digest.update(neutralise_row(header))
        for values in rows:
            digest.update(book.row(values))
            if book.count % batch == 0:
                yield book.take()
        count = book.count
        about.rows, about.table_sha256 = count, digest.hexdigest()
        lang = about.language
        book.sheet(tr(lang, "export.about.sheet"),
                   [tr(lang, "export.about.item"), tr(lang, "export.about.value")],
                   widths=[34, 100], wrap=True)  # fmt: skip
        for line in about.lines():
            book.row(line)
        yield book.close()
    else:
        raise ValueError(f"unknown table format: {fmt}")
    about.rows, about.table_sha256 = count, digest.hexdigest()
    if on_done is not None:
        on_done(about)


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
    "About",
    "StreamingXlsx",
    "TableDigest",
    "about_filename",
    "about_text",
    "export_filename",
    "local_time",
    "local_today",
    "table_chunks",
    "table_digest",
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
