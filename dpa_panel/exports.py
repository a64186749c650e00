"""Streamed downloads: what each download ticket kind produces and who may fetch it.

A guarded event handler issues a single-use ticket (``services.auth.issue_ticket``) with the
export's parameters and writes the audit event; the browser then fetches
``/api/download/<ticket>`` (see ``dpa_panel.api``), which re-checks the session and the
permission and streams the file in batches, so a large export never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from dpa_panel.db import session_scope
from dpa_panel.models import StaffUser
from dpa_panel.services import audit, tabular


@dataclass(frozen=True)
class Export:
    permission: str
    media_type: str
    filename: Callable[[dict], str]
    #: (params, user id of the checked session) -> the file, in chunks
    stream: Callable[[dict, int], Iterator[bytes]]
    #: when the media type depends on the parameters (a disclosure package): params -> type
    media_type_for: Callable[[dict], str] | None = None

    def media_type_of(self, params: dict) -> str:
        return self.media_type_for(params) if self.media_type_for else self.media_type


def audit_filter_from_params(params: dict) -> audit.AuditFilter:
    def _date(value):
        return date.fromisoformat(value) if value else None

    actor_id = params.get("actor_id")
    return audit.AuditFilter(
        actor_id=int(actor_id) if actor_id not in (None, "") else None,
        actor_type=params.get("actor_type", ""),
        action=params.get("action", ""),
        entity_type=params.get("entity_type", ""),
        entity_id=params.get("entity_id", ""),
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
    )


def _stream_audit_csv(params: dict, _user_id: int) -> Iterator[bytes]:
    flt = audit_filter_from_params(params)
    with session_scope() as session:
        usernames = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
        rows = (audit.csv_row(event, usernames) for event in audit.iter_events(session, flt))
        yield from tabular.csv_chunks(audit.CSV_COLUMNS, rows)


def _stream_mailing_csv(_params: dict, _user_id: int) -> Iterator[bytes]:
    """Everyone who may be informed now (``services.consent.mailing_list``), in batches."""
    from dpa_panel.services import consent

    with session_scope() as session:
        yield from tabular.csv_chunks(consent.MAILING_CSV_HEADER, consent.mailing_list(session))


def _report(params: dict, user_id: int) -> dict:
    """The subject's data report; generating it is audited inside the same transaction."""
    from dpa_panel.services import requests
    from dpa_panel.services.audit import Actor

    with session_scope() as session:
        return requests.subject_report(session, Actor.user(user_id), int(params["subject_id"]))


