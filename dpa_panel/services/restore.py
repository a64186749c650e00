"""Restore an encrypted backup, checked before it becomes visible (issues 10 and 15).

The file is authenticated whole first (``backup.verify_file``), so a wrong key or a modified
file fails before the target is touched. The restored rows, Alembic revision and audit chain
are then compared with the file's header and the chain is verified *before* the restore
commits, together with its ``backup.restored`` event:

* PostgreSQL: ``pg_restore --file=-`` turns the archive into SQL, which runs with the checks
  and the event in ONE transaction on the panel's connection (``services/pg_script.py``).
* SQLite: the image is decrypted into an in-memory database, checked and recorded there, then
  copied into the target with the online backup API, which SQLite applies atomically.

A failed check rolls everything back (``RestoreResult.ok`` is False); a SIGKILL at any point
leaves the target as it was, and no plaintext copy is ever written to a file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from dpa_panel import settings
from dpa_panel.services.backup import (
    RESTORE_ACTION,
    BackupError,
    _file_sha256,
    _memory_db,
    _memory_engine,
    _sqlite_path,
    _stderr_tail,
    alembic_revision,
    chain_head,
    database_is_empty,
    decrypt_chunks,
    engine_kind,
    parse_key,
    pause_for_kill_test,
    pg_tool,
    remove_stale_working_copies,
    row_counts,
    verify_file,
)


@dataclass
class RestoreResult:
    header: dict
    row_counts: dict[str, int]
    chain_head: dict | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _sqlite_image(src_path: Path, key: bytes) -> bytearray:
    """The decrypted SQLite image of a backup file, in memory, marked as rollback-journal.

    Bytes 18 and 19 of a SQLite header only say whether the file was in WAL mode; an in-memory
    database cannot open a WAL image, and the restored file gets the target's own mode anyway.
    """
    image = bytearray()
    with open(src_path, "rb") as src:
        for chunk in decrypt_chunks(src, key):
            image += chunk
    if len(image) >= 100 and image[:16] == b"SQLite format 3\x00":
        image[18] = image[19] = 1
    return image  # handed to ``deserialize`` as a buffer: no extra copy


def _restore_sqlite(src_path: Path, key: bytes, url: str, check) -> RestoreResult:
    """Decrypt into memory, check and record there, then copy into the target in one step.

    The target changes only in the final online-backup copy, which SQLite applies atomically
    (its rollback journal undoes a half-written copy at the next open), and the copy already
    contains the ``backup.restored`` event: a kill leaves the target untouched or restored and
    checked, and never leaves a plaintext file behind.
    """
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    memory = _memory_db()
    try:
        try:
            memory.deserialize(_sqlite_image(src_path, key))
        except sqlite3.DatabaseError as exc:
            raise BackupError("the SQLite copy inside the backup cannot be opened") from exc
        if memory.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the SQLite copy inside the backup failed its integrity check")
        pause_for_kill_test("restore.loaded")
        eng = _memory_engine(memory)
        with eng.connect() as conn:
            result = check(conn)
            if result.ok:
                conn.commit()
        if not result.ok:
            return result
        pause_for_kill_test("restore.checked")
        dest = sqlite3.connect(str(target), timeout=30)
        try:
            memory.backup(dest)
        finally:
            dest.close()
        return result
    finally:
        memory.close()


def _restore_postgresql(
    src_path: Path, key: bytes, url: str, replace: bool, check
) -> RestoreResult:
    """Run the dump's SQL and the checks in ONE transaction that commits only when they pass.

    ``pg_restore`` turns the decrypted archive into its SQL script (it never connects); the
    script, the row-count and chain checks and the ``backup.restored`` event all run on one
    connection and one transaction (``services/pg_script.py``). A kill at any point drops the
    connection, and PostgreSQL rolls the whole restore back: the target is untouched.
    """
    import psycopg

    from dpa_panel.db import make_engine
    from dpa_panel.services.pg_script import ScriptError, run_script

    pg_restore = pg_tool("pg_restore")
    args = [pg_restore, "--no-owner", "--no-privileges", "--file=-"]
    if replace:
        args[1:1] = ["--clean", "--if-exists"]
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    failures: list[BaseException] = []

    def feed() -> None:
        try:
            with open(src_path, "rb") as src:
                for chunk in decrypt_chunks(src, key):
                    proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # pg_restore stopped early; its exit code and message say why
        except BaseException as exc:  # authentication failed mid-stream: stop pg_restore
            failures.append(exc)
            proc.kill()
        finally:
            with contextlib.suppress(BrokenPipeError, OSError):
                proc.stdin.close()

    feeder = threading.Thread(target=feed, name="dpa-restore-feed", daemon=True)
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")  # begin the one transaction
            feeder.start()
            try:
                run_script(proc.stdout, conn.connection.driver_connection)
            except (ScriptError, psycopg.Error) as exc:
                proc.kill()
                if failures:  # the feeder's reason (e.g. a damaged chunk) comes first
                    raise failures[0] from exc
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BackupError(f"the restore failed and was rolled back: {first}") from exc
            except BaseException:
                proc.kill()
                raise
            finally:
                feeder.join()
                stderr = proc.stderr.read()
                code = proc.wait()
            if failures:
                raise failures[0]
            if code != 0:
                raise BackupError(f"pg_restore failed (exit {code}): {_stderr_tail(stderr)}")
            conn.exec_driver_sql("RESET search_path")  # the script emptied it
            pause_for_kill_test("restore.loaded")
            result = check(conn)
            if not result.ok:
                conn.rollback()
                return result
            pause_for_kill_test("restore.checked")
            conn.commit()
            from dpa_panel.services import audit

            audit.link(conn)  # issue 19: chain the backup.restored event (PostgreSQL)
            return result
    finally:
        eng.dispose()


def check_restored(conn: Connection, header: dict, path: Path, *, record: bool) -> RestoreResult:
    """Compare the restored rows with the header, verify the chain, append ``backup.restored``.

    Runs inside the restore's own transaction; the caller commits only when ``ok``.
    """
    from sqlmodel import Session

    from dpa_panel.services import audit

    counts = row_counts(conn)
    head = chain_head(conn)
    problems = []
    expected = header.get("row_counts") or {}
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            problems.append(
                f"table {table}: {counts.get(table)} rows, backup header says {expected.get(table)}"
            )
    if head != header.get("audit_chain_head"):
        problems.append("audit chain head differs from the backup header")
    if alembic_revision(conn) != header.get("alembic_revision"):
        problems.append("Alembic revision differs from the backup header")
    with Session(bind=conn) as session:
        verdict = audit.verify_chain(session)
        if not verdict.ok:
            problems.append(verdict.describe())
        if record and not problems and head is not None:
            audit.record(
                session,
                audit.Actor.system(),
                RESTORE_ACTION,
                "backup",
                path.name,
                details={
                    "file": path.name,
                    "sha256": _file_sha256(path),
                    "backup_created_at": header.get("created_at"),
                    "via": "cli",
                },
            )
            session.flush()
    return RestoreResult(header, counts, head, problems)


def restore_backup(
    path: Path, *, url: str | None = None, key: bytes | None = None, replace: bool = False,
    record: bool = True,
) -> RestoreResult:  # fmt: skip
    """Restore ``path`` into the configured database, checked before it becomes visible.

    Refuses a non-empty target unless ``replace`` (PostgreSQL then drops and recreates the
    dumped objects inside the restore's transaction; SQLite's content is replaced). The whole
    file is authenticated first, so a wrong key or a modified file fails before the target is
    touched. The row counts, Alembic revision and audit chain head are compared with the
    header and the audit chain is verified *before* the restore commits, together with the
    ``backup.restored`` event: when a check fails (``result.ok`` is False) or the process is
    killed, the target is left as it was.
    """
    remove_stale_working_copies()
    url = url or settings.database_url()
    key = key if key is not None else parse_key(settings.backup_key())
    header = verify_file(path, key)
    kind = engine_kind(url)
    if header.get("engine") != kind:
        raise BackupError(
            f"this backup is of a {header.get('engine')} database; the target is {kind} "
            "(restore into the same engine, then migrate data if needed)"
        )
    if not replace and not database_is_empty(url):
        raise BackupError(
            "the target database is not empty: restore into a new empty database, "
            "or pass --yes to overwrite it"
        )

    def check(conn: Connection) -> RestoreResult:
        return check_restored(conn, header, path, record=record)

    if kind == "sqlite":
        return _restore_sqlite(path, key, url, check)
    return _restore_postgresql(path, key, url, replace, check)
