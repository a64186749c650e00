"""The hash-chained audit trail: tamper detection, transactions, concurrency, viewer queries.

Every test runs on SQLite and on PostgreSQL (when reachable) through the ``engine`` fixture.
Tampering is done with plain SQL, the way someone with database access would do it.
"""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlmodel import Session

from dpa_panel import cli, settings
from dpa_panel.db import dispose_engines, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit
from dpa_panel.services.audit import (
    GENESIS_HASH,
    Actor,
    AuditFilter,
    distinct_actions,
    iter_events,
    query_events,
    record,
    verify_chain,
    write_csv,
)

ALMATY = ZoneInfo(settings.DISPLAY_TZ)
CSV_INDEX = {name: i for i, name in enumerate(audit.CSV_COLUMNS)}


# --- helpers --------------------------------------------------------------------------------


def _append(engine, n: int, action: str = "test.event", actor: Actor | None = None) -> list[int]:
    """Append ``n`` events, one transaction each; returns their ids."""
    ids = []
    for i in range(n):
        with session_scope(engine) as s:
            ids.append(
                record(s, actor or Actor.system(), action, "subject", i, {"fields": ["x"]}).id
            )
    return ids


def _sql(engine, statement: str, **params) -> None:
    audit.settle(engine)  # this process's writes linked first (PostgreSQL)
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _verify(engine) -> audit.VerifyResult:
    with Session(engine) as s:  # verify_chain settles this process's linker first
        return verify_chain(s)


def _all_events(engine) -> list[AuditEvent]:
    audit.settle(engine)  # this process's writes linked first (PostgreSQL)
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _head(engine) -> AuditChainHead:
    audit.settle(engine)  # this process's writes linked first (PostgreSQL)
    with Session(engine) as s:
        return s.get(AuditChainHead, 1)


def _set_time(engine, event_id: int, when: datetime) -> None:
    """Move one event in time (through the column type, so both engines store it natively)."""
    audit.settle(engine)  # this process's writes linked first (PostgreSQL)
    with Session(engine) as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(occurred_at=when))
        s.commit()


# --- the chain --------------------------------------------------------------------------------


def test_empty_chain_verifies(engine):
    result = _verify(engine)
    assert result.ok
    assert result.checked == 0
    assert result.describe() == "audit chain OK: 0 events verified"
    with Session(engine) as s:
        assert distinct_actions(s) == []
        assert query_events(s, AuditFilter(), page=1) == ([], 0)
        assert list(iter_events(s, AuditFilter())) == []


def test_chain_of_events_verifies(engine):
    ids = _append(engine, 12)
    result = _verify(engine)
    assert result.ok, result.describe()
    assert result.checked == 12
    events = _all_events(engine)
    assert [e.id for e in events] == ids
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    head = _head(engine)
    assert (head.last_event_id, head.last_hash, head.event_count) == (ids[-1], events[-1].hash, 12)


def test_edited_row_is_detected(engine):
    ids = _append(engine, 6)
    k = ids[3]
    _sql(engine, "UPDATE audit_event SET details = :d WHERE id = :k", d='{"fields":[]}', k=k)
    result = _verify(engine)
    assert not result.ok
    assert result.event_id == k
    assert result.checked == 3
    assert "edited" in result.problem


def test_deleted_middle_row_is_detected_at_the_next_row(engine):
    ids = _append(engine, 6)
    _sql(engine, "DELETE FROM audit_event WHERE id = :k", k=ids[2])
    result = _verify(engine)
    assert not result.ok
    assert result.event_id == ids[3]
    assert "previous-hash" in result.problem


def test_deleted_newest_row_is_detected_by_the_head(engine):
    ids = _append(engine, 4)
    _sql(engine, "DELETE FROM audit_event WHERE id = :k", k=ids[-1])
    result = _verify(engine)
    assert not result.ok
    assert result.event_id == ids[-1]
    assert result.checked == 3
    assert "newest events missing" in result.problem