def _stream_report_json(params: dict, user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import requests

    yield requests.report_json(_report(params, user_id))


def _stream_report_pdf(params: dict, user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import requests

    # The subject's language (issue 18), not the officer's: the report is written for them.
    yield requests.report_pdf(_report(params, user_id))


def _stream_access_package_pdf(params: dict, user_id: int) -> Iterator[bytes]:
    """The access package of an online request exactly as stored for review (issue 20)."""
    import json

    from dpa_panel.services import privacy_centre, requests

    with session_scope() as session:
        package = privacy_centre.package_for(session, int(params["request_id"]))
        if package is None:
            return
        report = json.loads(package.report)
        audit.record(session, audit.Actor.user(user_id), "access_package.previewed",
                     "access_package", package.id, {"request_id": package.request_id})  # fmt: skip
    # What the person will get: the report in their own language (issue 18).
    yield requests.report_pdf(report)


def _release_id(params: dict) -> int:
    return int(params.get("release_id", 0) or 0)


def _stream_release_json(params: dict, _user_id: int) -> Iterator[bytes]:
    """A published statistics release (issue 14): the stored cells, never recomputed."""
    from dpa_panel.services import stats_releases

    with session_scope() as session:
        data = stats_releases.export_json(session, _release_id(params))
    yield data


def _stream_release_csv(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import stats_releases

    with session_scope() as session:
        data = stats_releases.export_csv(session, _release_id(params))
    yield data


def _stream_acts_csv(_params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import retention

    with session_scope() as session:
        rows = (retention.act_row(act) for act in retention.iter_acts(session))
        yield from tabular.csv_chunks(retention.ACT_COLUMNS, rows)


def _stream_acts_pdf(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import retention

    with session_scope() as session:
        from dpa_panel.services.org_profile import document_header

        language = params.get("language", "kk")
        acts = list(retention.iter_acts(session))
        yield retention.acts_pdf(acts, language, document_header(session, language))


# --- the disclosure register (services.disclosures) -----------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


def _disclosure_filter(params: dict):
    """The register filter from ticket parameters. The type filter travels as
    ``disclosure_kind``: ``kind`` is the export's own name in every ticket."""
    from dpa_panel.services import disclosures

    return disclosures.disclosure_filter_from_strings(
        date_from=str(params.get("date_from", "") or ""),
        date_to=str(params.get("date_to", "") or ""),
        body=str(params.get("body", "") or ""),
        status=str(params.get("status", "") or ""),
        kind=str(params.get("disclosure_kind", "") or ""),
    )


def _stream_disclosure_log_csv(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import disclosure_exports

    flt = _disclosure_filter(params)
    with session_scope() as session:
        yield from disclosure_exports.log_csv(session, flt, language=params.get("language", "kk"))


def _stream_disclosure_log_xlsx(params: dict, _user_id: int) -> Iterator[bytes]:
    """Written to a temporary file by openpyxl's write-only mode, then streamed from it."""
    import os
    import tempfile

    from dpa_panel.services import disclosure_exports

    flt = _disclosure_filter(params)
    fd, path = tempfile.mkstemp(prefix="dpa-disclosure-log-", suffix=".xlsx")
    os.close(fd)
    try:
        with session_scope() as session:
            disclosure_exports.log_xlsx(session, flt, path, language=params.get("language", "kk"))
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def _stream_disclosure_log_pdf(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import disclosure_exports

    flt = _disclosure_filter(params)
    with session_scope() as session:
        yield disclosure_exports.log_pdf(session, flt, language=params.get("language", "kk"))


def _package(params: dict) -> tuple[str, str, bytes]:
    from dpa_panel.services import disclosure_exports

    with session_scope() as session:
        return disclosure_exports.package_bytes(session, int(params["disclosure_id"]))


def _package_meta(params: dict) -> tuple[str, str]:
    """(file name, media type) of a disclosed request's package, from its register row."""
    from dpa_panel.models import Disclosure
    from dpa_panel.services import disclosure_exports as files

    with session_scope() as session:
        row = session.get(Disclosure, int(params["disclosure_id"]))
        if row is None or not row.package_format:
            return "package.bin", "application/octet-stream"
        return files.package_filename(row), files.MEDIA_TYPES[row.package_format]


def _stream_disclosure_package(params: dict, _user_id: int) -> Iterator[bytes]:
    """The package rebuilt byte for byte; refused if its SHA-256 no longer matches."""
    _name, _type, data = _package(params)
    yield data


# --- the request register (services.request_register) --------------------------------------


def write_table(header: list[str], rows: Iterator[list[str]], fmt: str) -> Iterator[bytes]:
    """The request register as CSV (streamed) or XLSX through the one writer
    (``services.tabular``: header first, formula triggers neutralised, XLSX cells text)."""
    if fmt == "csv":
        yield from tabular.csv_chunks(header, rows)
        return
    yield tabular.xlsx_bytes(header, rows, sheet="register")


def _stream_requests(fmt: str):
    def stream(params: dict, _user_id: int) -> Iterator[bytes]:
        from dpa_panel.i18n.formatting import to_local
        from dpa_panel.models.types import utcnow
        from dpa_panel.services import request_register as register

        language = params.get("language", "kk")
        values = {k: str(v) for k, v in params.items() if k != "kind"}
        values["kind"] = str(params.get("request_kind", "") or "")
        query = register.query_from_strings(values)
        with session_scope() as session:
            rows = register.iter_register(session, query, today=to_local(utcnow()).date())
            yield from write_table(
                register.export_header(language),
                (register.export_row(r, language) for r in rows),
                fmt,
            )

    return stream


# --- the breach register (issue 17, services.breach_documents) -------------------------------


def _stream_breaches(fmt: str):
    def stream(params: dict, _user_id: int) -> Iterator[bytes]:
        from dpa_panel.services import breach_documents as docs

        language = params.get("language", "kk")
        with session_scope() as session:
            if fmt == "pdf":
                yield docs.register_pdf(session, language)
                return
            rows = (docs.export_row(b, language) for b in docs.iter_register(session))
            yield from write_table(docs.export_header(language), rows, fmt)

    return stream


def _stream_breach_notice(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import breach_documents, breaches

    with session_scope() as session:
        breach = breaches.get_breach(session, int(params["breach_id"]))
        people = breach_documents.linked_people(session, breach)
        yield breach_documents.notice_pdf(session, breach, params.get("language", "kk"), people)


def _stream_breach_letter(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.models import DataSubject
    from dpa_panel.services import breach_documents, breaches

    with session_scope() as session:
        breach = breaches.get_breach(session, int(params["breach_id"]))
        subject = session.get(DataSubject, int(params["subject_id"]))
        yield breach_documents.letter_pdf(session, breach, subject)


def _stream_inventory_pdf(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.models import DataInventory
    from dpa_panel.services import data_inventory

    with session_scope() as session:
        row = session.scalars(
            select(DataInventory).where(DataInventory.version == int(params["version"]))
        ).one()
        yield data_inventory.pdf(session, row, params.get("language", "kk"))


def _breach_file(kind: str, ext: str):
    return lambda params: f"{kind}-{params.get('reference', date.today().isoformat())}.{ext}"


EXPORTS: dict[str, Export] = {
    "inventory_pdf": Export(
        permission="inventory.read", media_type="application/pdf",
        filename=lambda params: f"personal-data-list-v{params.get('version', '')}"
        f"-{params.get('language', 'kk')}.pdf",
        stream=_stream_inventory_pdf,
    ),
    "breaches_csv": Export(
        permission="breaches.read", media_type="text/csv; charset=utf-8",
        filename=_breach_file("breaches", "csv"), stream=_stream_breaches("csv"),
    ),
    "breaches_xlsx": Export(
        permission="breaches.read", media_type=XLSX,
        filename=_breach_file("breaches", "xlsx"), stream=_stream_breaches("xlsx"),
    ),
    "breaches_pdf": Export(
        permission="breaches.read", media_type="application/pdf",
        filename=_breach_file("breaches", "pdf"), stream=_stream_breaches("pdf"),
    ),
    "breach_notice": Export(
        permission="breaches.read", media_type="application/pdf",
        filename=_breach_file("breach-notice", "pdf"), stream=_stream_breach_notice,
    ),
    "breach_letter": Export(
        permission="breaches.manage", media_type="application/pdf",
        filename=_breach_file("breach-letter", "pdf"), stream=_stream_breach_letter,
    ),
    "requests_csv": Export(
        permission="requests.manage",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"requests-{date.today().isoformat()}.csv",
        stream=_stream_requests("csv"),
    ),
    "requests_xlsx": Export(
        permission="requests.manage",
        media_type=XLSX,
        filename=lambda params: f"requests-{date.today().isoformat()}.xlsx",
        stream=_stream_requests("xlsx"),
    ),
    "disclosure_log_csv": Export(
        permission="disclosures.manage",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"disclosure-log-{date.today().isoformat()}.csv",
        stream=_stream_disclosure_log_csv,
    ),
    "disclosure_log_xlsx": Export(
        permission="disclosures.manage",
        media_type=XLSX,
        filename=lambda params: f"disclosure-log-{date.today().isoformat()}.xlsx",
        stream=_stream_disclosure_log_xlsx,
    ),
    "disclosure_log_pdf": Export(
        permission="disclosures.manage",
        media_type="application/pdf",
        filename=lambda params: f"disclosure-log-{date.today().isoformat()}.pdf",
        stream=_stream_disclosure_log_pdf,
    ),
    "disclosure_package": Export(
        permission="disclosures.manage",
        media_type="application/octet-stream",
        filename=lambda params: _package_meta(params)[0],
        stream=_stream_disclosure_package,
        media_type_for=lambda params: _package_meta(params)[1],
    ),
    "acts_csv": Export(
        permission="retention.manage",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"destruction-acts-{date.today().isoformat()}.csv",
        stream=_stream_acts_csv,
    ),
    "acts_pdf": Export(
        permission="retention.manage",
        media_type="application/pdf",
        filename=lambda params: f"destruction-acts-{date.today().isoformat()}.pdf",
        stream=_stream_acts_pdf,
    ),
    "stats_release_json": Export(
        permission="stats.read",
        media_type="application/json",
        filename=lambda params: f"statistics-release-{params.get('release_id', '')}.json",
        stream=_stream_release_json,
    ),
    "stats_release_csv": Export(
        permission="stats.read",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"statistics-release-{params.get('release_id', '')}.csv",
        stream=_stream_release_csv,
    ),
    "mailing_csv": Export(
        permission="consents.write",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"mailing-list-{date.today().isoformat()}.csv",
        stream=_stream_mailing_csv,
    ),
    "subject_report_json": Export(
        permission="requests.manage",
        media_type="application/json",
        filename=lambda params: f"subject-{params['subject_id']}-report.json",
        stream=_stream_report_json,
    ),
    "subject_report_pdf": Export(
        permission="requests.manage",
        media_type="application/pdf",
        filename=lambda params: f"subject-{params['subject_id']}-report.pdf",
        stream=_stream_report_pdf,
    ),
    "access_package_pdf": Export(
        permission="requests.manage",
        media_type="application/pdf",
        filename=lambda params: f"access-package-{params['request_id']}.pdf",
        stream=_stream_access_package_pdf,
    ),
    "audit_csv": Export(
        permission="audit.export",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"audit-{date.today().isoformat()}.csv",
        stream=_stream_audit_csv,
    ),
}
