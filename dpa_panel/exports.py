"""Streamed downloads: what each download ticket kind produces and who may fetch it.

A guarded event handler issues a single-use ticket (``services.auth.issue_ticket``) with the
export's parameters and writes the audit event; the browser then fetches
``/api/download/<ticket>`` (see ``dpa_panel.api``), which re-checks the session and the
permission and streams the file in batches, so a large export never sits in memory whole.

Every CSV/XLSX kind goes through ``services.tabular.table_chunks`` (issue 18, point 2):
header on the first row, labels in the ticket's ``language`` for headers and codes, Almaty
times with their offset, the Almaty date in the file name, an About sheet in an XLSX. When a
file has been streamed to its end, its metadata (generated at, rows, SHA-256 of the table and
of a CSV file, who, the filters) is recorded in an ``export.file`` audit event; the kind
``export_about`` serves it as the companion ``<name>.about.txt`` of a CSV
(decision 18-exports-1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


def _language(params: dict) -> str:
    from dpa_panel.i18n import normalise_locale

    return normalise_locale(str(params.get("language", "") or "kk"))


#: Ticket parameters that are not filters (what the About text lists as "filters"): the
#: export's own name, its language, and what the title or file name already says.
_NOT_FILTERS = {"kind", "language", "release_id", "reference"}

#: A ticket filter's label (the filter form's own label) and how its value reads: ``None``
#: as typed (a date, a number, a search), a catalog prefix for a code, or a function
#: (decision 18-gaps-2).
FILTER_LABELS: dict[str, tuple[str, object]] = {
    "actor_id": ("audit.actor", "user"),
    "actor_type": ("export.audit.actor_type", "actor"),
    "action": ("audit.action", "action"),
    "entity_type": ("audit.entity_type", "entity"),
    "entity_id": ("audit.entity_id", None),
    "date_from": ("audit.date_from", None),
    "date_to": ("audit.date_to", None),
    "view": ("register.views", "register.view."),
    "due_within": ("register.due_within", None),
    "request_kind": ("requests.kind", "request_kind."),
    "assignee": ("requests.assignee", "user"),
    "received_from": ("register.received_from", None),
    "received_to": ("register.received_to", None),
    "search": ("register.search", None),
}


def filter_value(session, lang: str, how: object, value) -> str:
    """A filter's value in words (a code as its label, an account as its user name)."""
    from dpa_panel.i18n import tr
    from dpa_panel.services import audit_view

    text = str(value)
    if how == "user":
        if text == "none":
            return tr(lang, "register.nobody")
        user = session.get(StaffUser, int(text)) if text.isdigit() else None
        return user.username if user is not None else text
    if how == "actor":
        return _actor_label(lang, text)
    if how == "action":
        return audit_view.action_label(lang, text)
    if how == "entity":
        return audit_view.entity_label(lang, text)
    if isinstance(how, str):
        return _label(lang, how + text, text)
    return text


def filters_text(session, params: dict, lang: str) -> str:
    """The ticket's filters as ``label: value`` pairs in ``lang`` (no parameter names, no
    codes); a parameter this table does not know keeps its value under a generic label."""
    from dpa_panel.i18n import tr

    parts = []
    for name, value in params.items():
        if name in _NOT_FILTERS or value in (None, ""):
            continue
        label_key, how = FILTER_LABELS.get(name, ("gaps.filter.other", None))
        parts.append(f"{tr(lang, label_key)}: {filter_value(session, lang, how, value)}")
    return "; ".join(parts)


def write_export(
    session,
    kind: str,
    params: dict,
    user_id: int,
    *,
    title: str,
    header: list[str],
    rows: Iterable[Iterable],
    sheet: str = "",
    widths: list[float] | None = None,
    extra: list[tuple[str, str]] | None = None,
    filters: str | None = None,
) -> Iterator[bytes]:
    """One CSV/XLSX export of ``kind`` through the one writer, and, once the last byte is
    written, its ``export.file`` audit event (in the caller's ``session``, so it commits with
    the read). The format is the kind's extension. ``extra`` About lines are read after the
    last row (a digest computed while the rows stream); ``filters`` replaces the generic
    ``name=value`` list of the ticket's filters."""
    from dpa_panel.i18n import tr
    from dpa_panel.models.types import utcnow

    lang = _language(params)
    fmt = "xlsx" if kind.endswith("_xlsx") else "csv"
    user = session.get(StaffUser, user_id)
    lines = [(tr(lang, "export.about.user"), user.username if user else "")]
    filters = filters_text(session, params, lang) if filters is None else filters
    if filters:
        lines.append((tr(lang, "export.about.filters"), filters))
    about = tabular.About(
        title=title, language=lang, generated_at=utcnow(),
        filename=EXPORTS[kind].filename(params), extra=lines,
    )  # fmt: skip

    def rows_then_extra() -> Iterator[Iterable]:
        yield from rows
        about.extra.extend(extra or [])

    def done(finished: tabular.About) -> None:
        audit.record(session, audit.Actor.user(user_id), "export.file", "export", kind, {
            **finished.as_dict(), "title": finished.title, "language": finished.language,
            "extra": [list(x) for x in finished.extra],
        })  # fmt: skip

    yield from tabular.table_chunks(fmt, header, rows_then_extra(), about=about,
                                    sheet=sheet, widths=widths, on_done=done)


