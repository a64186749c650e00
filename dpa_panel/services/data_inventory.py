"""The list of personal data and the processing register (issue 17), generated from the
schema and the settings, approved by the person responsible for organising processing.

``build_content`` reads what the panel actually holds and does: the data categories of
policy clause 2.1 (the subject's columns filled by the form), each purpose with its legal
basis and retention rule, the recipients a disclosure may go to, and the declared storage
location (``DPA_DATA_LOCATION``). ``approve`` stores that content as a new version with its
SHA-256, who and when — only the responsible person named in the organisation profile may.
When the generated content no longer matches the latest approved version (a purpose, a rule
or a recipient type changed), ``status`` says it needs re-approval (compliance home page).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.i18n.dates import format_entry_datetime
from dpa_panel.models import DataInventory, Purpose, RetentionRule, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import DISCLOSURE_BODY_TYPES
from dpa_panel.services import audit, org_profile
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError

ENTITY = "data_inventory"
#: Clause 2.1: the subject's data the form collects (columns of ``data_subject``).
CATEGORIES = (
    "surname", "first_name", "patronymic", "phone", "email", "workplace",
    "workplace_category", "position", "position_level", "education_level", "education",
    "experience_years", "experience", "other_info",
)  # fmt: skip


def build_content(session: Session) -> dict[str, Any]:
    """What the panel processes now (codes; labels are added when shown)."""
    rules = {r.purpose_code: r for r in session.scalars(select(RetentionRule))}
    purposes = []
    for p in session.scalars(select(Purpose).order_by(Purpose.sort_order)):
        rule = rules.get(p.code)
        purposes.append({
            "code": p.code,
            "basis": "consent" if p.identifiable else "anonymised",
            "retention": None if rule is None else {
                "ending_event": rule.ending_event, "days": rule.period_days,
                "source": rule.source,
            },
        })  # fmt: skip
    return {
        "categories": list(CATEGORIES),
        "purposes": purposes,
        "recipients": list(DISCLOSURE_BODY_TYPES),
        "storage_location": settings.data_location(),
    }


def digest(content: dict[str, Any]) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class InventoryStatus:
    latest: DataInventory | None
    current_sha256: str

    @property
    def needs_approval(self) -> bool:
        return self.latest is None or self.latest.sha256 != self.current_sha256


def latest(session: Session) -> DataInventory | None:
    return session.scalars(
        select(DataInventory).order_by(DataInventory.version.desc()).limit(1)
    ).first()


def status(session: Session) -> InventoryStatus:
    return InventoryStatus(latest(session), digest(build_content(session)))


def approve(session: Session, actor: Actor) -> DataInventory:
    """Approve the list as generated now (a new version); only the responsible person may."""
    audit.lock_writers(session)
    responsible = org_profile.get_profile(session).responsible_user_id
    if responsible is None or actor.user_id != responsible:
        raise ServiceError("inventory.not_responsible")
    content = build_content(session)
    sha = digest(content)
    current = latest(session)
    if current is not None and current.sha256 == sha:
        raise ServiceError("inventory.already_approved")
    number = (session.scalar(select(func.max(DataInventory.version))) or 0) + 1
    row = DataInventory(
        version=number, content=json.dumps(content, ensure_ascii=False, sort_keys=True),
        sha256=sha, approved_by_id=actor.user_id, approved_at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "inventory.approved", ENTITY, row.id,
                 {"version": number, "sha256": sha})  # fmt: skip
    return row


def lines(session: Session, content: dict[str, Any], language: str) -> list[str]:
    """The content as readable lines in ``language`` (page and PDF)."""
    lang = normalise_locale(language)

    def t(key: str, **kw) -> str:
        return tr(lang, key, **kw)

    out = [t("inventory.categories") + ": "
           + ", ".join(t(f"subject.{c}") for c in content["categories"])]  # fmt: skip
    for p in content["purposes"]:
        ret = p["retention"]
        kept = (t("inventory.kept", days=ret["days"],
                  event=t(f"retention.event.{ret['ending_event']}"))
                if ret else t("inventory.kept_anonymised"))  # fmt: skip
        out.append(f"{t('purpose.' + p['code'])} — {t('inventory.basis.' + p['basis'])}; {kept}")
    out.append(t("inventory.recipients") + ": "
               + ", ".join(t(f"disclosure.body_type.{r}") for r in content["recipients"]))
    out.append(t("inventory.storage") + ": " + (content["storage_location"] or "—"))
    return out


def pdf(session: Session, row: DataInventory, language: str) -> bytes:
    """An approved version as a PDF in kk/ru/en, headed by the operator (the shared font
    stack of ``services.documents.pdf``: no character silently dropped, issue 18)."""
    from dpa_panel.services.documents.pdf import Document

    lang = normalise_locale(language)
    person = session.get(StaffUser, row.approved_by_id)
    doc = Document(title=tr(lang, "inventory.title"))

    def write(text: str, size: int = 10) -> None:
        doc.write(text, size=size, height=5)

    for line in org_profile.document_header(session, lang):
        write(line, 9)
    doc.space(3)
    write(tr(lang, "inventory.title") + f" — v{row.version}", 13)
    write(tr(lang, "inventory.approved_by", who=person.full_name or person.username if person
             else "", at=format_entry_datetime(row.approved_at)), 9)  # fmt: skip
    write(f"SHA-256: {row.sha256}", 8)
    doc.space(2)
    for line in lines(session, json.loads(row.content), lang):
        write(line)
    return doc.output()
