"""Encrypted backups and restores of the panel database (issue 10; policy clause 4.3).

File format (``.dpabak``), version 1::

    MAGIC (8 bytes) | header length (4 bytes, big-endian) | header (UTF-8 JSON)
    frame* where frame = ciphertext length (4 bytes, big-endian) | AES-256-GCM ciphertext+tag

* The header is public (anyone can read it with ``read_header``) and authenticated: its bytes
  (with the magic) are hashed into the associated data of every frame, so changing one byte of
  it makes the first frame fail. It records the engine, the creation time (UTC), the Alembic
  revision, the audit chain head and the row count of every table: counts and hashes only,
  never personal data.
* The payload is the engine's native dump — ``pg_dump --format=custom`` on PostgreSQL, a copy
  made with SQLite's online backup API (``sqlite3.Connection.backup``) on SQLite — cut into
  1 MiB chunks, each sealed with AES-256-GCM (the "STREAM" construction: the nonce is a random
  7-byte prefix, a 4-byte chunk counter and a last-chunk flag), so chunks cannot be dropped,
  reordered or truncated unnoticed, and nothing larger than one chunk is held in memory.
* The file key is derived from ``DPA_BACKUP_KEY`` (32 random bytes, URL-safe base64, made by
  ``dpa-panel backup --generate-key``) with HKDF-SHA256 and a random per-file salt; the header
  carries a short key id so a wrong key is reported as such before anything is decrypted.

Restores live in ``services/restore.py``: checked before anything becomes visible.

No plaintext copy of the database is ever written to a file (issue 15, hole 8): a SIGKILL at
any point leaves at most an encrypted ``.part`` file, and the target either untouched or
restored and checked. ``remove_stale_working_copies`` deletes the plaintext folders that
killed runs of earlier versions left behind.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from dpa_panel import settings

MAGIC = b"DPABAK\x00\x01"
FORMAT = "dpa-panel-backup/1"
CHUNK = 1 << 20
MAX_HEADER = 1 << 20
_TAG = 16
_FILE_KEY_INFO = b"dpa-panel backup v1 file key"
_KEY_ID_INFO = b"dpa-panel backup v1 key id"
BACKUP_ACTION = "backup.created"
RESTORE_ACTION = "backup.restored"


class BackupError(Exception):
    """A backup or restore refused or failed; the message is meant for the operator."""


# --- working copies and kill points ----------------------------------------------------------

#: Folder-name prefixes of the plaintext working copies older versions wrote next to the
#: backup file (``dpa-backup-*/copy.db``) or the SQLite database (``dpa-restore-*/restore.db``).
STALE_PREFIXES = ("dpa-backup-", "dpa-restore-")
#: An encrypted ``.part`` file older than this is a killed backup's remains (never plaintext).
STALE_PART_HOURS = 6


def remove_stale_working_copies(extra_dirs: tuple[Path, ...] = ()) -> list[Path]:
    """Delete what a killed backup or restore of an older version could leave behind.

    This version never writes a plaintext copy to disk; folders named ``dpa-backup-*`` in the
    backup folder (or a ``--out`` folder) and ``dpa-restore-*`` beside the SQLite database are
    the plaintext working copies of earlier versions, removed at the start of every backup,
    restore and doctor run. Returns what was removed (the doctor reports it).
    """
    dirs = {settings.backup_dir(), *extra_dirs}
    url = settings.database_url()
    if engine_kind(url) == "sqlite":
        with contextlib.suppress(BackupError):
            dirs.add(_sqlite_path(url).parent)
    removed: list[Path] = []
    cutoff = time.time() - STALE_PART_HOURS * 3600
    for folder in dirs:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.name.startswith(STALE_PREFIXES) and entry.is_dir():
                    if entry.stat().st_uid != os.getuid():
                        continue  # not written by this account: not ours to judge
                    shutil.rmtree(entry)
                    removed.append(entry)
                elif entry.name.endswith(".dpabak.part") and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed.append(entry)
            except OSError:
                continue
    return removed


def pause_for_kill_test(point: str) -> None:
    """Tests only: stop at ``point`` so a kill test can SIGKILL the process exactly there.

    When ``DPA_TEST_PAUSE_AT`` names ``point``, write the file ``DPA_TEST_PAUSE_MARKER`` and
    wait (forever) for the kill. Unset in every deployment; costs one environment lookup.
    """
    if os.environ.get("DPA_TEST_PAUSE_AT") != point:
        return
    marker = os.environ.get("DPA_TEST_PAUSE_MARKER", "")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    while True:  # pragma: no cover - ended by the test's SIGKILL
        time.sleep(1)


# --- keys ----------------------------------------------------------------------------------


def generate_key() -> str:
    """A new backup key: 32 random bytes, URL-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_key(raw: str) -> bytes:
    """The 32 key bytes of ``DPA_BACKUP_KEY``; ``BackupError`` when missing or malformed."""
    raw = (raw or "").strip()
    if not raw:
        raise BackupError(
            "DPA_BACKUP_KEY is not set: refusing to write or read a backup without a key "
            "(make one with `dpa-panel backup --generate-key` and keep it away from the backups)"
        )
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, TypeError) as exc:
        raise BackupError("DPA_BACKUP_KEY is not URL-safe base64") from exc
    if len(key) != 32:
        raise BackupError(
            f"DPA_BACKUP_KEY must decode to 32 bytes (got {len(key)}); "
            "use `dpa-panel backup --generate-key`"
        )
    return key


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key (stored in the header; reveals nothing)."""
    return _hkdf(key, b"", _KEY_ID_INFO)[:8].hex()


# --- framing -------------------------------------------------------------------------------


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise BackupError("backup too large for one file (2^32 chunks)")
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def _header_bytes(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _aad(header_raw: bytes) -> bytes:
    return hashlib.sha256(MAGIC + header_raw).digest()


def encrypt_stream(source: BinaryIO, out: BinaryIO, key: bytes, header: dict) -> None:
    """Write the magic, ``header`` (plus salt, nonce prefix, key id) and ``source`` encrypted."""
    salt = secrets.token_bytes(16)
    prefix = secrets.token_bytes(7)
    header = {
        **header,
        "format": FORMAT,
        "cipher": "AES-256-GCM/HKDF-SHA256/STREAM",
        "chunk_size": CHUNK,
        "salt": salt.hex(),
        "nonce_prefix": prefix.hex(),
        "key_id": key_id(key),
    }
    raw = _header_bytes(header)
    out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
    aead = AESGCM(_hkdf(key, salt, _FILE_KEY_INFO))
    aad = _aad(raw)
    counter = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        last = not following
        sealed = aead.encrypt(_nonce(prefix, counter, last), chunk, aad)
        out.write(struct.pack(">I", len(sealed)) + sealed)
        if counter == 0:
            out.flush()
            pause_for_kill_test("backup.encrypting")
        if last:
            return
        counter += 1
        chunk = following


def _read_exact(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise BackupError("backup file is truncated or damaged")
    return data


def _read_header_raw(src: BinaryIO) -> tuple[dict, bytes]:
    if src.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a DPA Panel backup file (unknown format)")
    (length,) = struct.unpack(">I", _read_exact(src, 4))
    if length > MAX_HEADER:
        raise BackupError("backup file header is damaged")
    raw = _read_exact(src, length)
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise BackupError("backup file header is damaged") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("not a DPA Panel backup file (unknown format version)")
    return header, raw


def read_header(path: Path) -> dict:
    """The public header of a backup file (not yet authenticated: ``verify_file`` does)."""
    with open(path, "rb") as src:
        return _read_header_raw(src)[0]


def decrypt_chunks(src: BinaryIO, key: bytes) -> Iterator[bytes]:
    """Yield the plaintext chunks of an open backup file, authenticating each one.

    Raises ``BackupError`` for a wrong key, an edited header or chunk, reordered chunks or a
    truncated file (the last chunk carries a flag, so a file cut at a chunk boundary fails too).
    """
    header, raw = _read_header_raw(src)
    if header.get("key_id") != key_id(key):
        raise BackupError("wrong backup key: this file was encrypted with a different key")
    try:
        salt = bytes.fromhex(header["salt"])
        prefix = bytes.fromhex(header["nonce_prefix"])
    except (KeyError, ValueError) as exc:
        raise BackupError("backup file header is damaged") from exc
    if len(prefix) != 7:
        raise BackupError("backup file header is damaged")
    aead = AESGCM(_hkdf(key, salt, _FILE_KEY_INFO))
    aad = _aad(raw)
    counter = 0
    while True:
        size_raw = src.read(4)
        if len(size_raw) != 4:
            raise BackupError("backup file is truncated (its last chunk is missing)")
        (size,) = struct.unpack(">I", size_raw)
        if size < _TAG or size > CHUNK + _TAG:
            raise BackupError("backup file is damaged (bad chunk length)")
        sealed = _read_exact(src, size)
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, last), sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise BackupError("backup file failed authentication (it was modified or damaged)")
        yield plain
        if last:
            if src.read(1):
                raise BackupError("backup file is damaged (data after the last chunk)")
            return
        counter += 1


def verify_file(path: Path, key: bytes) -> dict:
    """Authenticate every chunk of ``path`` (decrypting to nowhere); return the header."""
    with open(path, "rb") as src:
        for _chunk in decrypt_chunks(src, key):
            pass
    return read_header(path)


# --- database facts --------------------------------------------------------------------------


def engine_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("cannot back up an in-memory SQLite database")
    return Path(database)


def table_names(conn: Connection) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def row_counts(conn: Connection) -> dict[str, int]:
    """``{table: rows}`` for every table of the default schema."""
    preparer = conn.dialect.identifier_preparer
    return {
        name: int(conn.execute(text(f"SELECT count(*) FROM {preparer.quote(name)}")).scalar_one())
        for name in table_names(conn)
    }


def chain_head(conn: Connection) -> dict | None:
    """The audit chain head row (newest hash, its event id, the event count) or None."""
    if "audit_chain_head" not in inspect(conn).get_table_names():
        return None
    row = conn.execute(
        text("SELECT last_hash, last_event_id, event_count FROM audit_chain_head WHERE id = 1")
    ).first()
    if row is None:
        return None
    return {"last_hash": row[0], "last_event_id": row[1], "event_count": int(row[2])}


def alembic_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _facts(conn: Connection, kind: str) -> dict:
    return {
        "engine": kind,
        "alembic_revision": alembic_revision(conn),
        "audit_chain_head": chain_head(conn),
        "row_counts": row_counts(conn),
    }


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dpa-panel")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


# --- PostgreSQL tools ----------------------------------------------------------------------


def _pg_conninfo(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment with ``PGPASSWORD`` set."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    """Absolute path of ``pg_dump``/``pg_restore`` (``DPA_PG_BINDIR`` first, then PATH)."""
    bindir = os.environ.get("DPA_PG_BINDIR", "").strip()
    if bindir and (Path(bindir) / name).exists():
        return str(Path(bindir) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools matching the server's major "
            "version (Debian: postgresql-client-15) or set DPA_PG_BINDIR"
        )
    return found


def _stderr_tail(proc_stderr: bytes) -> str:
    lines = proc_stderr.decode("utf-8", "replace").strip().splitlines()
    return " / ".join(lines[-3:]) if lines else "no message"


# --- backup ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    header: dict = field(default_factory=dict)
    #: The signed audit checkpoint written after the backup, or None (then ``checkpoint_note``
    #: says why: no ``DPA_AUDIT_KEY``, or a chain that does not extend the last checkpoint).
    checkpoint: dict | None = None
    checkpoint_note: str = ""


def default_backup_path(now: datetime | None = None) -> Path:
    now = now or datetime.now(UTC)
    return settings.backup_dir() / f"dpa-panel-{now.strftime('%Y%m%dT%H%M%SZ')}.dpabak"


def _resolve_out(out: Path | None, now: datetime) -> Path:
    if out is None:
        return default_backup_path(now)
    if out.is_dir():
        return out / default_backup_path(now).name
    return out


def _write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``target.part`` (mode 0600), fsync, rename: a crash never leaves a half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _memory_engine(conn: sqlite3.Connection):
    """A SQLAlchemy engine over one open (in-memory) SQLite connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    return create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)


