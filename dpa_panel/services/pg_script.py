"""Run ``pg_restore``'s SQL script on a connection the caller controls (issue 15, hole 8).

``pg_restore --single-transaction --dbname=...`` commits by itself when its script ends, before
the panel has compared a single row count: a restore killed between that commit and the checks
left an unchecked database without its ``backup.restored`` event. Here ``pg_restore --file=-``
only *writes* the script (it never connects) and this module executes it on the panel's own
psycopg connection, inside the caller's open transaction, so the caller can run its checks and
append its audit event in that same transaction and commit only then.

The script is the plain format ``pg_restore`` emits: SQL statements, ``COPY ... FROM stdin;``
blocks whose rows end at a ``\\.`` line, and the ``\\restrict``/``\\unrestrict`` lines that
PostgreSQL 13.22/14.19/15.14/16.10/17.6 and later add (CVE-2025-8714; they guard psql only).
Any other psql meta-command is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Bytes of COPY rows handed to the server at once.
COPY_BATCH = 1 << 20
_IGNORED_META = (b"\\restrict ", b"\\unrestrict ")


class ScriptError(Exception):
    """The script is not one this module knows how to run (the restore is refused)."""


def _is_copy_from_stdin(line: bytes) -> bool:
    return line.startswith(b"COPY ") and line.rstrip().endswith(b" FROM stdin;")


def run_script(lines: Iterable[bytes], dbapi_conn) -> int:
    """Execute every statement and COPY block of ``lines`` on ``dbapi_conn`` (psycopg 3).

    Nothing is committed here. Returns the number of COPY blocks loaded.
    """
    cursor = dbapi_conn.cursor()
    pending: list[bytes] = []
    copies = 0

    def flush() -> None:
        statements = b"".join(pending).decode("utf-8")
        pending.clear()
        if statements.strip():
            # No parameters: psycopg sends the text as one simple query, several statements.
            cursor.execute(statements)

    stream = iter(lines)
    for line in stream:
        if line.startswith(b"\\"):
            if line.startswith(_IGNORED_META):
                continue
            raise ScriptError(f"unexpected psql meta-command in the restore script: {line[:40]!r}")
        if not _is_copy_from_stdin(line):
            pending.append(line)
            continue
        flush()
        statement = line.decode("utf-8").rstrip().removesuffix(";")
        with cursor.copy(statement) as copy:
            batch = bytearray()
            for row in stream:
                if row == b"\\.\n":
                    break
                batch += row
                if len(batch) >= COPY_BATCH:
                    copy.write(bytes(batch))
                    batch.clear()
            else:
                raise ScriptError("the restore script ends inside a COPY block (truncated)")
            if batch:
                copy.write(bytes(batch))
        copies += 1
    flush()
    return copies
