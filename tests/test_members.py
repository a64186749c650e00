"""The member register: listing and searching, reading (audited), suspend/reinstate/end.

Every test runs on SQLite and PostgreSQL through the ``engine`` fixture.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel import demo
from dpa_panel.db import session_scope
from dpa_panel.models import Member, MembershipApplication
from dpa_panel.models.vocab import MEMBER_STATUSES
from dpa_panel.services import members
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.members import MEMBER_TRANSITIONS, MemberQuery
from tests.pipeline_helpers import (
    audit_events,
    fetch,
    move,
    row_counts,
    set_subject_status,
    submit,
    verify,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _member_for(engine, staff, **form) -> Member:
    app_id = submit(engine, **form)
    move(engine, app_id, "approved", staff)
    with Session(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
        return s.scalars(select(Member).where(Member.subject_id == subject_id)).one()


def _members(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text(
                    "SELECT m.id, m.membership_number, m.since, m.status, s.surname, "
                    "s.first_name, s.patronymic, s.email, s.workplace "
                    "FROM member m JOIN data_subject s ON s.id = m.subject_id"
                )
            ).mappings()
        ]


def _ids(engine, q: MemberQuery) -> tuple[list[int], int]:
    with Session(engine) as s:
        rows, total = members.list_members(s, q)
    return [r.id for r in rows], total


def test_transition_table():
    assert MEMBER_TRANSITIONS == {
        "active": ("suspended", "ended"),
        "suspended": ("active", "ended"),
        "ended": (),
    }


def test_list_search_sort_and_counts(engine, staff):
    demo.seed_subjects(engine, 250, now=NOW)
    target = _member_for(
        engine, staff, surname="Жақсылықова", first_name="Мөлдір", email="moldir.zh@inbox.kz"
    )
    rows = _members(engine)

    ids, total = _ids(engine, MemberQuery())
    assert total == len(rows)
    assert ids == [r["id"] for r in sorted(rows, key=lambda r: r["membership_number"])[:50]]

    for term in (
        "жақсылықова",
        "ЖАҚСЫЛЫҚОВА",
        "мөлдір",
        "MOLDIR.ZH@",
        target.membership_number,
        target.membership_number.lower()[-8:],
    ):
        ids, total = _ids(engine, MemberQuery(search=term))
        assert target.id in ids, term

    for status in MEMBER_STATUSES:
        expected = [r for r in rows if r["status"] == status]
        ids, total = _ids(engine, MemberQuery(status=status, sort="since_desc", page_size=200))
        assert total == len(expected), status
        assert set(ids) == {r["id"] for r in expected[:200]} or total > 200
        since = [fetch(engine, Member, i).since for i in ids]
        assert since == sorted(since, reverse=True)

    with engine.connect() as conn:
        by_name = (
            conn.execute(
                text(
                    "SELECT m.id FROM member m JOIN data_subject s ON s.id = m.subject_id "
                    "ORDER BY s.surname, s.first_name, m.id LIMIT 50"
                )
            )
            .scalars()
            .all()
        )
    assert _ids(engine, MemberQuery(sort="surname"))[0] == list(by_name)

    with Session(engine) as s:
        counts = members.member_status_counts(s)
    assert counts == {
        status: sum(r["status"] == status for r in rows) for status in MEMBER_STATUSES
    }

    # pages
    seen, page = [], 1
    while True:
        ids, total = _ids(engine, MemberQuery(page=page, page_size=30))
        if not ids:
            break
        seen += ids
        page += 1
    assert len(seen) == len(set(seen)) == total == len(rows)


def test_row_content_and_hidden_subjects(engine, staff):
    member = _member_for(engine, staff, surname="Ким", first_name="Дмитрий", patronymic="")
    other = _member_for(engine, staff, surname="Пак")
    with Session(engine) as s:
        rows, total = members.list_members(s, MemberQuery(search="ким"))
    assert total == 1
    row = rows[0]
    assert (row.id, row.membership_number, row.status, row.ended_at) == (
        member.id,
        member.membership_number,
        "active",
        None,
    )
    assert (row.surname, row.first_name, row.patronymic, row.subject_id) == (
        "Ким",
        "Дмитрий",
        None,
        member.subject_id,
    )
    assert row.since == member.since and row.workplace == "«Дала Медиа» ЖШС"

    set_subject_status(engine, other.subject_id, "blocked")
    assert _ids(engine, MemberQuery()) == ([member.id], 1)
    with Session(engine) as s:
        assert members.member_status_counts(s) == {"active": 1, "suspended": 0, "ended": 0}
    for action in (
        lambda s: members.read_member(s, staff, other.id),
        lambda s: members.suspend(s, staff, other.id, "Жарна төленбеді"),
        lambda s: members.end_membership(s, staff, other.id, "Өтініш бойынша"),
    ):
        with pytest.raises(ServiceError, match="subject.not_active"), session_scope(engine) as s:
            action(s)


def test_read_member_is_audited(engine, staff):
    member = _member_for(engine, staff, consents=("application_review", "member_register"))
    with session_scope(engine) as s:
        detail = members.read_member(s, staff, member.id)
    assert detail.member.id == member.id
    assert detail.subject.id == member.subject_id
    assert detail.application.id == member.application_id
    assert {c.purpose_code for c in detail.consents} == {"application_review", "member_register"}
    event = audit_events(engine, "member.read")[-1]
    assert (event.entity_type, event.entity_id, event.actor_id) == (
        "member",
        str(member.id),
        staff.user_id,
    )
    with pytest.raises(ServiceError, match="member.not_found"), session_scope(engine) as s:
        members.read_member(s, staff, 999_999)


ACTIONS = {
    "suspended": (members.suspend, "member.suspended"),
    "active": (members.reinstate, "member.reinstated"),
    "ended": (members.end_membership, "member.ended"),
}
#: A legal path from "active" to every status.
MEMBER_PATHS = {"active": [], "suspended": ["suspended"], "ended": ["ended"]}


def test_every_pair_of_member_statuses(engine, staff):
    outcomes = {}
    for source in MEMBER_STATUSES:
        for target in MEMBER_STATUSES:
            member = _member_for(engine, staff)
            for step in MEMBER_PATHS[source]:
                with session_scope(engine) as s:
                    ACTIONS[step][0](s, staff, member.id, reason="Себебі")
            before = row_counts(engine)
            fn, action = ACTIONS[target]
            try:
                with session_scope(engine) as s:
                    fn(s, staff, member.id, reason="Причина: по заявлению")
                outcomes[(source, target)] = True
            except ServiceError as err:
                assert err.key == "member.illegal_transition", (source, target, err.key)
                assert row_counts(engine) == before
                outcomes[(source, target)] = False
                continue
            after = fetch(engine, Member, member.id)
            assert after.status == target
            assert after.status_reason == "Причина: по заявлению"
            assert after.status_changed_at is not None
            event = audit_events(engine, action)[-1]
            assert json.loads(event.details) == {"from": source, "to": target}
            assert "Причина" not in event.details
    assert outcomes == {
        (s, t): t in MEMBER_TRANSITIONS[s] for s in MEMBER_STATUSES for t in MEMBER_STATUSES
    }
    assert verify(engine).ok


def test_ending_records_ended_at_and_reasons_are_required(engine, staff):
    member = _member_for(engine, staff)
    before = row_counts(engine)
    for fn in (members.suspend, members.end_membership):
        for reason in ("", "  "):
            with pytest.raises(ServiceError) as err, session_scope(engine) as s:
                fn(s, staff, member.id, reason=reason)
            assert (err.value.key, err.value.field) == ("member.reason_required", "reason")
    with pytest.raises(ServiceError) as err, session_scope(engine) as s:
        members.suspend(s, staff, member.id, reason="x\x00")
    assert (err.value.key, err.value.field) == ("field.control_chars", "reason")
    assert row_counts(engine) == before

    with session_scope(engine) as s:
        members.suspend(s, staff, member.id, "Жарна төленбеді")
        members.reinstate(s, staff, member.id)  # no reason needed
    assert fetch(engine, Member, member.id).status == "active"
    assert fetch(engine, Member, member.id).ended_at is None

    ended = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        members.end_membership(s, staff, member.id, "Өз өтініші бойынша", now=ended)
    after = fetch(engine, Member, member.id)
    assert (after.status, after.ended_at, after.status_changed_at) == ("ended", ended, ended)
    with pytest.raises(ServiceError, match="member.illegal_transition"), session_scope(engine) as s:
        members.reinstate(s, staff, member.id)
    with pytest.raises(ServiceError, match="member.not_found"), session_scope(engine) as s:
        members.suspend(s, staff, 999_999, "x")
