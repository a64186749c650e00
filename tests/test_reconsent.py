"""Re-consent invitations (issue 21): imported members without an "informing" consent get ONE
e-mail through the outbox, in their language, with the link to the privacy centre; on SQLite
and PostgreSQL, through the service and through ``dpa-panel import reconsent --invite``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import AuditEvent, DataSubject, OutboxMessage, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, consent, reconsent
from dpa_panel.services import member_import as mi
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import has_permission
from tests.import_files import KK_HEADER, KK_ROWS, RU_HEADER, RU_ROWS, xlsx
from tests.state_catalog import app_handlers, permission_of

LINK = "https://panel.example.kz/my"


@pytest.fixture
def imported(engine, monkeypatch):
    """The Russian register imported: Ivanov has an informing consent with evidence, Aigul and
    Erlan have none; Erlan's language is Russian, Aigul's the default (Kazakh). Two Kazakh-file
    members too: Daulet's address is blank, Saule's informing consent was recorded later."""
    monkeypatch.setenv("DPA_PUBLIC_URL", "https://panel.example.kz/")
    with session_scope(engine) as s:
        user = StaffUser(username="importer", role="admin", password_hash="x")
        s.add(user)
        s.flush()
        actor = Actor.user(user.id, "127.0.0.1")
        ru = xlsx(RU_HEADER, [r for r, _ in RU_ROWS])
        assert mi.commit(s, actor, mi.load(ru, "reg.xlsx", "members")).written
        assert mi.commit(s, actor, mi.load(xlsx(KK_HEADER, KK_ROWS), "kk.xlsx", "members")).written
        s.execute(update(DataSubject).where(DataSubject.email == "erlan@mail.kz")
                  .values(language="ru"))  # fmt: skip
        s.execute(update(DataSubject).where(DataSubject.email == "daulet@mail.kz")
                  .values(email=""))  # fmt: skip
    # Saule gives the informing consent after the import (the officer records it)
    with session_scope(engine) as s:
        saule = s.scalar(select(DataSubject.id).where(DataSubject.email == "saule@mail.kz"))
        _consent(s, actor, saule, "paper")
    return actor


def _consent(session, actor, subject_id: int, channel: str) -> None:
    consent.record_consent(session, actor, subject_id, "informing", channel=channel,
                           language="kk", text=tr("kk", "purpose.informing"),
                           evidence_ref="Хат №1", evidence_received_at=utcnow())  # fmt: skip


def _mails(engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "reconsent")).all()
        s.expunge_all()
    return {m.recipient: m for m in rows}


def test_only_eligible_members_get_one_mail_in_their_language(engine, imported):
    with session_scope(engine) as s:
        assert reconsent.pending_count(s) == 2
        outcome = reconsent.invite(s, imported)
    assert (outcome.eligible, outcome.queued, outcome.already_invited) == (2, 2, 0)
    mails = _mails(engine)
    # not Ivanov, not Saule (informing consent), not Daulet (no address)
    assert sorted(mails) == ["aigul@mail.kz", "erlan@mail.kz"]
    aigul, erlan = mails["aigul@mail.kz"], mails["erlan@mail.kz"]
    assert aigul.body == tr("kk", "mail.reconsent.body", link=LINK)
    assert aigul.subject == tr("kk", "mail.reconsent.subject")
    assert erlan.body == tr("ru", "mail.reconsent.body", link=LINK)
    assert LINK in erlan.body and "Здравствуйте" in erlan.body
    with session_scope(engine) as s:
        ids = dict(s.execute(select(DataSubject.email, DataSubject.id)).all())
    assert aigul.dedupe_key == f"reconsent:{ids['aigul@mail.kz']}"
    assert aigul.status == "pending"


def test_running_again_queues_nothing_new_and_each_run_is_audited_with_counts(engine, imported):
    with session_scope(engine) as s:
        reconsent.invite(s, imported)
    with session_scope(engine) as s:
        assert reconsent.pending_count(s) == 0
        again = reconsent.invite(s, imported)
    assert (again.eligible, again.queued, again.already_invited) == (2, 0, 2)
    with session_scope(engine) as s:
        total = s.scalar(select(func.count()).select_from(OutboxMessage))
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.reconsent_invited")
                           .order_by(AuditEvent.id)).all()  # fmt: skip
        assert audit.verify_chain(s).ok
    assert total == 2
    assert [json.loads(e.details) for e in events] == [
        {"eligible": 2, "queued": 2, "already_invited": 0},
        {"eligible": 2, "queued": 0, "already_invited": 2},
    ]
    assert all("@" not in e.details for e in events)


def test_a_member_invited_who_then_consents_is_no_longer_counted(engine, imported):
    with session_scope(engine) as s:
        aigul = s.scalar(select(DataSubject.id).where(DataSubject.email == "aigul@mail.kz"))
        _consent(s, imported, aigul, "email")
    with session_scope(engine) as s:
        outcome = reconsent.invite(s, imported)
    assert (outcome.eligible, outcome.queued) == (1, 1)
    assert sorted(_mails(engine)) == ["erlan@mail.kz"]


def test_the_invite_handlers_require_the_import_permission():
    names = {"ask_invite", "cancel_invite", "invite"}
    found = {n: permission_of(h) for cls, n, h in app_handlers()
             if cls.__name__ == "ImportState" and n in names}  # fmt: skip
    assert found == dict.fromkeys(names, "members.import")
    assert has_permission("admin", "members.import")
    assert not has_permission("board", "members.import")
