"""Files of the disclosure register: the package sent to a body and the register's log.

Split from ``services.disclosures`` (which keeps the workflow and re-exports these names).

* **The package** (policy clause 5.2): only the picked fields of the picked subjects, as CSV,
  XLSX or PDF. It is not stored: ``package_bytes`` rebuilds it and refuses it when the
  rebuilt SHA-256 differs from the one recorded at disclosure (the data changed since).
  CSV and XLSX go through ``services.tabular`` (cells that a spreadsheet would read as a
  formula are quoted). A package disclosed before that writer existed (writer version 1, no
  quoting) is rebuilt with the frozen version-1 writer when the current one gives another
  digest; a match proves those are the bytes that were sent. The version is derived, not
  stored: the digest itself tells which writer made the file.
* **The operator block** (issue 17): frozen at disclosure in ``disclosure.operator``
  (``operator_snapshot``) and printed from there — an XLSX package gets a second sheet
  ``Оператор``, a PDF package a heading block; a CSV package stays data only (header first;
  the register's log and the request's page name the operator). A package disclosed before
  (``operator`` NULL) rebuilds without it, exactly as it was sent.
* **The log** (CSV, XLSX, PDF): every request with its dates, body, basis and digest — no
  subject's values. The SHA-256 of its rows (``log_digest``) is the same for every format and
  language because it is computed over the rows' stored values, not over the file. The PDF
  ends with it; the CSV and XLSX are written by the export writer (issue 18,
  ``LogTable``/``log_chunks``): header first, codes as labels, Almaty times — the digest
  goes to the XLSX's About sheet and beside the CSV (decision 18-exports-1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import DataSubject, Disclosure, DisclosureSubject, Member, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import tabular
from dpa_panel.services.disclosures import (
    LOG_BATCH,
    MEMBER_FIELDS,
    DisclosureFilter,
    _conditions,
    _links,
    _load,
    _loads,
    _picked_fields,
    _selection,
    filter_to_strings,
)
from dpa_panel.services.errors import ServiceError

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

#: Fixed texts of a package. Deliberately not from the catalog: a package must be rebuilt
#: byte for byte years later, so nothing in it may depend on wording that can be edited.
PACKAGE_TITLE = "Дербес деректерді беру / Передача персональных данных"
PACKAGE_NO = "no"
#: Writer versions a package may have been made with, newest first (see the docstring).
PACKAGE_WRITERS: tuple[int, ...] = (tabular.WRITER_VERSION, 1)
#: PDF layouts, newest first: 2 is written for the authority (labels and values in Kazakh and
#: Russian, Almaty time; ``services.documents.disclosure_package``, issue 18), 1 is the frozen
#: layout of packages sent before (field names, UTC).
PDF_LAYOUTS: tuple[int, ...] = (2, 1)
#: The operator block (issue 17) of a package: sheet name, header and labels, fixed in
#: Kazakh / Russian like ``PACKAGE_TITLE`` (a package must not depend on editable wording).
OPERATOR_SHEET = "Оператор"
OPERATOR_HEADER = ("Көрсеткіш / Показатель", "Мәні / Значение")
OPERATOR_LABELS = {
    "name_kk": "Атауы (қазақ тілінде) / Наименование (на казахском языке)",
    "name_ru": "Атауы (орыс тілінде) / Наименование (на русском языке)",
    "name_en": "Атауы (ағылшын тілінде) / Наименование (на английском языке)",
    "bin": "БСН / БИН",
    "address": "Мекенжай / Адрес",
    "dp_email": "Жеке деректер бойынша e-mail / E-mail по персональным данным",
    "responsible": "Жеке деректерді өңдеуді ұйымдастыруға жауапты тұлға / "
    "Лицо, ответственное за организацию обработки персональных данных",
}


# --- the operator block ----------------------------------------------------------------------


def operator_snapshot(session: Session) -> str:
    """The operator block as it stands now, frozen for ``disclosure.operator`` at disclosure:
    a JSON list of [label, value] rows (empty values left out). The labels are stored with the
    values, so neither a later profile edit nor a reworded label changes a rebuilt package."""
    from dpa_panel.services.org_profile import public_profile

    profile = public_profile(session)
    responsible = profile.responsible_name
    if responsible and profile.responsible_contact:
        responsible += f" ({profile.responsible_contact})"
    values = {
        "name_kk": profile.names.get("kk", ""),
        "name_ru": profile.names.get("ru", ""),
        "name_en": profile.names.get("en", ""),
        "bin": profile.bin,
        "address": profile.address,
        "dp_email": profile.dp_email,
        "responsible": responsible,
    }
    rows = [[OPERATOR_LABELS[k], v] for k, v in values.items() if v]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def operator_rows(disclosure: Disclosure) -> list[list[str]] | None:
    """The frozen operator rows of a package; ``None`` for a package disclosed before the
    snapshot existed (it rebuilds exactly as it was sent: without an operator block)."""
    if disclosure.operator is None:
        return None
    try:
        rows = json.loads(disclosure.operator)
    except ValueError:
        return []
    return [[str(label), str(value)] for label, value in rows]


# --- the package -----------------------------------------------------------------------------


def _package_rows(
    session: Session, disclosure: Disclosure
) -> tuple[list[str], list[list[str]], list[int]]:
    """(columns, rows of strings, subject ids): one row per subject with a picked field."""
    selection = _selection(_links(session, disclosure.id))
    columns = _picked_fields(selection)
    ids = [sid for sid in sorted(selection) if selection[sid]]
    subjects = {
        s.id: s
        for s in session.scalars(
            select(DataSubject)
            .where(DataSubject.id.in_(ids or [-1]))
            .execution_options(populate_existing=True)
        )
    }
    members = {
        m.subject_id: m
        for m in session.scalars(select(Member).where(Member.subject_id.in_(ids or [-1])))
    }
    rows: list[list[str]] = []
    for n, sid in enumerate(ids, start=1):
        subject, member = subjects.get(sid), members.get(sid)
        picked = set(selection[sid])
        row = [str(n)]
        for name in columns:
            value: Any = None
            if name in picked:
                if name in MEMBER_FIELDS:
                    value = getattr(member, MEMBER_FIELDS[name]) if member is not None else None
                elif subject is not None:
                    value = getattr(subject, name)
            row.append(_cell(value))
        rows.append(row)
    return [PACKAGE_NO, *columns], rows, ids


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_bytes(columns: list[str], rows: list[list[str]], writer: int) -> bytes:
    if writer == 1:
        return tabular.legacy_v1_csv_bytes(columns, rows)
    return tabular.csv_bytes(columns, rows)


def _xlsx_bytes(
    columns: list[str],
    rows: list[list[str]],
    moment: datetime,
    title: str,
    writer: int,
    operator: list[list[str]] | None = None,
) -> bytes:
    """The data sheet (header first); with a frozen operator block, a second sheet
    ``Оператор`` of label/value rows (no row above the data header). The version-1 writer
    never had one: those packages were all sent before the snapshot existed."""
    if writer == 1:
        return tabular.legacy_v1_xlsx_bytes(columns, rows, moment, title)
    book = tabular.XlsxBook(title=title, moment=moment)
    book.sheet("package", columns, widths=tabular.auto_widths(columns, rows)).rows(rows)
    if operator is not None:
        header = list(OPERATOR_HEADER)
        book.sheet(OPERATOR_SHEET, header, widths=tabular.auto_widths(header, operator)).rows(
            operator
        )
    return book.to_bytes(reproducible=True)


def _pdf_font(pdf) -> None:
    if not Path(FONT_PATH).exists():
        raise RuntimeError(f"font missing: {FONT_PATH} (Debian package fonts-dejavu-core)")
    pdf.add_font("DejaVu", "", FONT_PATH)
    if Path(FONT_BOLD_PATH).exists():
        pdf.add_font("DejaVu", "B", FONT_BOLD_PATH)
    else:  # pragma: no cover - the package ships both
        pdf.add_font("DejaVu", "B", FONT_PATH)


def _pdf_bytes(
    disclosure: Disclosure, columns: list[str], rows: list[list[str]], moment: datetime
) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_creation_date(moment.astimezone(UTC).replace(microsecond=0))
    pdf.set_creator("DPA Panel")
    pdf.set_producer("DPA Panel")
    pdf.set_title(f"{disclosure.reference}")
    pdf.set_auto_page_break(True, margin=15)
    _pdf_font(pdf)
    pdf.add_page()
    operator = operator_rows(disclosure)
    if operator is not None:  # issue 17: the frozen operator block heads the package
        pdf.set_font("DejaVu", "", 9)
        for label, value in operator:
            pdf.multi_cell(0, 4.5, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                           wrapmode="CHAR")  # fmt: skip
        pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, PACKAGE_TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    for text in (
        f"{disclosure.reference} — {disclosure.body_name}"
        + (f", {disclosure.body_department}" if disclosure.body_department else ""),
        f"{disclosure.request_number} / {disclosure.request_date.isoformat()}",
        f"{disclosure.legal_article} {disclosure.legal_basis}".strip(),
        moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    ):
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
    pdf.ln(3)
    for row in rows:
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(0, 5, f"{PACKAGE_NO} {row[0]}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "", 9)
        for name, value in zip(columns[1:], row[1:], strict=True):
            if value:
                pdf.multi_cell(0, 5, f"{name}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                               wrapmode="CHAR")  # fmt: skip
        pdf.ln(2)
    return bytes(pdf.output())


def build_package(
    session: Session, disclosure: Disclosure, writer: int | None = None
) -> tuple[bytes, int, list[str]]:
    """(bytes, rows, field names) of the package in ``disclosure.package_format``, written
    with CSV/XLSX writer version ``writer`` or, for a PDF, layout ``writer`` (default: the
    newest of each)."""
    columns, rows, _ids = _package_rows(session, disclosure)
    moment = disclosure.disclosed_at or utcnow()
    fmt = disclosure.package_format
    if writer is None:
        writer = PDF_LAYOUTS[0] if fmt == "pdf" else tabular.WRITER_VERSION
    if fmt == "csv":
        data = _csv_bytes(columns, rows, writer)
    elif fmt == "xlsx":
        data = _xlsx_bytes(
            columns, rows, moment, disclosure.reference, writer, operator_rows(disclosure)
        )
    elif fmt == "pdf" and writer == 1:
        data = _pdf_bytes(disclosure, columns, rows, moment)
    elif fmt == "pdf":
        from dpa_panel.services.documents import disclosure_package

        data = disclosure_package.render(
            disclosure, columns, rows, moment, operator_rows(disclosure)
        ).output()
    else:
        raise ServiceError("disclosure.bad_format", field="format")
    return data, len(rows), columns[1:]


def package_filename(disclosure: Disclosure) -> str:
    return f"{disclosure.reference}-package.{disclosure.package_format or 'csv'}"


def package_bytes(session: Session, disclosure_id: int) -> tuple[str, str, bytes]:
    """(filename, media type, bytes) of a disclosed request's package, rebuilt; refused
    (``disclosure.package_changed``) when no writer version rebuilds the recorded SHA-256
    (the data was rectified or destroyed since). The current writer is tried first; a CSV or
    XLSX package sent before neutralisation matches only the frozen version 1, a PDF package
    sent before issue 18 only the frozen layout 1."""
    disclosure = _load(session, disclosure_id)
    if disclosure.status != "disclosed":
        raise ServiceError("disclosure.bad_status")
    tabular_format = disclosure.package_format in ("csv", "xlsx")
    writers = PACKAGE_WRITERS if tabular_format else PDF_LAYOUTS
    for writer in writers:
        data, _count, _fields = build_package(session, disclosure, writer)
        if hashlib.sha256(data).hexdigest() == disclosure.package_sha256:
            return package_filename(disclosure), MEDIA_TYPES[disclosure.package_format], data
    raise ServiceError("disclosure.package_changed")


# --- the log ---------------------------------------------------------------------------------


#: Columns of the disclosure log (labels: ``disclosure_log.<column>``). No personal data of
#: the subjects: their number, the categories and field names, never values.
LOG_COLUMNS = (
    "reference",
    "kind",
    "status",
    "body_name",
    "body_department",
    "body_type",
    "recipient",
    "request_number",
    "request_date",
    "received_via",
    "legal_article",
    "legal_basis",
    "answer_due_on",
    "subjects",
    "requested_categories",
    "disclosed_fields",
    "created_by",
    "created_at",
    "decided_by",
    "decided_at",
    "disclosed_by",
    "disclosed_at",
    "sent_via",
    "package_format",
    "package_rows",
    "package_sha256",
)
LOG_WIDTHS = {
    "reference": 16, "kind": 12, "status": 13, "body_name": 36, "body_department": 28,
    "body_type": 22, "recipient": 28, "request_number": 18, "request_date": 12,
    "received_via": 13,
    "legal_article": 20, "legal_basis": 48, "answer_due_on": 12, "subjects": 9,
    "requested_categories": 30, "disclosed_fields": 40, "created_by": 14, "created_at": 21,
    "decided_by": 14, "decided_at": 21, "disclosed_by": 14, "disclosed_at": 21, "sent_via": 13,
    "package_format": 8, "package_rows": 9, "package_sha256": 66,
}  # fmt: skip


def _ts(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def iter_log_rows(
    session: Session, flt: DisclosureFilter, batch: int = LOG_BATCH
) -> Iterator[dict[str, Any]]:
    """The log in request-date order (oldest first), fetched ``batch`` rows at a time with a
    keyset on (request_date, id): values as strings except ``subjects``/``package_rows``."""
    conds = _conditions(session, flt)
    users = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
    last: tuple[date, int] | None = None
    d = Disclosure.__table__.c
    columns = [
        d.id, d.reference, d.kind, d.status, d.body_name, d.body_department, d.body_type,
        d.recipient,
        d.request_number, d.request_date, d.received_via, d.legal_article, d.legal_basis,
        d.answer_due_on, d.requested_categories, d.package_fields, d.created_by_id,
        d.created_at, d.decided_by_id, d.decided_at, d.disclosed_by_id, d.disclosed_at,
        d.sent_via, d.package_format, d.package_rows, d.package_sha256,
    ]  # fmt: skip
    link = DisclosureSubject.__table__.c
    count = (
        select(func.count())
        .where(link.disclosure_id == d.id)
        .correlate(Disclosure.__table__)
        .scalar_subquery()
        .label("subject_count")
    )
    while True:
        stmt = select(*columns, count).where(*conds)
        if last is not None:
            stmt = stmt.where(tuple_(d.request_date, d.id) > tuple_(*last))
        chunk = session.execute(stmt.order_by(d.request_date, d.id).limit(batch)).all()
        if not chunk:
            return
        for r in chunk:
            yield {
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "body_name": r.body_name,
                "body_department": r.body_department,
                "body_type": r.body_type,
                "recipient": r.recipient,
                "request_number": r.request_number,
                "request_date": r.request_date.isoformat(),
                "received_via": r.received_via,
                "legal_article": r.legal_article,
                "legal_basis": r.legal_basis,
                "answer_due_on": r.answer_due_on.isoformat(),
                "subjects": r.subject_count,
                "requested_categories": " ".join(_loads(r.requested_categories, [])),
                "disclosed_fields": " ".join(_loads(r.package_fields, [])),
                "created_by": users.get(r.created_by_id, ""),
                "created_at": _ts(r.created_at),
                "decided_by": users.get(r.decided_by_id, ""),
                "decided_at": _ts(r.decided_at),
                "disclosed_by": users.get(r.disclosed_by_id, ""),
                "disclosed_at": _ts(r.disclosed_at),
                "sent_via": r.sent_via,
                "package_format": r.package_format,
                "package_rows": r.package_rows,
                "package_sha256": r.package_sha256,
            }
        last = (chunk[-1].request_date, chunk[-1].id)
        if len(chunk) < batch:
            return


def canonical_row(row: dict[str, Any]) -> bytes:
    """One log row as the digest reads it: a JSON array of its values as text, and a new line.
    Every format of the same log has the same digest."""
    values = ["" if row[c] is None else str(row[c]) for c in LOG_COLUMNS]
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def log_digest(rows: Iterable[dict[str, Any]]) -> str:
    """SHA-256 over ``canonical_row`` of every row, in order."""
    h = hashlib.sha256()
    for row in rows:
        h.update(canonical_row(row))
    return h.hexdigest()


def _log_labels(language: str) -> list[str]:
    return [tr(language, f"disclosure_log.{c}") for c in LOG_COLUMNS]


def _generated_line(language: str, now: datetime) -> str:
    return f"{tr(language, 'disclosure_log.generated_at')}: {_ts(now)}"


def _digest_line(language: str, digest: str, count: int) -> str:
    return tr(language, "disclosure_log.digest", digest=digest, count=count)


class LogTable:
    """The log as the export writer writes it (issue 18): labels for every code (type,
    status, body type, channels, categories, fields), Almaty times with their offset, and
    the register digest (``log_digest``, the same in every format and language) computed
    while the rows stream, for the About sheet / companion text."""

    def __init__(self, session: Session, flt: DisclosureFilter, language: str,
                 batch: int = LOG_BATCH) -> None:  # fmt: skip
        self.session, self.flt, self.batch = session, flt, batch
        self.lang = normalise_locale(language)
        self.title = tr(self.lang, "disclosure_log.title")
        self.sheet = ""  # the writer's data sheet name ("export.sheet.data")
        self.header = _log_labels(self.lang)
        self.widths = [LOG_WIDTHS[c] for c in LOG_COLUMNS]
        self._digest = hashlib.sha256()
        self.extra: list[tuple[str, str]] = []
        shown = {k: v for k, v in filter_to_strings(flt).items() if v}
        for key in ("status", "kind"):  # codes: shown as their labels
            if shown.get(key):
                shown[key] = tr(self.lang, f"disclosure.{key}.{shown[key]}")
        self.filters = "; ".join(
            f"{tr(self.lang, 'disclosure_log.filter_' + k)}: {v}" for k, v in shown.items()
        )

    def rows(self) -> Iterator[list[Any]]:
        for row in iter_log_rows(self.session, self.flt, self.batch):
            self._digest.update(canonical_row(row))
            yield log_table_row(row, self.lang)
        # The About lines are read after the last row: the register digest is complete.
        self.extra.append((tr(self.lang, "export.about.register_sha256"), self._digest.hexdigest()))


def _words(lang: str, prefix: str, codes: str) -> str:
    from dpa_panel.i18n import catalog

    words = catalog(lang)
    return "; ".join(words.get(f"{prefix}{c}", c) for c in codes.split() if c)


def log_table_row(row: dict[str, Any], lang: str) -> list[Any]:
    """One ``iter_log_rows`` row for people, in ``LOG_COLUMNS`` order."""
    from dpa_panel.services import tabular

    def label(vocabulary: str, code: str) -> str:
        return tr(lang, f"{vocabulary}.{code}") if code else ""

    out = dict(row)
    out["kind"] = label("disclosure.kind", row["kind"])
    out["status"] = label("disclosure.status", row["status"])
    out["body_type"] = label("disclosure.body_type", row["body_type"])
    out["received_via"] = label("disclosure.channel", row["received_via"])
    out["sent_via"] = label("disclosure.channel", row["sent_via"])
    out["package_format"] = (row["package_format"] or "").upper()
    out["requested_categories"] = _words(lang, "disclosure.category.", row["requested_categories"])
    out["disclosed_fields"] = _words(lang, "subject.", row["disclosed_fields"])
    for column in ("created_at", "decided_at", "disclosed_at"):
        moment = row[column]
        out[column] = tabular.local_time(datetime.fromisoformat(moment)) if moment else ""
    return [out[c] for c in LOG_COLUMNS]


def log_about(table: LogTable, now: datetime | None = None) -> tabular.About:
    return tabular.About(title=table.title, language=table.lang, generated_at=now or utcnow(),
                         extra=table.extra)  # fmt: skip


def log_chunks(
    session: Session,
    flt: DisclosureFilter,
    fmt: str,
    *,
    language: str = "kk",
    now: datetime | None = None,
    batch: int = LOG_BATCH,
    about: tabular.About | None = None,
) -> Iterator[bytes]:
    """The log as CSV or XLSX through the export writer (``tabular.table_chunks``): header
    on the first row and nothing else in a CSV; an XLSX adds its About sheet (generated at,
    rows, table SHA-256, the register digest ``log_digest``). ``about`` (optional) receives
    the metadata — a CSV's belongs beside the file, not in it (decision 18-exports-1)."""
    table = LogTable(session, flt, language, batch)
    about = about or log_about(table, now)
    about.extra = table.extra
    if table.filters:
        table.extra.append((tr(table.lang, "export.about.filters"), table.filters))
    yield from tabular.table_chunks(fmt, table.header, table.rows(), about=about,
                                    sheet=table.sheet, widths=table.widths)  # fmt: skip