def _memory_db() -> sqlite3.Connection:
    """An in-memory SQLite database whose temporary tables and sorts stay in memory too."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _backup_sqlite(url: str, key: bytes, target: Path, base: dict) -> dict:
    """Copy the database into memory (online backup API), then encrypt that image.

    No plaintext copy is ever written to a file, so a killed backup leaves nothing readable
    behind (only an encrypted ``.part`` file). The cost is memory: about three times the
    database size at the peak (the in-memory copy, its page overhead and its serialised image;
    measured 1.6 GB for a 519 MB file). SQLite is the engine of
    development and small installations; production runs PostgreSQL, whose dump is streamed.
    """
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"SQLite database file not found: {source_path}")
    memory = _memory_db()
    try:
        src = sqlite3.connect(str(source_path), timeout=30)
        try:
            src.backup(memory)  # online backup API: a consistent copy while the app keeps writing
        finally:
            src.close()
        eng = _memory_engine(memory)
        with eng.connect() as conn:
            header = {**base, **_facts(conn, "sqlite")}
        image = memory.serialize()
    finally:
        memory.close()  # the engine's one (static) connection is this one
    pause_for_kill_test("backup.copied")
    _write_atomically(target, lambda fh: encrypt_stream(io.BytesIO(image), fh, key, header))
    return header


def _backup_postgresql(url: str, key: bytes, target: Path, base: dict) -> dict:
    pg_dump = pg_tool("pg_dump")
    from dpa_panel.db import make_engine

    eng = make_engine(url)
    try:
        with eng.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as conn:
            # The header and the dump read the same snapshot: pg_dump joins this transaction's
            # exported snapshot, so the recorded counts and chain head match the dump exactly.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            header = {**base, **_facts(conn, "postgresql")}
            header["server_version"] = conn.execute(text("SHOW server_version")).scalar_one()
            conninfo, env = _pg_conninfo(url)
            proc = subprocess.Popen(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--dbname={conninfo}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            pause_for_kill_test("backup.copied")
            stderr = b""
            try:
                assert proc.stdout is not None
                _write_atomically(target, lambda fh: encrypt_stream(proc.stdout, fh, key, header))
            finally:
                proc.stdout.close()
                stderr = proc.stderr.read() if proc.stderr else b""
                code = proc.wait()
            if code != 0:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                raise BackupError(f"pg_dump failed (exit {code}): {_stderr_tail(stderr)}")
            conn.rollback()
    finally:
        eng.dispose()
    return header


def create_backup(
    *, url: str | None = None, out: Path | None = None, key: bytes | None = None,
    record: bool = True,
) -> BackupResult:  # fmt: skip
    """Back up the configured database to an encrypted file and record ``backup.created``.

    ``key`` defaults to ``DPA_BACKUP_KEY`` (refused when missing); ``out`` to a timestamped
    file in ``DPA_BACKUP_DIR`` (a directory gets that name inside it).
    """
    url = url or settings.database_url()
    key = key if key is not None else parse_key(settings.backup_key())
    now = datetime.now(UTC)
    target = _resolve_out(out, now)
    remove_stale_working_copies((target.parent,))
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = engine_kind(url)
    base = {
        "created_at": now.isoformat(timespec="seconds"),
        "app_version": _app_version(),
        "data_location": settings.data_location(),
    }
    if kind == "sqlite":
        header = _backup_sqlite(url, key, target, base)
    else:
        header = _backup_postgresql(url, key, target, base)
    size = target.stat().st_size
    digest = _file_sha256(target)
    result = BackupResult(target, size, digest, header)
    if record:
        record_backup(url, target, size, digest, header)
        result.checkpoint, result.checkpoint_note = checkpoint_after_backup(url)
    return result


def checkpoint_after_backup(url: str) -> tuple[dict | None, str]:
    """Sign the chain head (which now ends with ``backup.created``) into the checkpoint file.

    A backup is never refused for want of a checkpoint; the reason is returned instead and
    printed by the CLI (``dpa-panel doctor`` fails on a missing key).
    """
    from dpa_panel.db import make_engine, session_scope
    from dpa_panel.services import audit_checkpoints

    if not settings.audit_key():
        return None, "DPA_AUDIT_KEY is not set, no audit checkpoint written"
    eng = make_engine(url)
    try:
        with session_scope(eng) as session:
            return audit_checkpoints.write_checkpoint(session), ""
    except audit_checkpoints.CheckpointError as err:
        return None, str(err)
    finally:
        eng.dispose()


def record_backup(url: str, path: Path, size: int, digest: str, header: dict) -> None:
    """Append ``backup.created`` (file name, size, digest; no personal data) to the trail."""
    from dpa_panel.db import make_engine, session_scope
    from dpa_panel.services import audit

    eng = make_engine(url)
    try:
        with session_scope(eng) as session:
            audit.record(
                session,
                audit.Actor.system(),
                BACKUP_ACTION,
                "backup",
                path.name,
                details={
                    "file": str(path),
                    "size": size,
                    "sha256": digest,
                    "engine": header.get("engine"),
                    "alembic_revision": header.get("alembic_revision"),
                    "created_at": header.get("created_at"),
                    "via": "cli",
                },
            )
    finally:
        eng.dispose()


def last_backup(session) -> tuple[datetime, dict] | None:
    """Time and details of the newest ``backup.created`` event, or None."""
    from sqlalchemy import select

    from dpa_panel.models import AuditEvent

    row = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details)
        .where(AuditEvent.action == BACKUP_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    when = row[0] if row[0].tzinfo else row[0].replace(tzinfo=UTC)
    return when, json.loads(row[1] or "{}")


# --- restore target ---------------------------------------------------------------------


def database_is_empty(url: str) -> bool:
    """True when the target has no tables (a fresh database or a missing SQLite file)."""
    if engine_kind(url) == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    from dpa_panel.db import make_engine

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return not table_names(conn)
    finally:
        eng.dispose()
