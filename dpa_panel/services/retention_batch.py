"""The sweep's batch path: one batch of subjects destroyed with set-based statements (issue 19).

``retention_sweep.run_sweep`` destroys ``SWEEP_BATCH`` subjects per transaction with
``_destroy_batch``: the writers' lock, four set-based reads for the whole batch, the decision
per subject in Python, then about a dozen set-based writes, the acts in one INSERT and the audit
events in one. Split from ``retention_sweep`` (which keeps the one-subject path, the preview
and the run) when that module passed 800 lines. What a destruction decides and writes per row
comes from ``retention_destroy``, shared with the one-subject path, so a subject destroyed in a
batch and one destroyed alone get the same remnant, act and event.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, and_, any_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from dpa_panel.models import AccessPackage, SubjectCode, SubjectSession
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.prepared import insert_rows
from dpa_panel.services.retention import DestructionDue, local_date
from dpa_panel.services.retention_destroy import (
    _ACT,
    _APP,
    _CONSENT,
    _EVENT,
    _HOLD,
    _HOLD_BLANK_VALUES,
    _MEMBER,
    _P_TODAY,
    _REQUEST,
    _REQUEST_BLANK_VALUES,
    _SET_ACT_NAME,
    _SET_APP,
    _SET_CONSENT,
    _SET_MEMBER,
    _SET_SUBJECT,
    _SUBJECT,
    _act_name,
    _act_row,
    _app_blank_params,
    _consent_blank_params,
    _destroyed_categories,
    _due_or_refusal,
    _event_details,
    _m,
    _member_blank_params,
    _Rules,
    _s,
    _subject_blank_params,
)


def _in_list(col):
    return col.in_(bindparam("ids", expanding=True))


def _any_array(col):
    """PostgreSQL: ``col = ANY(%(ids)s)`` with one array parameter, so the SQL text is the same
    for every batch (an IN list of 200 placeholders is a new statement to parse each time)."""
    return col == any_(bindparam("ids", type_=ARRAY(BigInteger)))


@lru_cache(maxsize=4)
def _batch_statements(dialect_name: str) -> SimpleNamespace:
    """The batch's set-based statements; ``ids`` is the list of subject (or row) ids."""
    in_ids = _any_array if dialect_name == "postgresql" else _in_list
    subjects = (
        select(
            _s.id, _s.status, _s.destruction_due_at, _s.created_at, _s.updated_at, _s.blocked_at,
            _s.retention_due_at, _s.retention_purpose, _s.retention_event, _s.retention_event_at,
            _m.id.label("member_id"), _m.status.label("member_status"), _m.since, _m.ended_at,
            _m.status_changed_at,
        )
        .select_from(_SUBJECT.outerjoin(_MEMBER, _m.subject_id == _s.id))
        .where(in_ids(_s.id))
    )  # fmt: skip
    holds = (
        select(
            _HOLD.c.subject_id, func.count(),
            func.sum(case((and_(_HOLD.c.lifted_at.is_(None),
                                or_(_HOLD.c.ends_on.is_(None), _HOLD.c.ends_on >= _P_TODAY)), 1),
                          else_=0)),
        )
        .where(in_ids(_HOLD.c.subject_id))
        .group_by(_HOLD.c.subject_id)
    )  # fmt: skip
    apps = (
        select(_APP.c.subject_id, _APP.c.id, _APP.c.status, _APP.c.submitted_at, _APP.c.decided_at,
               _APP.c.closed_at, _APP.c.updated_at)
        .where(in_ids(_APP.c.subject_id))
        .order_by(_APP.c.subject_id, _APP.c.id)
    )  # fmt: skip
    consents = (
        select(_CONSENT.c.subject_id, _CONSENT.c.id, _CONSENT.c.purpose_code,
               _CONSENT.c.withdrawn_at, _CONSENT.c.withdrawal_retained_ground,
               _CONSENT.c.granted_at, _CONSENT.c.evidence_received_at)
        .where(in_ids(_CONSENT.c.subject_id))
        .order_by(_CONSENT.c.subject_id, _CONSENT.c.granted_at, _CONSENT.c.id)
    )  # fmt: skip
    delete_timelines = delete(_EVENT).where(in_ids(_EVENT.c.application_id))
    request_subjects = (
        select(_REQUEST.c.subject_id).where(in_ids(_REQUEST.c.subject_id)).distinct()
    )
    blank_requests = (
        update(_REQUEST)
        .where(in_ids(_REQUEST.c.subject_id))
        .values(**_REQUEST_BLANK_VALUES)
    )
    package = AccessPackage.__table__
    package_subjects = (
        select(package.c.subject_id).where(in_ids(package.c.subject_id)).distinct()
    )
    delete_packages = delete(package).where(in_ids(package.c.subject_id))
    code = SubjectCode.__table__
    delete_codes = delete(code).where(in_ids(code.c.subject_id))
    delete_sessions = delete(SubjectSession.__table__).where(
        in_ids(SubjectSession.__table__.c.subject_id)
    )
    blank_holds = (
        update(_HOLD).where(in_ids(_HOLD.c.subject_id)).values(**_HOLD_BLANK_VALUES)
    )
    return SimpleNamespace(
        subjects=subjects,
        holds=holds,
        apps=apps,
        consents=consents,
        delete_timelines=delete_timelines,
        request_subjects=request_subjects,
        blank_requests=blank_requests,
        package_subjects=package_subjects,
        delete_packages=delete_packages,
        delete_codes=delete_codes,
        delete_sessions=delete_sessions,
        blank_holds=blank_holds,
    )