def about_of_event(session, event_id: int, user_id: int) -> tabular.About | None:
    """The About of an ``export.file`` event of ``user_id`` (only one's own exports)."""
    import json
    from datetime import datetime

    event = session.get(audit.AuditEvent, event_id)
    if event is None or event.action != "export.file" or event.actor_id != user_id:
        return None
    d = json.loads(event.details)
    return tabular.About(
        title=d["title"], language=d["language"],
        generated_at=datetime.fromisoformat(d["generated_at"]), filename=d["file"],
        rows=d["rows"], table_sha256=d["table_sha256"], file_sha256=d.get("file_sha256", ""),
        extra=[(a, b) for a, b in d.get("extra", [])],
    )  # fmt: skip


def _stream_export_about(params: dict, user_id: int) -> Iterator[bytes]:
    with session_scope() as session:
        about = about_of_event(session, int(params.get("event_id", 0) or 0), user_id)
    if about is not None:
        yield tabular.about_text(about)


def _about_filename(params: dict) -> str:
    """``<name>.about.txt`` of the event's file (a file name holds no personal data)."""
    import json

    with session_scope() as session:
        event = session.get(audit.AuditEvent, int(params.get("event_id", 0) or 0))
        name = json.loads(event.details).get("file", "") if event is not None else ""
    return tabular.about_filename(name or "export.csv")


#: Labels of the audit trail's columns (``audit.CSV_COLUMNS``), existing keys first.
AUDIT_LABELS = {
    "id": "audit.id", "occurred_at_utc": "audit.when", "actor_type": "export.audit.actor_type",
    "actor_id": "export.audit.actor_id", "actor_username": "audit.actor",
    "action": "audit.action", "entity_type": "audit.entity_type", "entity_id": "audit.entity_id",
    "client_ip": "audit.ip", "details": "audit.details", "prev_hash": "export.audit.prev_hash",
    "hash": "export.audit.hash",
}  # fmt: skip
ACTOR_LABELS = {"user": "export.audit.actor_user", "public": "audit.actor_public",
                "system": "audit.actor_system"}  # fmt: skip


def _actor_label(lang: str, actor_type: str) -> str:
    from dpa_panel.i18n import tr

    return tr(lang, ACTOR_LABELS[actor_type]) if actor_type in ACTOR_LABELS else actor_type


def audit_export_row(event, usernames: dict[int, str], lang: str) -> list:
    """One event for people: Almaty time with offset, the actor type as a label. The action,
    entity, details and hashes stay as recorded: they are what the hash chain covers."""
    row = list(audit.csv_row(event, usernames))
    row[1] = tabular.local_time(event.occurred_at)
    row[2] = _actor_label(lang, event.actor_type)
    return row


def _stream_audit_csv(params: dict, user_id: int) -> Iterator[bytes]:
    from dpa_panel.i18n import tr

    lang = _language(params)
    flt = audit_filter_from_params(params)
    with session_scope() as session:
        usernames = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
        rows = (audit_export_row(e, usernames, lang) for e in audit.iter_events(session, flt))
        header = [tr(lang, AUDIT_LABELS[c]) for c in audit.CSV_COLUMNS]
        title = tr(lang, "audit.title")
        yield from write_export(session, "audit_csv", params, user_id, title=title,
                                header=header, rows=rows)  # fmt: skip


MAILING_LABELS = ("export.mailing.full_name", "subject.email", "export.mailing.unsubscribe_url")


def _stream_mailing_csv(params: dict, user_id: int) -> Iterator[bytes]:
    """Everyone who may be informed now (``services.consent.mailing_list``), in batches."""
    from dpa_panel.i18n import tr
    from dpa_panel.services import consent

    lang = _language(params)
    with session_scope() as session:
        yield from write_export(
            session, "mailing_csv", params, user_id, title=tr(lang, "consents.export_mailing"),
            header=[tr(lang, k) for k in MAILING_LABELS], rows=consent.mailing_list(session),
        )  # fmt: skip


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


