"""Reading an uploaded spreadsheet (issue 21) into plain rows, refusing what is not one.

Only *reading* happens here; every file the panel writes goes through ``services.tabular``.
The file's content decides its type, not its name: an ``.xlsx`` is a ZIP package with
``xl/workbook.xml``; a CSV is text (UTF-8, with or without a byte-order mark, else
Windows-1251, which Excel in Russian and Kazakh locales still writes). Everything else is
refused with a catalog key the user can act on (``import.bad.*``), before anything is stored:

* not a spreadsheet (an image, a PDF, a Word file renamed ``.xlsx``), an old binary ``.xls``
  or a password-protected workbook (both are OLE2 compound files), a broken ZIP;
* a file over ``max_bytes`` or a sheet over ``max_rows`` data rows (limits below, set by
  ``DPA_IMPORT_MAX_BYTES``/``DPA_IMPORT_MAX_ROWS``), a ZIP that unpacks to more than
  ``UNPACKED_LIMIT`` (a "zip bomb");
* a missing sheet, an empty sheet;
* merged cells at or below the header row (their value sits in the top-left cell only, the
  others read as empty: the user must unmerge them rather than have us guess).

Formulas are never evaluated: openpyxl (under pandas) reads the value Excel saved with the
file; the number of formula cells is reported so the user knows. Values keep their types
(numbers, dates, text): ``services.import_columns`` turns each into what its field needs.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from dpa_panel.services.errors import ServiceError

#: Defaults of the limits; 10,000 rows (the benchmark) is well inside them.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
#: What the XML inside an .xlsx may unpack to, whatever the file size.
UNPACKED_LIMIT = 400 * 1024 * 1024
#: How many top rows are searched for the header row (titles often sit above it).
HEADER_SEARCH_ROWS = 10

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MERGE = re.compile(rb'<mergeCell[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_FORMULA = re.compile(rb"<f[ >/]")


def max_bytes() -> int:
    raw = os.environ.get("DPA_IMPORT_MAX_BYTES", "").strip()
    return int(raw) if raw else DEFAULT_MAX_BYTES


def max_rows() -> int:
    raw = os.environ.get("DPA_IMPORT_MAX_ROWS", "").strip()
    return int(raw) if raw else DEFAULT_MAX_ROWS


@dataclass
class Sheet:
    """A sheet as read: every row a list of raw cell values (``None`` for empty)."""

    fmt: str  # "xlsx" or "csv"
    name: str
    rows: list[list[Any]]
    sheet_names: list[str] = field(default_factory=list)
    formula_cells: int = 0
    #: (first row, last row) of every merged range, 1-based sheet row numbers.
    merged_rows: list[tuple[int, int, str]] = field(default_factory=list)


def detect_format(data: bytes, filename: str) -> str:
    """``"xlsx"`` or ``"csv"`` from the bytes (the name only has to agree); refuses the rest."""
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in (".xlsx", ".csv"):
        raise ServiceError("import.bad.extension")
    if len(data) > max_bytes():
        raise ServiceError("import.bad.too_big", limit=max_bytes() // (1024 * 1024))
    if not data:
        raise ServiceError("import.bad.empty")
    if data.startswith(_OLE2):
        raise ServiceError("import.bad.protected_or_xls")
    if data.startswith(_ZIP):
        if ext != ".xlsx":
            raise ServiceError("import.bad.not_spreadsheet")
        return "xlsx"
    if ext == ".xlsx":
        raise ServiceError("import.bad.not_spreadsheet")
    if b"\x00" in data[:65536]:
        raise ServiceError("import.bad.not_spreadsheet")
    return "csv"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Control characters other than line ends and tabs mean a binary file.
        if any(ord(c) < 32 and c not in "\r\n\t" for c in text[:65536]):
            raise ServiceError("import.bad.not_spreadsheet")
        return text
    raise ServiceError("import.bad.not_spreadsheet")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Sheet:
    text = _decode(data)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=_delimiter(text), header=None, dtype=str,
            keep_default_na=False, skip_blank_lines=False, engine="python",
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        if isinstance(err, pd.errors.EmptyDataError):
            raise ServiceError("import.bad.empty") from None
        raise ServiceError("import.bad.not_spreadsheet") from None
    rows = [[(v if v != "" else None) for v in row] for row in frame.itertuples(index=False)]
    return Sheet(fmt="csv", name="", rows=rows, sheet_names=[])


def _sheet_paths(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the package."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    paths = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        target = target.lstrip("/")
        paths[sheet.get("name", "")] = target if target.startswith("xl/") else f"xl/{target}"
    return paths


def _inspect_xlsx(data: bytes, sheet_name: str | None) -> tuple[str, list[str], int, list]:
    """(sheet to read, every sheet name, formula cells, merged ranges) from the package."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in package.infolist()) > UNPACKED_LIMIT:
            raise ServiceError("import.bad.too_big", limit=max_bytes() // (1024 * 1024))
        paths = _sheet_paths(package)
        names = list(paths)
        if not names:
            raise ServiceError("import.bad.empty")
        name = sheet_name if sheet_name else names[0]
        if name not in paths:
            raise ServiceError("import.bad.no_sheet", sheet=name, sheets=", ".join(names))
        xml = package.read(paths[name])
    except ServiceError:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        raise ServiceError("import.bad.corrupted") from None
    merged = []
    for m in _MERGE.finditer(xml):
        first, last = int(m.group(2)), int(m.group(4) or m.group(2))
        ref = m.group(0).split(b'ref="')[1].rstrip(b'"').decode()
        merged.append((first, last, ref))
    return name, names, len(_FORMULA.findall(xml)), merged


def _read_xlsx(data: bytes, sheet_name: str | None) -> Sheet:
    name, names, formulas, merged = _inspect_xlsx(data, sheet_name)
    try:
        frame = pd.read_excel(
            io.BytesIO(data), sheet_name=name, header=None, dtype=object, engine="openpyxl"
        )
    except Exception:  # openpyxl raises many types for a damaged package: all mean "corrupted"
        raise ServiceError("import.bad.corrupted") from None
    rows = [
        [None if (v is None or (isinstance(v, float) and v != v)) else v for v in row]
        for row in frame.itertuples(index=False)
    ]
    return Sheet("xlsx", name, rows, names, formulas, merged)


def read_sheet(data: bytes, filename: str, sheet_name: str | None = None) -> Sheet:
    """The sheet's rows, or ``ServiceError("import.bad.*")`` (see the module docstring)."""
    fmt = detect_format(data, filename)
    sheet = _read_xlsx(data, sheet_name) if fmt == "xlsx" else _read_csv(data)
    # Trailing empty rows (formatting that reaches far down) are not rows.
    while sheet.rows and all(v is None or str(v).strip() == "" for v in sheet.rows[-1]):
        sheet.rows.pop()
    if not sheet.rows:
        raise ServiceError("import.bad.empty")
    if len(sheet.rows) - 1 > max_rows():
        raise ServiceError("import.bad.too_many_rows", limit=max_rows())
    return sheet
