"""Encrypted backup and restore on both engines (issue 10): counts, chain head, tampering."""

from __future__ import annotations

import json
import struct

import pytest
from sqlalchemy import select, text

from dpa_panel import cli, demo
from dpa_panel.db import dispose_engines, make_engine, session_scope
from dpa_panel.models import AuditEvent
from dpa_panel.services import audit, backup
from tests.dbutil import fresh_database


@pytest.fixture
def backup_key(monkeypatch) -> str:
    key = backup.generate_key()
    monkeypatch.setenv("DPA_BACKUP_KEY", key)
    return key


def _seed(url: str) -> None:
    eng = make_engine(url)
    try:
        demo.seed_staff(eng)
        demo.seed_subjects(eng, 60, seed=7)
        with session_scope(eng) as session:
            for n in range(5):
                audit.record(session, audit.Actor.system(), "test.event", "thing", n, {"n": n})
    finally:
        eng.dispose()


def _snapshot(url: str) -> tuple[dict, dict | None]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return backup.row_counts(conn), backup.chain_head(conn)
    finally:
        eng.dispose()


def test_generated_key_round_trips_and_bad_keys_are_refused():
    key = backup.generate_key()
    assert len(backup.parse_key(key)) == 32
    for bad in ("", "not base64 at all!!", backup.generate_key()[:20]):
        with pytest.raises(backup.BackupError):
            backup.parse_key(bad)


def test_backup_without_key_is_refused(db_url, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("DPA_BACKUP_KEY", raising=False)
    assert cli.main(["backup", "--out", str(tmp_path / "x.dpabak")]) == 2
    assert "DPA_BACKUP_KEY is not set" in capsys.readouterr().err
    assert not (tmp_path / "x.dpabak").exists()


def test_backup_restore_round_trip(db_url, db_kind, backup_key, tmp_path, monkeypatch, capsys):
    _seed(db_url)
    counts, head = _snapshot(db_url)
    assert counts["data_subject"] == 60 and head["event_count"] >= 5
    out = tmp_path / "b.dpabak"
    assert cli.main(["backup", "--out", str(out)]) == 0
    assert out.exists() and (out.stat().st_mode & 0o777) == 0o600

    header = backup.read_header(out)
    assert header["engine"] == db_kind
    assert header["row_counts"] == counts
    assert header["audit_chain_head"] == head
    assert header["alembic_revision"] and header["created_at"]
    # The dump is not readable in the clear: no seeded surname appears in the file.
    eng = make_engine(db_url)
    with eng.connect() as conn:
        surname = conn.execute(text("SELECT surname FROM data_subject LIMIT 1")).scalar_one()
    eng.dispose()
    assert surname.encode("utf-8") not in out.read_bytes()

    # The backup is recorded in the trail (after the snapshot: not inside the file).
    eng = make_engine(db_url)
    with session_scope(eng) as session:
        _when, info = backup.last_backup(session)
        assert info["file"] == str(out) and info["size"] == out.stat().st_size
        assert len(info["sha256"]) == 64
    eng.dispose()

    with fresh_database(db_kind, tmp_path) as target:
        monkeypatch.setenv("DPA_DATABASE_URL", target)
        assert cli.main(["restore", str(out)]) == 0, capsys.readouterr().err
        restored_counts, restored_head = _snapshot(target)
        # Restore appends one backup.restored event chained to the restored head.
        assert restored_counts == {**counts, "audit_event": counts["audit_event"] + 1}
        eng = make_engine(target)
        with session_scope(eng) as session:
            last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert last.action == backup.RESTORE_ACTION
            assert last.prev_hash == head["last_hash"]
        eng.dispose()
        assert cli.main(["audit", "verify"]) == 0
        # A second restore over the now non-empty database is refused without --yes.
        capsys.readouterr()
        assert cli.main(["restore", str(out)]) == 2
        assert "not empty" in capsys.readouterr().err
        assert cli.main(["restore", str(out), "--yes"]) == 0, capsys.readouterr().err
        assert _snapshot(target)[0] == restored_counts
        dispose_engines()


def test_wrong_key_and_tampering_fail_cleanly(db_url, db_kind, backup_key, tmp_path, monkeypatch):
    _seed(db_url)
    out = tmp_path / "b.dpabak"
    backup.create_backup(out=out, record=False)
    key = backup.parse_key(backup_key)
    assert backup.verify_file(out, key)["engine"] == db_kind

    with pytest.raises(backup.BackupError, match="wrong backup key"):
        backup.verify_file(out, backup.parse_key(backup.generate_key()))

    data = out.read_bytes()
    (hlen,) = struct.unpack(">I", data[8:12])
    body_start = 12 + hlen

    def variant(name: str, content: bytes):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    flipped = bytearray(data)
    flipped[body_start + 40] ^= 0x01
    header = json.loads(data[12:body_start])
    header["row_counts"]["data_subject"] += 1
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    edited_header = data[:8] + struct.pack(">I", len(raw)) + raw + data[body_start:]
    cases = {
        "flipped.dpabak": bytes(flipped),
        "header.dpabak": edited_header,
        "truncated.dpabak": data[:-5],
        "cut.dpabak": data[: body_start + 4 + 10],
        "garbage.dpabak": b"hello world",
    }
    with fresh_database(db_kind, tmp_path) as target:
        monkeypatch.setenv("DPA_DATABASE_URL", target)
        for name, content in cases.items():
            path = variant(name, content)
            with pytest.raises(backup.BackupError):
                backup.verify_file(path, key)
            assert cli.main(["restore", str(path)]) == 2, name
            assert backup.database_is_empty(target), f"{name} touched the target"
        monkeypatch.setenv("DPA_BACKUP_KEY", backup.generate_key())
        assert cli.main(["restore", str(out)]) == 2
        assert backup.database_is_empty(target)
        dispose_engines()


def test_multi_chunk_stream_round_trip(tmp_path, monkeypatch):
    """Payloads over one chunk: chunk order and the last-chunk flag are authenticated."""
    import io

    monkeypatch.setattr(backup, "CHUNK", 1000)
    key = backup.parse_key(backup.generate_key())
    payload = bytes(range(256)) * 20  # 5120 bytes: 6 chunks
    buf = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(payload), buf, key, {"engine": "sqlite"})
    assert b"".join(backup.decrypt_chunks(io.BytesIO(buf.getvalue()), key)) == payload

    data = buf.getvalue()
    (hlen,) = struct.unpack(">I", data[8:12])
    pos = 12 + hlen
    frames = []
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        frames.append(data[pos : pos + 4 + size])
        pos += 4 + size
    assert len(frames) == 6
    head = data[: 12 + hlen]
    for bad in (
        head + b"".join(frames[:-1]),  # dropped last chunk, cut at a boundary
        head + frames[1] + frames[0] + b"".join(frames[2:]),  # swapped
    ):
        with pytest.raises(backup.BackupError):
            b"".join(backup.decrypt_chunks(io.BytesIO(bad), key))
    empty = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(b""), empty, key, {"engine": "sqlite"})
    assert b"".join(backup.decrypt_chunks(io.BytesIO(empty.getvalue()), key)) == b""