def release_table(session, release_id: int, lang: str) -> tuple[str, list[str], Iterator]:
    """(title, header, rows) of a published release in words (the web download and
    ``dpa-panel stats export --format csv``); refused for an unknown release."""
    from dpa_panel.i18n import tr
    from dpa_panel.services import stats_releases
    from dpa_panel.services.errors import ServiceError

    info = stats_releases.release_info(session, release_id)
    if info is None:
        raise ServiceError("stats.release_unknown")
    header = [tr(lang, f"export.stats.{c}") for c in stats_releases.EXPORT_COLUMNS]
    rows = (release_row(r, lang) for r in stats_releases.export_rows(session, release_id))
    return f"{tr(lang, 'export.stats.table')} {info.period}", header, rows


def _stream_release_csv(params: dict, user_id: int) -> Iterator[bytes]:
    lang = _language(params)
    with session_scope() as session:
        title, header, rows = release_table(session, _release_id(params), lang)
        yield from write_export(session, "stats_release_csv", params, user_id, title=title,
                                header=header, rows=rows)  # fmt: skip


def _label(lang: str, key: str, code: str) -> str:
    """``tr(key)`` when the catalog has it, else the code as stored (a folded or retired
    code in an old release: shown as published rather than failing the download)."""
    from dpa_panel.i18n import catalog

    return catalog(lang).get(key, code)


def release_row(cell: dict, lang: str) -> list:
    """One published cell in words: the table, row and column labels the statistics page
    shows (``state.statistics_state``), the count as a number, hidden as yes/no."""
    from dpa_panel.i18n import tr
    from dpa_panel.services.statistics import BODY_TYPES
    from dpa_panel.services.stats_release_data import ALL, DIMENSION_TABLES

    table, row, col = cell["table"], cell["row"], cell["column"]
    dims = {t: d for d, t in DIMENSION_TABLES.items()}
    if row == ALL:
        row_label = tr(lang, "stats_rel.col_total")
    elif table == "consents":
        row_label = (tr(lang, "stats.statistics_short") if row == "statistics"
                     else _label(lang, f"consents.short_{row}", row))  # fmt: skip
    elif table in dims:
        row_label = _label(lang, f"{dims[table]}.{row}", row)
    else:
        row_label = _label(lang, f"stats_rel.col_{row}", row)
    col_key = f"disclosure.body_type.{col}" if col in BODY_TYPES else f"stats_rel.col_{col}"
    return [
        _label(lang, f"stats_rel.table_{table}", table), cell["period"], row_label,
        _label(lang, col_key, col), "" if cell["value"] is None else cell["value"],
        tr(lang, "export.yes" if cell["hidden"] else "export.no"),
    ]


#: Labels of the destruction acts' columns (``ACT_EXPORT_COLUMNS``). The categories and the
#: rule are kept as recorded (the act's digest covers them), each followed by the same in
#: words (decision 18-gaps-1).
ACT_LABELS = {
    "reference": "export.act.reference", "subject_ref": "retention.act_subject",
    "categories": "gaps.act.categories_recorded", "rule": "gaps.act.rule_recorded",
    "categories_text": "retention.act_categories", "rule_text": "doc.act.ground",
    "due_at": "retention.act_due", "destroyed_at": "retention.act_destroyed",
    "actor_type": "export.act.actor", "actor_id": "export.audit.actor_id",
    "batch_id": "retention.act_batch", "digest": "retention.digest",
}  # fmt: skip


#: ``retention.ACT_COLUMNS`` with the categories and the rule in words beside the codes.
ACT_EXPORT_COLUMNS = ("reference", "subject_ref", "categories", "categories_text", "rule",
                      "rule_text", "due_at", "destroyed_at", "actor_type", "actor_id",
                      "batch_id", "digest")  # fmt: skip


def act_export_row(act, lang: str) -> list:
    """One act for people: Almaty times, the actor in words, categories and ground in words
    beside the recorded codes the act's digest covers."""
    from dpa_panel.services import retention
    from dpa_panel.services.documents import destruction_act

    cells = dict(zip(retention.ACT_COLUMNS, retention.act_row(act), strict=True))
    cells["categories_text"] = destruction_act.categories(lang, act.categories)
    cells["rule_text"] = destruction_act.ground(lang, act.rule)
    cells["due_at"] = tabular.local_time(act.due_at)
    cells["destroyed_at"] = tabular.local_time(act.destroyed_at)
    cells["actor_type"] = _actor_label(lang, act.actor_type)
    return [cells[c] for c in ACT_EXPORT_COLUMNS]


