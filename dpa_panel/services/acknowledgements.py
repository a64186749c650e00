"""What the data subject is told by e-mail (issue 20, "acknowledgements"), always through the
outbox (``services.outbox``; ``dpa-panel notify`` delivers), in the subject's own language,
from templates in the message catalog (``mail.ack.*``):

* after ``/apply``: the reference, the purposes consented to with the policy edition, and how
  to withdraw (a link to ``/my``);
* after a decision on the application (approved / rejected) and after a request is closed
  (answered / refused): a short notice naming the reference — the content stays in the panel.

Every message has a ``dedupe_key``, so a retried transaction never sends it twice. Nothing
here is audited separately: the change that caused the message is.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import DataSubject, MembershipApplication, PolicyVersion, SubjectRequest
from dpa_panel.services import outbox
from dpa_panel.services.validation import validate_email


def centre_link() -> str:
    return f"{settings.public_url() or 'http://localhost:3000'}/my"


def application_received(
    session: Session,
    application: MembershipApplication,
    subject: DataSubject,
    purposes: list[str],
    edition: PolicyVersion,
    *,
    now: datetime | None = None,
) -> None:
    lang = normalise_locale(subject.language)
    lines = "\n".join(f"- {tr(lang, f'purpose.{p}')}" for p in purposes)
    outbox.enqueue(
        session,
        purpose="ack_application",
        recipient=subject.email,
        subject=tr(lang, "mail.ack.applied.subject", reference=application.reference),
        body=tr(lang, "mail.ack.applied.body", reference=application.reference,
                purposes=lines, policy=edition.label, link=centre_link()),
        dedupe_key=f"ack:application:{application.id}",
        now=now,
    )  # fmt: skip


def application_decided(
    session: Session,
    application: MembershipApplication,
    subject: DataSubject,
    *,
    now: datetime | None = None,
) -> None:
    if application.status not in ("approved", "rejected"):
        return
    lang = normalise_locale(subject.language)
    outbox.enqueue(
        session,
        purpose="ack_decision",
        recipient=subject.email,
        subject=tr(lang, "mail.ack.decided.subject", reference=application.reference),
        body=tr(lang, f"mail.ack.decided.{application.status}", reference=application.reference,
                link=centre_link()),
        dedupe_key=f"ack:decision:{application.id}:{application.status}",
        now=now,
    )  # fmt: skip


def request_closed(session: Session, request: SubjectRequest, *,
                   now: datetime | None = None) -> None:  # fmt: skip
    """A notice that the request was answered or refused (to the subject's address, else the
    contact the request gave when it is an address)."""
    if request.status not in ("answered", "refused"):
        return
    subject = session.get(DataSubject, request.subject_id) if request.subject_id else None
    recipient = (subject.email if subject and subject.status != "destroyed" else None) or (
        validate_email(request.contact)
    )
    if not recipient:
        return
    lang = normalise_locale(subject.language if subject else None)
    outbox.enqueue(
        session,
        purpose="ack_request",
        recipient=recipient,
        subject=tr(lang, "mail.ack.request.subject", reference=request.reference),
        body=tr(lang, f"mail.ack.request.{request.status}", reference=request.reference,
                link=centre_link()),
        dedupe_key=f"ack:request:{request.id}:{request.status}:{request.updated_at.isoformat()}",
        now=now,
    )  # fmt: skip