def _reseal(src, dst, key: bytes, **header_changes) -> None:
    """Re-encrypt ``src``'s payload under a changed header (only the key holder can)."""
    header = backup.read_header(src)
    for name in ("format", "cipher", "chunk_size", "salt", "nonce_prefix", "key_id"):
        header.pop(name)
    header.update(header_changes)
    import io

    with open(src, "rb") as fh:
        payload = b"".join(backup.decrypt_chunks(fh, key))
    with open(dst, "wb") as out:
        backup.encrypt_stream(io.BytesIO(payload), out, key, header)


def test_a_failed_check_rolls_the_restore_back(
    db_url, db_kind, backup_key, tmp_path, monkeypatch, capsys
):
    """Counts that disagree with the header: nothing of the restore stays in the target."""
    _seed(db_url)
    out = tmp_path / "b.dpabak"
    backup.create_backup(out=out, record=False)
    key = backup.parse_key(backup_key)
    counts = dict(backup.read_header(out)["row_counts"])
    counts["data_subject"] += 1
    lying = tmp_path / "lying.dpabak"
    _reseal(out, lying, key, row_counts=counts)
    with fresh_database(db_kind, tmp_path) as target:
        monkeypatch.setenv("DPA_DATABASE_URL", target)
        capsys.readouterr()
        assert cli.main(["restore", str(lying)]) == 1
        err = capsys.readouterr().err
        assert "table data_subject: 60 rows, backup header says 61" in err
        assert "left unchanged" in err
        assert backup.database_is_empty(target)
        dispose_engines()


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
def test_restore_script_runner_refuses_unknown_meta_commands(db_kind, engine):
    from dpa_panel.services import pg_script

    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        lines = [
            b"\\restrict abc\n",
            b"CREATE TABLE t (x text);\n",
            b"COPY public.t (x) FROM stdin;\n",
            b"a\n",
            b"b\\tc\n",
            b"\\.\n",
            b"\\unrestrict abc\n",
        ]
        assert pg_script.run_script(lines, raw) == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 2
        with pytest.raises(pg_script.ScriptError, match="meta-command"):
            pg_script.run_script([b"\\! rm -rf /\n"], raw)
        with pytest.raises(pg_script.ScriptError, match="truncated"):
            pg_script.run_script([b"COPY public.t (x) FROM stdin;\n", b"z\n"], raw)
        conn.rollback()
