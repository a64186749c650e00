"""The sweep's set-based batches (issue 19), on both engines: a batch destroys exactly what
``destroy_subject`` destroys, one subject at a time would; a subject whose destruction fails
is rolled back alone while the rest of its batch completes; batch boundaries and the
session-factory path. The SIGKILL test is in ``test_retention.py``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import DestructionAct, LegalHold, SubjectRequest
from dpa_panel.models.types import utcnow
from dpa_panel.services import retention as rt
from dpa_panel.services.audit import verify_chain
from tests.test_retention import (
    CLOSED,
    DAY,
    ENDED,
    NOW,
    SYSTEM,
    WD,
    _acts_per_subject,
    _raw,
    _snapshot,
    make,
)

#: columns that differ between two otherwise identical subjects (ids, references)
IDS = {"id", "subject_id", "reference", "membership_number", "application_id", "subject_ref",
       "digest", "batch_id", "destroyed_at", "destroyed_month", "search_text"}  # fmt: skip


def _rich(s: Session, n: int) -> int:
    """A subject with every kind of row the destruction touches, due (a destruction request)."""
    sid = make(
        s, app=("approved", CLOSED), member=("ended", ENDED),
        consents={"member_register": (ENDED, ""), "informing": (WD, "")},
        destruction_due_at=NOW - DAY,
    )  # fmt: skip
    s.add(
        SubjectRequest(
            reference=f"R-2026-00000{n}", kind="destruction", subject_id=sid,
            requester="Aigerim S.", contact="+77011234567", received_at=NOW - DAY,
            channel="email", due_date=date(2026, 11, 20), details="please delete me",
            notes="phoned", identity_method="ID card 0123",
        )
    )  # fmt: skip
    s.flush()
    rt.place_hold(s, SYSTEM, sid, "old case", now=NOW - 20 * DAY)
    hold_id = s.scalar(select(LegalHold.id).where(LegalHold.subject_id == sid))
    rt.lift_hold(s, SYSTEM, hold_id, "closed", now=NOW - 19 * DAY)
    return sid


def _remnant(engine, sid: int) -> dict:
    def strip(rows):
        return [{k: v for k, v in r.items() if k not in IDS} for r in rows]

    app_ids = [a["id"] for a in _raw(engine, "membership_application", "subject_id = :i", i=sid)]
    return {
        "subject": strip(_raw(engine, "data_subject", "id = :i", i=sid)),
        "apps": strip(_raw(engine, "membership_application", "subject_id = :i", i=sid)),
        "events": [_raw(engine, "application_event", "application_id = :i", i=a) for a in app_ids],
        "consents": strip(_raw(engine, "consent", "subject_id = :i", i=sid)),
        "member": strip(_raw(engine, "member", "subject_id = :i", i=sid)),
        "requests": [
            {k: v for k, v in r.items() if k not in ("created_at", "updated_at")}
            for r in strip(_raw(engine, "subject_request", "subject_id = :i", i=sid))
        ],
        "request_search": [
            r["search_text"] for r in _raw(engine, "subject_request", "subject_id = :i", i=sid)
        ],
        "holds": strip(_raw(engine, "legal_hold", "subject_id = :i", i=sid)),
        "acts": strip(_raw(engine, "destruction_act", "subject_ref = :i", i=str(sid))),
    }


def test_a_batch_destroys_what_one_by_one_destroys(engine):
    with session_scope(engine) as s:
        single, batched = _rich(s, 1), _rich(s, 2)
        held = _rich(s, 3)
        rt.place_hold(s, SYSTEM, held, "court", now=NOW)
        plain = make(s, consents={"informing": (WD, "")})
        ongoing = make(s, consents={"informing": (None, "")})
    with session_scope(engine) as s:
        rt.destroy_subject(s, SYSTEM, single, now=utcnow())
    report = rt.run_sweep(engine, as_of=utcnow(), actor=SYSTEM)
    assert [sid for sid, _ in report.destroyed] == [plain, batched]  # in due order
    assert not report.skipped and not report.failed  # the held one is not even due-and-unheld
    a, b = _remnant(engine, single), _remnant(engine, batched)
    # the request's search copy keeps only its reference (it held the requester's name)
    assert a.pop("request_search") == ["r-2026-000001\n\n"]
    assert b.pop("request_search") == ["r-2026-000002\n\n"]
    assert a == b
    assert b["events"] == [[]] and b["subject"][0]["status"] == "destroyed"
    assert json.loads(b["acts"][0]["categories"]) == [
        "subject.identity", "subject.contacts", "subject.profile", "application.reason",
        "application.timeline", "consent.evidence", "member.number", "member.status_reason",
        "request.texts", "legal_hold.reasons",
    ]  # fmt: skip
    with Session(engine) as s:
        for act in s.scalars(select(DestructionAct)):
            assert act.digest == rt.act_digest(act) and act.reference.startswith("D-")
        assert verify_chain(s).ok
        destroyed = s.execute(
            text("SELECT entity_id, details FROM audit_event WHERE action = 'subject.destroyed'"
                 " ORDER BY id")
        ).all()  # fmt: skip
    assert [int(e) for e, _ in destroyed] == [single, plain, batched]
    assert json.loads(destroyed[2][1])["batch_id"] == report.batch_id
    for sid in (held, ongoing):
        assert _raw(engine, "data_subject", "id = :i", i=sid)[0]["status"] == "active"


def _fail_updates_of(engine, sid: int) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN "
                              "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"))
            conn.execute(text(f"CREATE TRIGGER injected BEFORE UPDATE ON data_subject FOR EACH "
                              f"ROW WHEN (OLD.id = {int(sid)}) EXECUTE FUNCTION "
                              f"injected_failure()"))  # fmt: skip
        else:
            conn.execute(text(f"CREATE TRIGGER injected BEFORE UPDATE ON data_subject "
                              f"WHEN OLD.id = {int(sid)} BEGIN "
                              f"SELECT RAISE(ABORT, 'injected failure'); END"))  # fmt: skip


def test_one_failing_subject_leaves_its_batch_destroyed_and_itself_untouched(engine):
    with session_scope(engine) as s:
        ids = [make(s, consents={"informing": (WD, "")}) for _ in range(7)]
    bad = ids[3]
    _fail_updates_of(engine, bad)
    before = _snapshot(engine)
    seen = []
    report = rt.run_sweep(
        engine, as_of=utcnow(), actor=SYSTEM, batch_size=5,
        progress=lambda due, outcome: seen.append((due.subject_id, outcome)),
    )  # fmt: skip
    assert [sid for sid, _ in report.failed] == [bad] and "injected failure" in report.failed[0][1]
    assert {sid for sid, _ in report.destroyed} == set(ids) - {bad} and not report.skipped
    assert [sid for sid, _ in seen] == ids and dict(seen)[bad] == "failed"
    assert _acts_per_subject(engine) == {sid: 1 for sid in ids if sid != bad}
    after = _snapshot(engine)
    assert after[bad] == before[bad]
    with Session(engine) as s:
        assert verify_chain(s).ok
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER injected" + (" ON data_subject"
                                                     if engine.dialect.name == "postgresql"
                                                     else "")))  # fmt: skip
    again = rt.run_sweep(engine, as_of=utcnow(), actor=SYSTEM)
    assert [sid for sid, _ in again.destroyed] == [bad] and not again.failed
    assert _acts_per_subject(engine) == {sid: 1 for sid in ids}


@pytest.mark.parametrize("size", [1, 3])
def test_batch_boundaries_and_the_session_factory_path(engine, size):
    with session_scope(engine) as s:
        ids = [make(s, consents={"informing": (WD, "")}) for _ in range(7)]
    report = rt.run_sweep(lambda: session_scope(engine), as_of=utcnow(), actor=SYSTEM,
                          batch_size=size)  # fmt: skip
    assert [sid for sid, _ in report.destroyed] == ids
    refs = [ref for _, ref in report.destroyed]
    assert len(set(refs)) == len(ids)
    with Session(engine) as s:
        stored = dict(s.execute(select(DestructionAct.subject_ref, DestructionAct.reference)).all())
        assert stored == {str(sid): ref for sid, ref in report.destroyed}
        assert verify_chain(s).ok
