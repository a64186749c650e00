"""Signed audit checkpoints (issue 15, hole 9): what the chain alone cannot catch, they do.

The attacker here can write the database (any SQL) but does not hold ``DPA_AUDIT_KEY``. Each
attack is first shown to pass ``verify_chain`` (the hole), then to fail ``dpa-panel audit
verify`` once checkpoints exist.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from dpa_panel import cli
from dpa_panel.db import dispose_engines, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit, backup
from dpa_panel.services import audit_checkpoints as checkpoints


@pytest.fixture
def keys(monkeypatch, tmp_path):
    private, public = checkpoints.generate_key()
    path = tmp_path / "audit" / "checkpoints.jsonl"
    monkeypatch.setenv("DPA_AUDIT_KEY", private)
    monkeypatch.delenv("DPA_AUDIT_PUBLIC_KEY", raising=False)
    monkeypatch.setenv("DPA_AUDIT_CHECKPOINT_PATH", str(path))
    yield {"private": private, "public": public, "path": path}
    dispose_engines()


def _events(engine, n: int, start: int = 0) -> None:
    with session_scope(engine) as session:
        for i in range(start, start + n):
            audit.record(session, audit.Actor.system(), "test.event", "thing", i, {"n": i})


def _verify(capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out


def _chain_ok(engine) -> bool:
    with session_scope(engine) as session:
        return audit.verify_chain(session).ok


def _rewrite_chain_from(engine, first_id: int) -> None:
    """The attacker's full consistent rewrite: edit event ``first_id`` and recompute every
    later hash and the head with plain SHA-256 (the published ``compute_hash``)."""
    with session_scope(engine) as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = audit.GENESIS_HASH
        for event in rows:
            if event.id == first_id:
                event.details = json.dumps({"n": "innocent"})
            event.prev_hash = prev
            event.hash = audit.event_hash(event)
            prev = event.hash
        session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=prev))


def _delete_tail(engine, keep: int) -> None:
    """Delete every event after the first ``keep`` and rewrite the head to match."""
    with session_scope(engine) as session:
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        last = session.get(AuditEvent, ids[keep - 1])
        session.execute(delete(AuditEvent).where(AuditEvent.id > last.id))
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(last_hash=last.hash, last_event_id=last.id, event_count=keep)
        )


def test_checkpoints_verify_and_catch_a_full_consistent_rewrite(engine, keys, capsys):
    _events(engine, 20)
    assert cli.main(["audit", "checkpoint"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["seq"] == 20 and len(record["head"]) == 64 and record["sig"]
    assert keys["path"].read_text().strip() == line  # the printed line is the stored line
    _events(engine, 5, start=20)
    assert cli.main(["audit", "checkpoint"]) == 0
    code, out = _verify(capsys)
    assert code == 0, out
    assert "audit chain OK: 25 events" in out and "audit checkpoints OK: 2 verified" in out

    with session_scope(engine) as session:
        third = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
    _rewrite_chain_from(engine, third)
    assert _chain_ok(engine)  # the hole: the chain alone verifies after the rewrite
    code, out = _verify(capsys)
    assert code == 1
    assert "chain rewritten" in out
    # A checkpoint would bless the rewrite: refused.
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "refusing to checkpoint" in capsys.readouterr().err


def test_tail_deletion_with_head_rewrite_is_caught(engine, keys, capsys):
    _events(engine, 10)
    assert cli.main(["audit", "checkpoint"]) == 0
    _events(engine, 10, start=10)
    assert cli.main(["audit", "checkpoint"]) == 0
    _delete_tail(engine, keep=15)  # removes the newest checkpoint's event and five before it
    assert _chain_ok(engine)  # the hole
    code, out = _verify(capsys)
    assert code == 1
    assert "newest events deleted" in out
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "events were deleted" in capsys.readouterr().err


def test_forged_checkpoint_lines_are_caught(engine, keys, capsys, monkeypatch):
    _events(engine, 8)
    assert cli.main(["audit", "checkpoint"]) == 0
    good = json.loads(keys["path"].read_text().splitlines()[0])
    # 1. The attacker rewrites the chain, then edits the line to the new head (no key).
    _rewrite_chain_from(engine, good["event_id"] - 3)
    with session_scope(engine) as session:
        new_head = session.get(AuditChainHead, 1).last_hash
    keys["path"].write_text(json.dumps({**good, "head": new_head}) + "\n")
    code, out = _verify(capsys)
    assert code == 1 and "signature does not verify (forged)" in out
    # 2. ...or signs the line with a key of their own, copying the key id.
    other_private, _other_public = checkpoints.generate_key()
    own = checkpoints.sign_checkpoint(
        checkpoints.parse_private_key(other_private),
        event_id=good["event_id"], seq=good["seq"], head=new_head,
        at=checkpoints.newest_time(checkpoints.CheckpointVerdict(newest=good)),
    )  # fmt: skip
    keys["path"].write_text(json.dumps({**own, "key_id": good["key_id"]}) + "\n")
    code, out = _verify(capsys)
    assert code == 1 and "forged" in out
    # 3. Garbage in the file is reported, not skipped.
    keys["path"].write_text("{not json\n")
    code, out = _verify(capsys)
    assert code == 1 and "unreadable" in out


def test_public_key_alone_verifies_but_cannot_sign(engine, keys, capsys, monkeypatch):
    _events(engine, 4)
    assert cli.main(["audit", "checkpoint"]) == 0
    monkeypatch.delenv("DPA_AUDIT_KEY")
    monkeypatch.setenv("DPA_AUDIT_PUBLIC_KEY", keys["public"])
    code, out = _verify(capsys)
    assert code == 0 and "audit checkpoints OK: 1 verified" in out, out
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "DPA_AUDIT_KEY is not set" in capsys.readouterr().err
    # A different public key: every line is reported as signed by another key.
    monkeypatch.setenv("DPA_AUDIT_PUBLIC_KEY", checkpoints.generate_key()[1])
    code, out = _verify(capsys)
    assert code == 1 and "another key" in out


def test_without_any_key_verify_checks_the_chain_and_says_so(engine, keys, capsys, monkeypatch):
    _events(engine, 3)
    monkeypatch.delenv("DPA_AUDIT_KEY")
    code, out = _verify(capsys)
    assert code == 0
    assert "audit checkpoints NOT CHECKED: DPA_AUDIT_KEY is not set" in out


def test_every_backup_writes_a_checkpoint_covering_its_own_event(
    db_url, engine, keys, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DPA_BACKUP_KEY", backup.generate_key())
    _events(engine, 3)
    assert cli.main(["backup", "--out", str(tmp_path / "b.dpabak")]) == 0
    assert "audit checkpoint: event" in capsys.readouterr().out
    (line,) = keys["path"].read_text().splitlines()
    record = json.loads(line)
    with session_scope(engine) as session:
        event = session.get(AuditEvent, record["event_id"])
        assert event.action == backup.BACKUP_ACTION and record["head"] == event.hash
    assert (keys["path"].stat().st_mode & 0o777) == 0o600
    # Without the key the backup still succeeds and says that no checkpoint was written.
    monkeypatch.delenv("DPA_AUDIT_KEY")
    assert cli.main(["backup", "--out", str(tmp_path / "c.dpabak")]) == 0
    assert "no audit checkpoint written" in capsys.readouterr().err
    assert len(keys["path"].read_text().splitlines()) == 1


def test_checkpoint_of_an_empty_chain_and_appends_only(engine, keys, capsys):
    assert cli.main(["audit", "checkpoint"]) == 0
    _events(engine, 2)
    assert cli.main(["audit", "checkpoint"]) == 0
    lines = [json.loads(x) for x in keys["path"].read_text().splitlines()]
    assert [x["seq"] for x in lines] == [0, 2]
    assert lines[0]["event_id"] is None
    code, out = _verify(capsys)
    assert code == 0, out


def test_checkpoints_while_others_append(engine, keys, capsys):
    """Writers keep appending while checkpoints are signed: none is refused, all verify."""
    import threading

    _events(engine, 5)
    assert cli.main(["audit", "checkpoint"]) == 0
    stop = threading.Event()

    def writer() -> None:
        n = 100
        while not stop.is_set():
            _events(engine, 1, start=n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(10):
            with session_scope(engine) as session:
                checkpoints.write_checkpoint(session)
    finally:
        stop.set()
        thread.join()
    code, out = _verify(capsys)
    assert code == 0 and "audit checkpoints OK: 11 verified" in out, out


def test_a_forged_newest_line_is_not_taken_as_the_base(engine, keys, capsys):
    _events(engine, 3)
    assert cli.main(["audit", "checkpoint"]) == 0
    good = json.loads(keys["path"].read_text().splitlines()[0])
    forged = {**good, "seq": 10**6, "event_id": 10**6, "sig": good["sig"][::-1]}
    with open(keys["path"], "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    _events(engine, 2, start=3)
    assert cli.main(["audit", "checkpoint"]) == 0  # based on the valid line, not the forged one
    code, out = _verify(capsys)
    assert code == 1 and "line 2: signature does not verify (forged)" in out


def test_an_unusable_checkpoint_file_is_one_clear_message(engine, keys, capsys):
    keys["path"].mkdir(parents=True)  # a directory where the file should be
    assert cli.main(["audit", "checkpoint"]) == 2
    assert "cannot read" in capsys.readouterr().err
    code, out = _verify(capsys)
    assert code == 1 and "cannot read" in out


def test_restoring_an_older_backup_is_reported_and_a_new_file_starts_clean(
    db_url, db_kind, engine, keys, tmp_path, monkeypatch, capsys
):
    from tests.dbutil import fresh_database

    monkeypatch.setenv("DPA_BACKUP_KEY", backup.generate_key())
    _events(engine, 3)
    out = tmp_path / "old.dpabak"
    assert cli.main(["backup", "--out", str(out)]) == 0  # checkpoint 1: the backup's event
    _events(engine, 4, start=3)
    assert cli.main(["audit", "checkpoint"]) == 0  # checkpoint 2: four events later
    with fresh_database(db_kind, tmp_path) as target:
        monkeypatch.setenv("DPA_DATABASE_URL", target)
        capsys.readouterr()
        assert cli.main(["restore", str(out)]) == 0
        assert "keep that file as the record of what the restore lost" in capsys.readouterr().err
        code, out_text = _verify(capsys)
        assert code == 1 and "newest events deleted" in out_text
        assert cli.main(["audit", "checkpoint"]) == 2
        assert "start a new one" in capsys.readouterr().err
        keys["path"].rename(keys["path"].with_name("checkpoints-before-restore.jsonl"))
        assert cli.main(["audit", "checkpoint"]) == 0
        code, out_text = _verify(capsys)
        assert code == 0, out_text
        dispose_engines()