def log_csv(
    session: Session,
    flt: DisclosureFilter,
    *,
    language: str = "kk",
    now: datetime | None = None,
    batch: int = LOG_BATCH,
    about: tabular.About | None = None,
) -> Iterator[bytes]:
    """The log as a plain CSV, in chunks (BOM, header, rows)."""
    yield from log_chunks(session, flt, "csv", language=language, now=now, batch=batch,
                          about=about)  # fmt: skip


def log_xlsx(
    session: Session,
    flt: DisclosureFilter,
    path: Path | str,
    *,
    language: str = "kk",
    now: datetime | None = None,
    batch: int = LOG_BATCH,
) -> int:
    """Write the log to ``path`` as XLSX (streamed: constant memory). Returns the row count."""
    table = LogTable(session, flt, language, batch)
    about = log_about(table, now)
    with open(path, "wb") as out:
        for chunk in log_chunks(session, flt, "xlsx", language=language, now=now, batch=batch,
                                about=about):  # fmt: skip
            out.write(chunk)
    return about.rows


def log_pdf(
    session: Session,
    flt: DisclosureFilter,
    *,
    language: str = "kk",
    now: datetime | None = None,
    batch: int = LOG_BATCH,
) -> bytes:
    """The log as a printable PDF (A4 landscape, DejaVu): title, generated-at, the filter,
    one block per request, and the SHA-256 of the rows at the end. Rows are read in batches;
    the PDF document itself is built in memory (fpdf2), as the other PDF reports are."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    lang = normalise_locale(language)
    now = now or utcnow()

    def t(key: str, **params) -> str:
        return tr(lang, key, **params)

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    _pdf_font(pdf)
    pdf.add_page()
    # Issue 17: the operator (organisation profile) heads every generated document.
    from dpa_panel.services.org_profile import document_header

    pdf.set_font("DejaVu", "", 9)
    for line in document_header(session, lang):
        pdf.multi_cell(0, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, t("disclosure_log.title"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, _generated_line(lang, now), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    shown = {k: v for k, v in filter_to_strings(flt).items() if v}
    if shown:
        text = "; ".join(f"{t('disclosure_log.filter_' + k)}: {v}" for k, v in shown.items())
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
    pdf.ln(2)
    h = hashlib.sha256()
    count = 0

    def label(vocabulary: str, code: str) -> str:
        return t(f"{vocabulary}.{code}") if code else ""

    for row in iter_log_rows(session, flt, batch):
        h.update(canonical_row(row))
        count += 1
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(
            0, 5,
            f"{row['reference']} — {label('disclosure.kind', row['kind'])} — "
            f"{label('disclosure.status', row['status'])}",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        pdf.set_font("DejaVu", "", 8)
        body = row["body_name"] + (f", {row['body_department']}" if row["body_department"] else "")
        lines = [
            f"{t('disclosure_log.body_name')}: {body} "
            f"({label('disclosure.body_type', row['body_type'])})"
            + (f"; {t('disclosure_log.recipient')}: {row['recipient']}" if row["recipient"]
               else ""),
            f"{t('disclosure_log.request_number')}: {row['request_number']}; "
            f"{t('disclosure_log.request_date')}: {row['request_date']}; "
            f"{t('disclosure_log.received_via')}: "
            f"{label('disclosure.channel', row['received_via'])}; "
            f"{t('disclosure_log.answer_due_on')}: {row['answer_due_on']}",
            f"{t('disclosure_log.legal_article')}: {row['legal_article']} — {row['legal_basis']}",
            f"{t('disclosure_log.subjects')}: {row['subjects']}; "
            f"{t('disclosure_log.requested_categories')}: {row['requested_categories']}",
        ]  # fmt: skip
        if row["disclosed_at"]:
            lines.append(
                f"{t('disclosure_log.disclosed_at')}: {row['disclosed_at']} "
                f"({row['disclosed_by']}, {label('disclosure.channel', row['sent_via'])}, "
                f"{row['package_format']}, {row['package_rows']}); "
                f"{t('disclosure_log.disclosed_fields')}: {row['disclosed_fields']}"
            )
            lines.append(f"SHA-256: {row['package_sha256']}")
        if row["decided_by"]:
            lines.append(f"{t('disclosure_log.decided_by')}: {row['decided_by']} "
                         f"{row['decided_at']}")  # fmt: skip
        for text in lines:
            pdf.multi_cell(0, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
        pdf.ln(1.5)
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, _digest_line(lang, h.hexdigest(), count), new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT, wrapmode="CHAR")  # fmt: skip
    return bytes(pdf.output())


def log_filename(fmt: str, today: date | None = None) -> str:
    """``disclosure-log-<Almaty date>.<fmt>`` (issue 18: the Almaty date, not the server's)."""
    return f"disclosure-log-{(today or tabular.local_today()).isoformat()}.{fmt}"


__all__ = [
    "FONT_BOLD_PATH",
    "FONT_PATH",
    "LOG_COLUMNS",
    "LOG_WIDTHS",
    "MEDIA_TYPES",
    "PACKAGE_NO",
    "PACKAGE_TITLE",
    "PACKAGE_WRITERS",
    "build_package",
    "canonical_row",
    "iter_log_rows",
    "LogTable",
    "log_chunks",
    "log_csv",
    "log_table_row",
    "log_digest",
    "log_filename",
    "log_pdf",
    "log_xlsx",
    "package_bytes",
    "package_filename",
]
