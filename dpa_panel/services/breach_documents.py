"""Documents made from a breach record (issue 17): the notification of the authorised body
(PDF in Kazakh or Russian), the letter to an affected person (e-mail text and PDF, in their
language) and the register export (CSV/XLSX through ``services.tabular``, and PDF).

Every document starts with the operator block of the organisation profile. PDFs use the
shared font stack (``services.documents.pdf``, issue 18): every Kazakh and Russian letter is
kept, a character no font has is shown as a visible token, times are Almaty with the offset.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.i18n.dates import format_entry_date, format_entry_datetime
from dpa_panel.i18n.formatting import to_local
from dpa_panel.models import Breach, DataSubject
from dpa_panel.services import org_profile
from dpa_panel.services.documents.pdf import Document, format_moment

#: The authority notification is written in the state language or Russian (Law "On
#: languages" Art. 8-9: documents to state bodies in Kazakh or Russian).
NOTICE_LANGUAGES = ("kk", "ru")


def _pdf(title: str = "") -> Document:
    """A document with the shared font stack (``services.documents.pdf``, issue 18): every
    character kept, one a font lacks shown as a visible token."""
    return Document(title=title)


def _write(pdf: Document, text: str, *, size: int = 10, bold: bool = False,
           height: float = 5) -> None:  # fmt: skip
    pdf.write(text, size=size, bold=bold, height=height)


def _header(pdf: Document, session: Session, language: str) -> None:
    pdf.operator(org_profile.document_header(session, language))


def notice_fields(breach: Breach, language: str) -> list[tuple[str, str]]:
    """(label, value) of the notification, in ``language``."""
    lang = normalise_locale(language)

    def t(key: str) -> str:
        return tr(lang, key)

    estimate = "" if breach.subjects_estimate is None else str(breach.subjects_estimate)
    return [
        (t("breach.field.reference"), breach.reference),
        (t("breach.field.detected_at"), format_moment(breach.detected_at, lang)),
        (t("breach.field.detected_by"), breach.detected_by),
        (t("breach.field.description"), breach.description),
        (t("breach.field.data_categories"), breach.data_categories),
        (t("breach.field.subjects_estimate"), estimate),
        (t("breach.field.systems"), breach.systems),
        (t("breach.field.cause"), breach.cause),
        (t("breach.field.containment"), breach.containment),
        (t("breach.field.risk_assessment"), breach.risk_assessment),
    ]


def linked_people(session: Session, breach: Breach) -> list[str]:
    """"Surname First Patronymic, phone" of each linked person: the notification rules ask the
    operator to give the authorised body what it needs to notify them (docs/decisions.md)."""
    from dpa_panel.models import BreachSubject

    rows = session.scalars(
        select(DataSubject)
        .join(BreachSubject, BreachSubject.subject_id == DataSubject.id)
        .where(BreachSubject.breach_id == breach.id)
        .order_by(DataSubject.surname, DataSubject.id)
    )
    return [
        ", ".join(p for p in (" ".join(x for x in (s.surname, s.first_name, s.patronymic or "")
                                       if x), s.phone) if p)
        for s in rows
    ]  # fmt: skip


def notice_pdf(session: Session, breach: Breach, language: str, people: list[str]) -> bytes:
    """The notification of the authorised body, from the record (Kazakh or Russian), with the
    people linked from the register."""
    return notice_document(session, breach, language, people).output()


def notice_document(session: Session, breach: Breach, language: str,
                    people: list[str]) -> Document:  # fmt: skip
    lang = language if language in NOTICE_LANGUAGES else "kk"
    profile = org_profile.public_profile(session)
    pdf = _pdf(breach.reference)
    _header(pdf, session, lang)
    if profile.authority_name:
        _write(pdf, profile.authority_name, bold=True)
        if profile.authority_contact:
            _write(pdf, profile.authority_contact, size=9)
        pdf.space(3)
    _write(pdf, tr(lang, "breach.notice.title"), size=13, bold=True, height=7)
    _write(pdf, tr(lang, "breach.notice.lead", operator=profile.name(lang),
                   bin=profile.bin), size=10)  # fmt: skip
    pdf.space(2)
    for label, value in notice_fields(breach, lang):
        if value:
            _write(pdf, f"{label}: {value}")
    _write(pdf, f"{tr(lang, 'breach.field.linked_subjects')}: {len(people)}")
    for person in people:
        _write(pdf, f"  — {person}", size=9, height=4.5)
    pdf.space(6)
    _write(pdf, f"{tr(lang, 'breach.notice.signature')}: ____________________   "
                f"{tr(lang, 'breach.notice.date')}: ____________")  # fmt: skip
    return pdf


def letter_text(session: Session, breach: Breach, subject: DataSubject) -> tuple[str, str]:
    """The e-mail subject and body telling one person about a breach, in their language."""
    lang = normalise_locale(subject.language)
    profile = org_profile.public_profile(session)
    values = {
        "name": " ".join(p for p in (subject.first_name, subject.patronymic or "") if p),
        "operator": profile.name(lang), "reference": breach.reference,
        "detected": format_entry_date(to_local(breach.detected_at).date()),
        "categories": breach.data_categories, "containment": breach.containment or "—",
        "email": profile.dp_email,
    }  # fmt: skip
    return (tr(lang, "breach.letter.subject", **values),
            tr(lang, "breach.letter.body", **values))  # fmt: skip


def letter_pdf(session: Session, breach: Breach, subject: DataSubject) -> bytes:
    """The same letter as a PDF (for post or hand delivery)."""
    lang = normalise_locale(subject.language)
    subject_line, body = letter_text(session, breach, subject)
    return letter_document(session, breach, subject, lang, subject_line, body).output()


def letter_document(session: Session, breach: Breach, subject: DataSubject, lang: str,
                    subject_line: str, body: str) -> Document:  # fmt: skip
    pdf = _pdf(breach.reference)
    _header(pdf, session, lang)
    full = " ".join(p for p in (subject.surname, subject.first_name, subject.patronymic or "") if p)
    _write(pdf, full, bold=True)
    pdf.space(3)
    _write(pdf, subject_line, size=12, bold=True, height=6)
    pdf.space(2)
    for paragraph in body.split("\n"):
        _write(pdf, paragraph)
    return pdf


# --- the register export ---------------------------------------------------------------------

COLUMNS = (
    "reference", "detected_at", "detected_by", "data_categories", "subjects_estimate",
    "systems", "due_date", "authority_notified_at", "authority_channel",
    "authority_reference", "status", "closed_at",
)  # fmt: skip


def export_header(language: str) -> list[str]:
    lang = normalise_locale(language)
    return [tr(lang, f"breach.field.{c}") for c in COLUMNS]


def export_row(breach: Breach, language: str) -> list[str]:
    lang = normalise_locale(language)
    return [
        breach.reference, format_entry_datetime(breach.detected_at), breach.detected_by,
        breach.data_categories,
        "" if breach.subjects_estimate is None else str(breach.subjects_estimate),
        breach.systems, format_entry_date(breach.due_date),
        format_entry_datetime(breach.authority_notified_at),
        tr(lang, f"breach.channel.{breach.authority_channel}") if breach.authority_channel
        else "",
        breach.authority_reference, tr(lang, f"breach.status.{breach.status}"),
        format_entry_datetime(breach.closed_at),
    ]  # fmt: skip


def iter_register(session: Session) -> Iterator[Breach]:
    """Streamed (``yield_per``): the export writer writes each batch as it comes."""
    yield from session.scalars(
        select(Breach).order_by(Breach.detected_at, Breach.id).execution_options(yield_per=500)
    )


def register_pdf(session: Session, language: str) -> bytes:
    lang = normalise_locale(language)
    pdf = _pdf()
    _header(pdf, session, lang)
    _write(pdf, tr(lang, "breach.register_title"), size=13, bold=True, height=7)
    header = export_header(lang)
    for breach in iter_register(session):
        pdf.space(2)
        row = export_row(breach, lang)
        _write(pdf, row[0], bold=True)
        for label, value in zip(header[1:], row[1:], strict=True):
            if value:
                _write(pdf, f"{label}: {value}", size=9, height=4.5)
    return pdf.output()