def _stream_acts_csv(params: dict, user_id: int) -> Iterator[bytes]:
    from dpa_panel.i18n import tr
    from dpa_panel.services import retention

    lang = _language(params)

    def row(act) -> list:
        return act_export_row(act, lang)

    with session_scope() as session:
        rows = (row(act) for act in retention.iter_acts(session))
        yield from write_export(session, "acts_csv", params, user_id,
                                title=tr(lang, "retention.acts_title"),
                                header=[tr(lang, ACT_LABELS[c]) for c in ACT_EXPORT_COLUMNS],
                                rows=rows)  # fmt: skip


def _stream_acts_pdf(params: dict, _user_id: int) -> Iterator[bytes]:
    from dpa_panel.services import retention

    with session_scope() as session:
        from dpa_panel.services.org_profile import document_header

        language = params.get("language", "kk")
        acts = list(retention.iter_acts(session))
        yield retention.acts_pdf(acts, language, document_header(session, language))


# --- the disclosure register (services.disclosures) -----------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _stream_disclosure_log(fmt: str):
    """The log, streamed as it is written (the XLSX too: no temporary file)."""

    def stream(params: dict, user_id: int) -> Iterator[bytes]:
        from dpa_panel.services import disclosure_exports as files

        flt = _disclosure_filter(params)
        lang = _language(params)
        with session_scope() as session:
            table = files.LogTable(session, flt, lang)
            yield from write_export(session, f"disclosure_log_{fmt}", params, user_id,
                                    title=table.title, header=table.header, rows=table.rows(),
                                    sheet=table.sheet, widths=table.widths,
                                    extra=table.extra, filters=table.filters)  # fmt: skip

    return stream


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


def _stream_requests(fmt: str):
    def stream(params: dict, user_id: int) -> Iterator[bytes]:
        from dpa_panel.i18n import tr
        from dpa_panel.services import request_register as register

        language = _language(params)
        values = {k: str(v) for k, v in params.items() if k != "kind"}
        values["kind"] = str(params.get("request_kind", "") or "")
        query = register.query_from_strings(values)

        def row(r) -> list:
            cells = register.export_row(r, language)
            cells[5] = tabular.local_time(r.received_at)  # Almaty time with its offset
            cells[9] = tabular.local_time(r.answered_at)
            return cells

        with session_scope() as session:
            rows = register.iter_register(session, query, today=tabular.local_today())
            yield from write_export(session, f"requests_{fmt}", params, user_id,
                                    title=tr(language, "register.title"),
                                    header=register.export_header(language),
                                    rows=(row(r) for r in rows))  # fmt: skip

    return stream


# --- the breach register (issue 17, services.breach_documents) -------------------------------


def _stream_breaches(fmt: str):
    def stream(params: dict, user_id: int) -> Iterator[bytes]:
        from dpa_panel.i18n import tr
        from dpa_panel.services import breach_documents as docs

        language = params.get("language", "kk")
        with session_scope() as session:
            if fmt == "pdf":
                yield docs.register_pdf(session, language)
                return
            language = _language(params)

            def row(b) -> list:
                cells = docs.export_row(b, language)
                cells[1] = tabular.local_time(b.detected_at)  # Almaty time with its offset
                cells[7] = tabular.local_time(b.authority_notified_at)
                cells[11] = tabular.local_time(b.closed_at)
                return cells

            rows = (row(b) for b in docs.iter_register(session))
            yield from write_export(session, f"breaches_{fmt}", params, user_id,
                                    title=tr(language, "breach.register_title"),
                                    header=docs.export_header(language), rows=rows)  # fmt: skip

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
    """``<kind>[-<breach reference>]-<Almaty date>.<ext>`` (decision 18-gaps-3)."""
    return lambda params: tabular.export_filename(
        f"{kind}-{_safe_ref(str(params['reference']))}" if params.get("reference") else kind,
        ext)  # fmt: skip


def _safe_ref(text: str) -> str:
    """A reference as a file-name part: letters, digits and dashes only."""
    import re

    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:40]