def _destroy_batch(
    conn, actor: Actor, ids: list[int], now: datetime, batch_id: str, rules: _Rules
) -> tuple[dict[int, str], dict[int, str]]:
    """``_destroy_on`` for many subjects in the connection's current transaction, with a
    dozen set-based statements for the whole batch: (subject id -> act reference of each
    destroyed subject, subject id -> catalog key of each one no longer due or held).

    The same decision, the same rows and the same act and audit event per subject as
    ``_destroy_on`` (both take them from ``retention_destroy``); everything is read under the
    writers' lock."""
    q = _batch_statements(conn.dialect.name)
    audit.lock_writers_on(conn)
    today = local_date(now)
    subjects = {r.id: r for r in conn.execute(q.subjects, {"ids": ids})}
    holds = {
        r[0]: (int(r[1]), int(r[2] or 0))
        for r in conn.execute(q.holds, {"ids": ids, "b_today": today})
    }
    apps: dict[int, list] = {}
    for r in conn.execute(q.apps, {"ids": ids}):
        apps.setdefault(r.subject_id, []).append(r)
    consents: dict[int, list] = {}
    for r in conn.execute(q.consents, {"ids": ids}):
        consents.setdefault(r.subject_id, []).append(r)

    skipped: dict[int, str] = {}
    chosen: list[tuple[Any, DestructionDue]] = []
    for sid in ids:
        subj = subjects.get(sid)
        if subj is None:
            skipped[sid] = "retention.not_due"
            continue
        due = _due_or_refusal(conn, sid, subj, apps.get(sid, ()), consents.get(sid, ()),
                              holds.get(sid, (0, 0))[1], now, rules)  # fmt: skip
        if isinstance(due, str):
            skipped[sid] = due
        else:
            chosen.append((subj, due))
    if not chosen:
        return {}, skipped

    gone = [subj.id for subj, _ in chosen]
    _SET_SUBJECT.run(conn, [_subject_blank_params(s.id, s) for s, _ in chosen])
    app_rows = [r for sid in gone for r in apps.get(sid, ())]
    if app_rows:
        conn.execute(q.delete_timelines, {"ids": [r.id for r in app_rows]})
        _SET_APP.run(conn, [_app_blank_params(r) for r in app_rows])
    consent_rows = [r for sid in gone for r in consents.get(sid, ())]
    if consent_rows:
        _SET_CONSENT.run(conn, [_consent_blank_params(r) for r in consent_rows])
    members = [s for s, _ in chosen if s.member_id is not None]
    if members:
        _SET_MEMBER.run(conn, [_member_blank_params(s) for s in members])
    with_requests = set(conn.execute(q.request_subjects, {"ids": gone}).scalars())
    if with_requests:
        conn.execute(q.blank_requests, {"ids": sorted(with_requests)})
    with_packages = set(conn.execute(q.package_subjects, {"ids": gone}).scalars())
    if with_packages:
        conn.execute(q.delete_packages, {"ids": sorted(with_packages)})
    conn.execute(q.delete_codes, {"ids": gone})
    conn.execute(q.delete_sessions, {"ids": gone})
    with_holds = [sid for sid in gone if holds.get(sid, (0, 0))[0]]
    if with_holds:
        conn.execute(q.blank_holds, {"ids": with_holds})

    batch = batch_id or ""
    acts = []
    for subj, due in chosen:
        sid = subj.id
        categories = _destroyed_categories(
            apps=bool(apps.get(sid)), consents=bool(consents.get(sid)),
            member=subj.member_id is not None, requests=sid in with_requests,
            package=sid in with_packages, holds=bool(holds.get(sid, (0, 0))[0]),
        )  # fmt: skip
        acts.append((sid, categories, _act_row(sid, categories, due, now, actor, batch)))
    act_ids = insert_rows(conn, _ACT, [row for _, _, row in acts])
    named, destroyed = [], {}
    for act_id, (sid, categories, row) in zip(act_ids, acts, strict=True):
        name = _act_name(act_id, row, categories)
        named.append(name)
        destroyed[sid] = name["b_ref"]
    _SET_ACT_NAME.run(conn, named)
    events = [(sid, _event_details(act_id, batch))
              for act_id, sid in zip(act_ids, destroyed, strict=True)]  # fmt: skip
    audit.append_many(conn, actor, "subject.destroyed", "data_subject", events)
    return destroyed, skipped
