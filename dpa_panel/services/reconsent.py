"""Invitations of the re-consent campaign (issue 21): every imported member listed by
``member_import.reconsent_rows`` (active, membership not ended, no "informing" consent in
force) who has an e-mail address is sent ONE e-mail, through the outbox
(``services.outbox``; ``dpa-panel notify`` delivers), in the member's own language, asking
them to give or refuse the consent in the privacy centre ``/my`` (the link is built as the
acknowledgements build it: ``acknowledgements.centre_link``).

Idempotent: each invitation has the outbox key ``reconsent:<subject id>``, so running the
campaign again queues nothing for someone already invited (sent or still waiting) — only for
members imported since. One audit event per run carries the counts, never an address.

A separate module because ``member_import`` is past the size where it splits by job.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, cast, exists, func, literal, select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import Consent, DataSubject, ImportRow, Member, OutboxMessage
from dpa_panel.services import audit, outbox
from dpa_panel.services.acknowledgements import centre_link
from dpa_panel.services.audit import Actor

KEY_PREFIX = "reconsent:"
PURPOSE = "reconsent"


def dedupe_key(subject_id: int) -> str:
    return f"{KEY_PREFIX}{subject_id}"


def _eligible():
    """Imported members without an informing consent in force who have an e-mail address —
    the rows of ``member_import.reconsent_rows`` that can be written to."""
    informing = exists().where(
        Consent.subject_id == DataSubject.id,
        Consent.purpose_code == "informing",
        Consent.withdrawn_at.is_(None),
    )
    return (
        select(DataSubject.id, DataSubject.email, DataSubject.language)
        .join(ImportRow, and_(ImportRow.subject_id == DataSubject.id, ImportRow.kind == "members"))
        .join(Member, Member.subject_id == DataSubject.id)
        .where(DataSubject.status == "active", Member.status != "ended", ~informing,
               DataSubject.email.is_not(None), DataSubject.email != "")
        .distinct()
    )  # fmt: skip


def _not_invited(query):
    invited = exists().where(
        OutboxMessage.dedupe_key == literal(KEY_PREFIX) + cast(DataSubject.id, String)
    )
    return query.where(~invited)


def pending_count(session: Session) -> int:
    """How many people a run would invite now (eligible and not invited before)."""
    inner = _not_invited(_eligible()).subquery()
    return session.scalar(select(func.count()).select_from(inner)) or 0


@dataclass(frozen=True)
class InviteOutcome:
    eligible: int
    queued: int

    @property
    def already_invited(self) -> int:
        return self.eligible - self.queued


def invite(session: Session, actor: Actor) -> InviteOutcome:
    """Queue the invitations in the caller's transaction and record one audit event."""
    eligible = session.scalar(select(func.count()).select_from(_eligible().subquery())) or 0
    link = centre_link()
    queued = 0
    rows = session.execute(_not_invited(_eligible()).order_by(DataSubject.id)).all()
    for subject_id, email, language in rows:
        lang = normalise_locale(language)
        message = outbox.enqueue(
            session,
            purpose=PURPOSE,
            recipient=email,
            subject=tr(lang, "mail.reconsent.subject"),
            body=tr(lang, "mail.reconsent.body", link=link),
            dedupe_key=dedupe_key(subject_id),
        )
        queued += message is not None
    outcome = InviteOutcome(eligible=eligible, queued=queued)
    audit.record(session, actor, "import.reconsent_invited", "import_batch", "",
                 {"eligible": eligible, "queued": queued,
                  "already_invited": outcome.already_invited})  # fmt: skip
    return outcome