def test_rolled_back_action_leaves_no_event(engine):
    _append(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        record(s, Actor.system(), "doomed.action", "subject", 99)
        raise RuntimeError("the action failed after its event was written")
    _append(engine, 1)
    events = _all_events(engine)
    assert len(events) == 3
    assert "doomed.action" not in {e.action for e in events}
    result = _verify(engine)
    assert result.ok, result.describe()
    assert result.checked == 3
    assert _head(engine).event_count == 3


def test_too_large_details_raises_and_writes_nothing(engine):
    huge = {"note": "x" * (audit.MAX_DETAILS_CHARS + 1)}
    with pytest.raises(ValueError, match="too large"), session_scope(engine) as s:
        record(s, Actor.system(), "big.event", details=huge)
    # A caller that catches the error and commits the rest of its work must not leave a trace
    # either (the head's event count would otherwise disagree with the rows).
    with session_scope(engine) as s:
        with pytest.raises(ValueError):
            record(s, Actor.system(), "big.event", details=huge)
    assert _all_events(engine) == []
    head = _head(engine)
    assert (head.event_count, head.last_event_id, head.last_hash) == (0, 0, GENESIS_HASH)
    assert _verify(engine).ok


@pytest.mark.timeout(180)
def test_concurrent_appenders_never_fork_the_chain(engine):
    threads_n, per_thread = 8, 25
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with session_scope(engine) as s:
                    record(s, Actor.user(t + 1), "concurrent.append", "thread", t, {"i": i})
        except BaseException as exc:  # reported below, with the engine's own message
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, f"{len(errors)} appender(s) failed: {errors[0]!r}"

    events = _all_events(engine)
    assert len(events) == threads_n * per_thread
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash, f"link broken at event {after.id}"
    assert len({e.prev_hash for e in events}) == len(events), "two events share a predecessor"
    per_actor = {}
    for e in events:
        per_actor[e.actor_id] = per_actor.get(e.actor_id, 0) + 1
    assert per_actor == {t + 1: per_thread for t in range(threads_n)}
    result = _verify(engine)
    assert result.ok, result.describe()
    assert result.checked == threads_n * per_thread


# --- viewer queries ---------------------------------------------------------------------------


def _seed_for_queries(engine) -> dict[str, list[int]]:
    """A small mixed trail: two staff users, the public form and the system."""
    made: dict[str, list[int]] = {}
    plan = [
        (Actor.user(1, "10.0.0.1"), "subject.view", "subject", 7),
        (Actor.user(2, "10.0.0.2"), "subject.view", "subject", 8),
        (Actor.user(1, "10.0.0.1"), "subject.update", "subject", 7),
        (Actor.public("203.0.113.9"), "application.submit", "application", 3),
        (Actor.system(), "retention.run", "", ""),
        (Actor.user(2, "10.0.0.2"), "subject.view", "subject", 7),
        (Actor.user(1, "10.0.0.1"), "subject.view", "subject", 9),
    ]
    with session_scope(engine) as s:
        for actor, action, etype, eid in plan:
            event = record(s, actor, action, etype, eid)
            made.setdefault(action, []).append(event.id)
            made.setdefault(f"actor:{actor.user_id}", []).append(event.id)
            made.setdefault(f"entity:{etype}:{eid}", []).append(event.id)
            made.setdefault("all", []).append(event.id)
    audit.settle(engine)  # linked (PostgreSQL): the viewer's total counts linked events
    return made


def _ids(rows) -> list[int]:
    return [e.id for e in rows]


def test_query_filters_by_actor_action_and_entity(engine):
    made = _seed_for_queries(engine)
    with Session(engine) as s:
        rows, total = query_events(s, AuditFilter(), page=1)
        assert (_ids(rows), total) == (made["all"][::-1], 7)

        rows, total = query_events(s, AuditFilter(actor_id=1), page=1)
        assert (_ids(rows), total) == (made["actor:1"][::-1], 3)

        rows, total = query_events(s, AuditFilter(actor_type="public"), page=1)
        assert (_ids(rows), total) == (made["application.submit"], 1)

        rows, total = query_events(s, AuditFilter(action="subject.view"), page=1)
        assert (_ids(rows), total) == (made["subject.view"][::-1], 4)
        # Exact match, not a prefix search.
        assert query_events(s, AuditFilter(action="subject"), page=1) == ([], 0)

        rows, total = query_events(s, AuditFilter(entity_type="subject", entity_id="7"), page=1)
        assert (_ids(rows), total) == (made["entity:subject:7"][::-1], 3)

        rows, total = query_events(
            s, AuditFilter(actor_id=2, action="subject.view", entity_id="7"), page=1
        )
        assert total == 1 and rows[0].actor_id == 2 and rows[0].entity_id == "7"

        assert distinct_actions(s) == [
            "application.submit",
            "retention.run",
            "subject.update",
            "subject.view",
        ]


def test_query_date_range_uses_almaty_days(engine):
    day = date(2025, 3, 10)
    local = {
        "early_same_day": datetime(2025, 3, 10, 4, 0, tzinfo=ALMATY),  # 03-09 23:00 UTC
        "late_same_day": datetime(2025, 3, 10, 23, 30, tzinfo=ALMATY),  # 03-10 18:30 UTC
        "next_day": datetime(2025, 3, 11, 0, 30, tzinfo=ALMATY),  # 03-10 19:30 UTC
        "day_before": datetime(2025, 3, 9, 23, 30, tzinfo=ALMATY),  # 03-09 18:30 UTC
    }
    ids = {}
    with session_scope(engine) as s:
        for name in local:
            ids[name] = record(s, Actor.system(), "dated.event", "case", name).id
    for name, when in local.items():
        _set_time(engine, ids[name], when.astimezone(UTC))
    # The day boundary really is Almaty's: two of the four events change day in UTC.
    assert local["early_same_day"].astimezone(UTC).date() == date(2025, 3, 9)
    assert local["next_day"].astimezone(UTC).date() == date(2025, 3, 10)

    def found(**kw) -> set[str]:
        with Session(engine) as s:
            rows, total = query_events(s, AuditFilter(**kw), page=1)
        assert total == len(rows)
        return {e.entity_id for e in rows}

    assert found(date_from=day, date_to=day) == {"early_same_day", "late_same_day"}
    assert found(date_from=day) == {"early_same_day", "late_same_day", "next_day"}
    assert found(date_to=day) == {"early_same_day", "late_same_day", "day_before"}
    assert found(date_to=date(2025, 3, 9)) == {"day_before"}
    assert found(date_from=date(2025, 3, 11), date_to=date(2025, 3, 11)) == {"next_day"}
    assert found(date_from=date(2025, 3, 12)) == set()
    # Loaded back as aware UTC, the same instant that was stored.
    with Session(engine) as s:
        event = s.get(AuditEvent, ids["late_same_day"])
        assert event.occurred_at == local["late_same_day"]
        assert event.occurred_at.tzinfo is not None


def test_query_pagination_newest_first_with_total(engine, monkeypatch):
    with session_scope(engine) as s:
        ids = [record(s, Actor.system(), "paged.event", "n", i).id for i in range(7)]
        record(s, Actor.system(), "other.event")
    newest_first = ids[::-1]
    flt = AuditFilter(action="paged.event")
    with Session(engine) as s:
        pages = [query_events(s, flt, page=p, page_size=3) for p in (1, 2, 3, 4)]
        assert [_ids(rows) for rows, _ in pages] == [
            newest_first[0:3],
            newest_first[3:6],
            newest_first[6:7],
            [],
        ]
        assert {total for _, total in pages} == {7}
        # Pages below 1 are page 1; the page size is capped.
        assert _ids(query_events(s, flt, page=0, page_size=3)[0]) == newest_first[0:3]
        monkeypatch.setattr(audit, "MAX_PAGE_SIZE", 5)
        rows, total = query_events(s, flt, page=1, page_size=1000)
        assert (_ids(rows), total) == (newest_first[0:5], 7)


def test_iter_events_streams_all_matches_in_id_order_across_batches(engine, monkeypatch):
    monkeypatch.setattr(audit, "EXPORT_BATCH", 7)
    with session_scope(engine) as s:
        made = [
            record(s, Actor.system(), "wanted" if i % 3 else "unwanted", "n", i) for i in range(31)
        ]
    wanted = [e.id for e in made if e.action == "wanted"]
    assert len(wanted) > 2 * 7  # more than two batches

    batch_sizes: list[int] = []
    with Session(engine) as s:
        real_scalars = s.scalars

        def counting_scalars(*args, **kw):
            result = list(real_scalars(*args, **kw))
            batch_sizes.append(len(result))
            return result

        monkeypatch.setattr(s, "scalars", counting_scalars)
        got = [e.id for e in iter_events(s, AuditFilter(action="wanted"))]
        assert got == wanted
        assert max(batch_sizes) <= 7 and len(batch_sizes) == 3
        batch_sizes.clear()
        assert [e.id for e in iter_events(s, AuditFilter())] == [e.id for e in made]
        assert batch_sizes == [7, 7, 7, 7, 3]
        assert list(iter_events(s, AuditFilter(action="nothing"))) == []


def test_write_csv_round_trips(engine):
    with session_scope(engine) as s:
        record(s, Actor.user(1, "10.0.0.1"), "subject.update", "subject", "7,8", {"fields": ["a"]})
        record(
            s,
            Actor.user(2, "::1"),
            "note.add",
            "subject",
            7,
            {"note": 'Қазақ "quoted", comma\nnewline'},
        )
        record(s, Actor.public("203.0.113.9"), "application.submit", "application", 3)
        record(s, Actor.user(99), "subject.view", "subject", 1)  # user unknown to the map
    audit.settle(engine)  # linked (PostgreSQL), so the export carries the hashes
    usernames = {1: "admin", 2: "Әлия"}
    with Session(engine) as s:
        events = list(iter_events(s, AuditFilter()))
    out = io.StringIO(newline="")
    assert write_csv(events, out, usernames) == 4

    reader = csv.reader(io.StringIO(out.getvalue(), newline=""))
    header, *rows = list(reader)
    assert tuple(header) == audit.CSV_COLUMNS
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        values = dict(zip(header, row, strict=True))
        assert int(values["id"]) == event.id
        assert datetime.fromisoformat(values["occurred_at_utc"]) == event.occurred_at
        assert values["occurred_at_utc"].endswith("+00:00")
        assert values["actor_type"] == event.actor_type
        assert values["actor_id"] == ("" if event.actor_id is None else str(event.actor_id))
        assert values["actor_username"] == usernames.get(event.actor_id, "")
        for column in ("action", "entity_type", "entity_id", "client_ip", "details"):
            assert values[column] == getattr(event, column)
        assert (values["prev_hash"], values["hash"]) == (event.prev_hash, event.hash)
    assert rows[0][CSV_INDEX["entity_id"]] == "7,8"
    assert rows[1][CSV_INDEX["actor_username"]] == "Әлия"
    assert rows[2][CSV_INDEX["actor_id"]] == ""

    # Written in batches (as the streamed download does): one header, same rows.
    batched = io.StringIO(newline="")
    assert write_csv(events[:2], batched, usernames) == 2
    assert write_csv(events[2:], batched, usernames, header=False) == 2
    assert batched.getvalue() == out.getvalue()


# --- command line -----------------------------------------------------------------------------


def test_cli_audit_verify(db_url, engine, capsys, monkeypatch):
    monkeypatch.delenv("DPA_AUDIT_KEY", raising=False)
    monkeypatch.delenv("DPA_AUDIT_PUBLIC_KEY", raising=False)
    try:
        ids = _append(engine, 3)
        assert cli.main(["audit", "verify"]) == 0
        first, *rest = capsys.readouterr().out.strip().splitlines()
        assert first == "audit chain OK: 3 events verified"
        assert rest[0].startswith("audit checkpoints NOT CHECKED")  # no DPA_AUDIT_KEY here

        _sql(engine, "UPDATE audit_event SET action = 'forged' WHERE id = :k", k=ids[1])
        assert cli.main(["audit", "verify"]) == 1
        out = capsys.readouterr().out
        assert f"audit chain BROKEN at event id {ids[1]}" in out
        assert "1 events checked before it" in out
    finally:
        dispose_engines()


def test_record_returns_what_was_stored(engine):
    """``record`` returns a plain ``Appended`` (19-audit-9), field for field the stored row;
    its hashes are the stored ones on SQLite and come later from the linker on PostgreSQL."""
    actor = Actor.user(3, "198.51.100.7")
    with session_scope(engine) as s:
        made = record(s, actor, "subject.view", "subject", 42, {"fields": ["name"]})
    assert isinstance(made, audit.Appended)
    audit.settle(engine)
    with Session(engine) as s:
        row = s.get(AuditEvent, made.id)
    for name in ("occurred_at", "actor_type", "actor_id", "action", "entity_type", "entity_id",
                 "client_ip", "details"):  # fmt: skip
        assert getattr(made, name) == getattr(row, name), name
    assert row.hash == audit.event_hash(row)
    if engine.dialect.name == "sqlite":
        assert (made.prev_hash, made.hash) == (row.prev_hash, row.hash)
    else:
        assert (made.prev_hash, made.hash) == (None, None)
