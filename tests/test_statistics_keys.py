"""Stored statistics keys (``*_month``, ``decision_days``): equal to the per-row SQL bucketing
they replace, and kept by every write path (ORM, Core inserts, seeds, destruction, migration)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlmodel import Session, SQLModel

from dpa_panel import demo
from dpa_panel.db import session_scope
from dpa_panel.models import (
    Consent,
    DataSubject,
    DestructionAct,
    Disclosure,
    Member,
    MembershipApplication,
    PolicyVersion,
    SubjectRequest,
)
from dpa_panel.models.types import almaty_month, derived_columns, whole_days
from dpa_panel.services import retention as rt
from dpa_panel.services import statistics as st
from tests.test_retention import CLOSED, ENDED, P5Y, SYSTEM, WD, make

DAY = timedelta(days=1)
#: Around Almaty's switch from UTC+6 to UTC+5 (2024-03-01 00:00 local) and around month and
#: year ends under either offset; microseconds included.
INSTANTS = [
    datetime(2024, 2, 29, 17, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 18, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 18, 30, tzinfo=UTC),
    datetime(2024, 2, 29, 18, 59, 59, tzinfo=UTC),
    datetime(2024, 2, 29, 19, 0, tzinfo=UTC),
    datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC),
    datetime(2023, 12, 31, 17, 59, 59, tzinfo=UTC),
    datetime(2023, 12, 31, 18, 0, tzinfo=UTC),
    datetime(2024, 1, 31, 17, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 1, 31, 18, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 18, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 12, 31, 19, 0, tzinfo=UTC),
    datetime(2025, 6, 30, 18, 59, 59, tzinfo=UTC),
    datetime(2025, 6, 30, 19, 0, tzinfo=UTC),
    datetime(2026, 2, 28, 19, 0, 0, 1, tzinfo=UTC),
]
DATES = [date(2024, 2, 29), date(2024, 3, 1), date(2023, 12, 31), date(2024, 1, 1)]


def _tables():
    return [t for t in SQLModel.metadata.sorted_tables if derived_columns(t)]


def stale_keys(engine) -> list[tuple]:
    """Every stored key that differs from its function of the row's stored values (empty when
    all are right). Reads the rows through the typed columns, so timestamps are aware UTC."""
    bad = []
    with engine.connect() as conn:
        for table in _tables():
            derived = derived_columns(table)
            sources = sorted({name for _c, _f, names in derived for name in names})
            cols = [table.c.id, *(table.c[n] for n in sources), *(c for c, _f, _n in derived)]
            for row in conn.execute(select(*cols)).mappings():
                for col, fn, names in derived:
                    want = fn(*(row[n] for n in names))
                    if row[col.name] != want:
                        bad.append((table.name, row["id"], col.name, row[col.name], want))
    return bad


def _policy_id(conn) -> int:
    return conn.execute(select(PolicyVersion.id).where(PolicyVersion.label == "v1")).scalar_one()


def _core_rows(engine, instants, dates) -> None:
    """One subject per instant, each with an application (decided a few days later, around a
    whole-day boundary), a member, a consent, a request, a destruction act and a disclosure —
    Core INSERTs (executemany) that never name the keys."""
    subjects, apps, members, consents, requests, acts = [], [], [], [], [], []
    disclosures = []
    with engine.begin() as conn:
        policy = _policy_id(conn)
        for i, ts in enumerate(instants, start=1):
            subjects.append(
                dict(id=i, surname="Тест", first_name="А", phone="+77010000000",
                     email=f"k{i}@example.kz", workplace="W", position="P", search_text="",
                     created_at=ts, updated_at=ts, destruction_due_at=ts)
            )  # fmt: skip
            decided = ts + 3 * DAY - timedelta(seconds=i % 3)
            apps.append(
                dict(id=i, reference=f"A-K-{i}", subject_id=i, submitted_at=ts,
                     status="approved", decision="approved", decided_at=decided, updated_at=ts)
            )  # fmt: skip
            members.append(
                dict(id=i, subject_id=i, application_id=i, membership_number=f"K-{i}",
                     since=dates[i % len(dates)], ended_at=ts)
            )  # fmt: skip
            consents.append(
                dict(subject_id=i, purpose_code="informing", granted_at=ts, withdrawn_at=ts,
                     policy_version_id=policy, channel="paper", language="kk",
                     consent_text="x", consent_text_sha256="0" * 64)
            )  # fmt: skip
            requests.append(
                dict(reference=f"R-K-{i}", kind="access", subject_id=i, received_at=ts,
                     channel="email", due_date=ts.date())
            )  # fmt: skip
            acts.append(
                dict(reference=f"D-K-{i}", subject_ref=str(i), categories="[]", rule="r",
                     due_at=ts, destroyed_at=ts, actor_type="system", digest="")
            )  # fmt: skip
            disclosures.append(
                dict(id=i, reference=f"DR-K-{i}", kind="authority", status="disclosed",
                     body_type="court", body_name="B", request_number="1",
                     request_date=ts.date(), received_via="post", legal_basis="x",
                     answer_due_on=ts.date(), requested_categories="[]", justifications="{}",
                     package_fields="[]", created_at=ts, updated_at=ts, disclosed_at=ts)
            )  # fmt: skip
        for model, rows in (
            (DataSubject, subjects),
            (MembershipApplication, apps),
            (Member, members),
            (Consent, consents),
            (SubjectRequest, requests),
            (DestructionAct, acts),
            (Disclosure, disclosures),
        ):
            conn.execute(insert(model.__table__), rows)
        # and a single-row Core insert
        conn.execute(
            insert(DestructionAct.__table__).values(
                reference="D-K-single", subject_ref="0", categories="[]", rule="r",
                due_at=instants[0], destroyed_at=instants[1], actor_type="system", digest="",
            )
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            demo.fix_pg_sequences(
                conn, [DataSubject.__table__, MembershipApplication.__table__, Member.__table__]
            )


def test_almaty_month_and_whole_days():
    assert almaty_month(datetime(2024, 2, 29, 17, 59, 59, tzinfo=UTC)) == 202402
    assert almaty_month(datetime(2024, 2, 29, 19, 0, tzinfo=UTC)) == 202403
    assert almaty_month(datetime(2024, 12, 31, 19, 0, tzinfo=UTC)) == 202501
    assert almaty_month(datetime(2024, 12, 31, 19, 0)) == 202501  # naive: UTC
    assert almaty_month(date(2024, 2, 29)) == 202402
    assert almaty_month(None) is None
    t = datetime(2024, 2, 28, 12, tzinfo=UTC)
    assert whole_days(t, t + 3 * DAY) == 3
    assert whole_days(t, t + 3 * DAY - timedelta(microseconds=1)) == 2
    assert whole_days(t, None) is None and whole_days(None, t) is None


def test_stored_keys_equal_the_per_row_sql_bucketing(engine):
    """The keys written by Core inserts equal the old per-row SQL expressions (``_Sql``:
    PostgreSQL's time zone conversion, SQLite's offset CASE) on the same rows.

    SQLite's date functions round to the millisecond, so its old expression put the last
    half millisecond of a month into the next one (``17:59:59.999999`` UTC on 2024-01-31 was
    "2024-02"); the stored key is exact, like PostgreSQL. Compared there to the millisecond.
    """
    instants = INSTANTS
    if engine.dialect.name == "sqlite":
        instants = [ts.replace(microsecond=ts.microsecond // 1000 * 1000) for ts in INSTANTS]
    _core_rows(engine, instants, DATES)
    assert stale_keys(engine) == []
    sql = st._Sql(engine.dialect.name)

    a, s, m = (MembershipApplication.__table__.c, DataSubject.__table__.c, Member.__table__.c)
    c, r, d = Consent.__table__.c, SubjectRequest.__table__.c, DestructionAct.__table__.c
    dc = Disclosure.__table__.c
    pairs = [
        (a.submitted_month, sql.month(a.submitted_at)),
        (a.decided_month, sql.month(a.decided_at)),
        (s.created_month, sql.month(s.created_at)),
        (s.destruction_due_month, sql.month(s.destruction_due_at)),
        (m.since_month, sql.month_of_date(m.since)),
        (m.ended_month, sql.month(m.ended_at)),
        (c.granted_month, sql.month(c.granted_at)),
        (c.withdrawn_month, sql.month(c.withdrawn_at)),
        (r.received_month, sql.month(r.received_at)),
        (d.destroyed_month, sql.month(d.destroyed_at)),
        (dc.disclosed_month, sql.month(dc.disclosed_at)),
    ]
    seen = set()
    with Session(engine) as session:
        for key, expr in pairs:
            rows = session.execute(select(key, expr)).all()
            assert rows, key
            for stored, old in rows:
                assert st._month_label(stored) == old, (key, stored, old)
                seen.add(old)
        days = session.execute(
            select(a.decision_days, sql.whole_days(a.submitted_at, a.decided_at))
        ).all()
    assert all(stored == old for stored, old in days), days
    assert {n for n, _ in days} == {2, 3}
    # the instants do straddle month boundaries under both offsets
    assert {"2024-02", "2024-03", "2023-12", "2024-01", "2025-01", "2025-06", "2025-07"} <= seen


def test_orm_writes_keep_the_keys(engine):
    ts, later = INSTANTS[0], INSTANTS[4]
    with session_scope(engine) as s:
        sid = make(
            s, app=("approved", ts + 3 * DAY), member=("ended", ts),
            consents={"informing": (ts, "")}, destruction_due_at=ts,
        )  # fmt: skip
        s.add(
            SubjectRequest(reference="R-K-1", kind="access", subject_id=sid, received_at=ts,
                           channel="email", due_date=ts.date())
        )  # fmt: skip
        s.add(
            DestructionAct(reference="D-K-1", subject_ref="1", categories="[]", rule="r",
                           due_at=ts, destroyed_at=ts, actor_type="system", digest="")
        )  # fmt: skip
    assert stale_keys(engine) == []
    with session_scope(engine) as s:
        app = s.scalars(select(MembershipApplication)).one()
        assert app.decided_month == 202403 and app.decision_days is not None
        # ORM updates of every source timestamp
        app.submitted_at, app.decided_at = later, later + 10 * DAY
        member = s.scalars(select(Member)).one()
        member.since, member.ended_at = date(2024, 3, 1), later
        consent = s.scalars(select(Consent)).one()
        consent.granted_at, consent.withdrawn_at = later, None
        subject = s.get(DataSubject, sid)
        subject.destruction_due_at = None
        s.scalars(select(SubjectRequest)).one().received_at = later
        s.scalars(select(DestructionAct)).one().destroyed_at = later
    assert stale_keys(engine) == []
    with Session(engine) as s:
        app = s.scalars(select(MembershipApplication)).one()
        assert (app.submitted_month, app.decided_month, app.decision_days) == (202403, 202403, 10)
        assert s.get(DataSubject, sid).destruction_due_month is None
        assert s.scalars(select(Consent)).one().withdrawn_month is None


def test_core_inserts_demo_seed_and_bulk_update_keep_the_keys(engine):
    demo.seed_staff(engine)
    demo.seed_subjects(engine, 60, now=datetime(2026, 5, 10, 9, 0, tzinfo=UTC))
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(Consent.withdrawn_month.is_not(None)))
        assert s.scalar(
            select(func.count()).where(MembershipApplication.decision_days.is_not(None))
        )
    assert stale_keys(engine) == []
    # the bench's bulk UPDATE (no ORM listener) names the key itself
    from dpa_panel import bench

    bench._prepare_sweep(engine, 5)
    assert stale_keys(engine) == []
    # a Core UPDATE that forgets the key is exactly what stale_keys catches
    with engine.begin() as conn:
        conn.execute(update(DataSubject).values(destruction_due_at=INSTANTS[0]))
    assert stale_keys(engine)


def test_destruction_keeps_the_keys(engine):
    """Destruction rewrites timestamps to the first of the same Almaty month: the month keys
    stay, the decision duration follows the rewritten timestamps; the act gets its month."""
    with session_scope(engine) as s:
        sid = make(
            s, app=("approved", CLOSED), member=("ended", ENDED),
            consents={"member_register": (ENDED, ""), "informing": (WD, "")},
        )  # fmt: skip
    with Session(engine) as s:
        before = s.execute(
            select(MembershipApplication.submitted_month, MembershipApplication.decided_month)
        ).one()
    later = ENDED + P5Y + DAY
    with session_scope(engine) as s:
        act = rt.destroy_subject(s, SYSTEM, sid, now=later)
    assert stale_keys(engine) == []
    with Session(engine) as s:
        app = s.scalars(select(MembershipApplication)).one()
        assert (app.submitted_month, app.decided_month) == tuple(before)
        assert app.decision_days == whole_days(app.submitted_at, app.decided_at)
        assert s.get(DestructionAct, act.id).destroyed_month == almaty_month(later)


def _migration(filename: str):
    path = Path(__file__).parent.parent / "alembic" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Revisions that add stored keys (each with ``MONTH_KEYS`` and ``_backfill``).
KEY_MIGRATIONS = ("0007_statistics_speed.py", "0008_disclosure_body_type.py")


def test_migration_backfill_equals_the_functions(engine):
    """The revisions' backfills (SQL on PostgreSQL, the models' functions on SQLite) write
    the same keys as the write paths, and cover exactly the models' derived columns."""
    migrations = [_migration(name) for name in KEY_MIGRATIONS]
    declared = {(t.name, c.name) for t in _tables() for c, _fn, _names in derived_columns(t)}
    in_migration = {
        (t, key) for mig in migrations for t, keys in mig.MONTH_KEYS.items() for key, _c, _k in keys
    }
    assert in_migration | {("membership_application", "decision_days")} == declared
    _core_rows(engine, INSTANTS, DATES)
    with engine.begin() as conn:
        for table in _tables():
            conn.execute(
                update(table).values({c.name: None for c, _f, _n in derived_columns(table)})
            )
    assert stale_keys(engine)
    with engine.begin() as conn:
        for mig in migrations:
            mig._backfill(conn)
    assert stale_keys(engine) == []


@pytest.mark.parametrize("flt", [st.StatsFilter(), st.StatsFilter(2024), st.StatsFilter(2024, 1)])
def test_boundary_rows_land_in_their_months(engine, flt):
    """The dashboard's month rows for the boundary instants are the months Python computes."""
    _core_rows(engine, INSTANTS, DATES)
    want: dict[str, int] = {}
    for ts in INSTANTS:
        month = st._month_label(almaty_month(ts))
        if flt.year is None or (
            month[:4] == str(flt.year)
            and (flt.quarter is None or st.quarter_of(month)[-1] == str(flt.quarter))
        ):
            want[month] = want.get(month, 0) + 1
    with Session(engine) as s:
        raw = st.raw_aggregates(s, flt, now=datetime(2026, 5, 10, tzinfo=UTC))
    got: dict[str, int] = {}
    for month, _status, n in raw.applications:
        got[month] = got.get(month, 0) + n
    assert got == want