def subject_file_ref(subject_id: int) -> str:
    """The reference a person quotes for the subject (their latest application's, else the
    membership number), never an internal id or a name (decision 18-gaps-3)."""
    from dpa_panel.models import Member, MembershipApplication

    with session_scope() as session:
        ref = session.scalars(
            select(MembershipApplication.reference)
            .where(MembershipApplication.subject_id == subject_id)
            .order_by(MembershipApplication.submitted_at.desc(), MembershipApplication.id.desc())
        ).first() or session.scalars(
            select(Member.membership_number).where(Member.subject_id == subject_id)
        ).first()  # fmt: skip
    return _safe_ref(ref or "")


def request_file_ref(request_id: int) -> str:
    from dpa_panel.models import SubjectRequest

    with session_scope() as session:
        request = session.get(SubjectRequest, request_id)
        return _safe_ref(request.reference if request is not None else "")


def release_file_ref(release_id: int) -> str:
    """A release's month, ``YYYY-MM`` (its id is internal)."""
    from dpa_panel.models import StatsRelease

    with session_scope() as session:
        release = session.get(StatsRelease, release_id)
        return f"{release.period // 100}-{release.period % 100:02d}" if release else ""


def _named(stem: str, ext: str, ref: Callable[[dict], str]):
    """``<stem>-<reference>-<Almaty date>.<ext>`` (``<stem>-<date>`` without a reference)."""

    def name(params: dict) -> str:
        found = ref(params)
        return tabular.export_filename(f"{stem}-{found}" if found else stem, ext)

    return name


def _subject_ref(params: dict) -> str:
    return subject_file_ref(int(params.get("subject_id", 0) or 0))


def _request_ref(params: dict) -> str:
    return request_file_ref(int(params.get("request_id", 0) or 0))


def _release_ref(params: dict) -> str:
    return release_file_ref(_release_id(params))


def _dated(stem: str, ext: str):
    """``<stem>-<Almaty date>.<ext>``."""
    return lambda params: tabular.export_filename(stem, ext)


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
        filename=_dated("requests", "csv"),
        stream=_stream_requests("csv"),
    ),
    "requests_xlsx": Export(
        permission="requests.manage",
        media_type=XLSX,
        filename=_dated("requests", "xlsx"),
        stream=_stream_requests("xlsx"),
    ),
    "disclosure_log_csv": Export(
        permission="disclosures.manage",
        media_type="text/csv; charset=utf-8",
        filename=_dated("disclosure-log", "csv"),
        stream=_stream_disclosure_log("csv"),
    ),
    "disclosure_log_xlsx": Export(
        permission="disclosures.manage",
        media_type=XLSX,
        filename=_dated("disclosure-log", "xlsx"),
        stream=_stream_disclosure_log("xlsx"),
    ),
    "disclosure_log_pdf": Export(
        permission="disclosures.manage",
        media_type="application/pdf",
        filename=_dated("disclosure-log", "pdf"),
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
        filename=_dated("destruction-acts", "csv"),
        stream=_stream_acts_csv,
    ),
    "acts_pdf": Export(
        permission="retention.manage",
        media_type="application/pdf",
        filename=_dated("destruction-acts", "pdf"),
        stream=_stream_acts_pdf,
    ),
    "stats_release_json": Export(
        permission="stats.read",
        media_type="application/json",
        filename=_named("statistics-release", "json", _release_ref),
        stream=_stream_release_json,
    ),
    "stats_release_csv": Export(
        permission="stats.read",
        media_type="text/csv; charset=utf-8",
        filename=_named("statistics-release", "csv", _release_ref),
        stream=_stream_release_csv,
    ),
    "mailing_csv": Export(
        permission="consents.write",
        media_type="text/csv; charset=utf-8",
        filename=_dated("mailing-list", "csv"),
        stream=_stream_mailing_csv,
    ),
    "subject_report_json": Export(
        permission="requests.manage",
        media_type="application/json",
        filename=_named("data-report", "json", _subject_ref),
        stream=_stream_report_json,
    ),
    "subject_report_pdf": Export(
        permission="requests.manage",
        media_type="application/pdf",
        filename=_named("data-report", "pdf", _subject_ref),
        stream=_stream_report_pdf,
    ),
    "access_package_pdf": Export(
        permission="requests.manage",
        media_type="application/pdf",
        filename=_named("access-package", "pdf", _request_ref),
        stream=_stream_access_package_pdf,
    ),
    "export_about": Export(
        permission="authenticated",
        media_type="text/plain; charset=utf-8",
        filename=_about_filename,
        stream=_stream_export_about,
    ),
    "audit_csv": Export(
        permission="audit.export",
        media_type="text/csv; charset=utf-8",
        filename=_dated("audit", "csv"),
        stream=_stream_audit_csv,
    ),
}
