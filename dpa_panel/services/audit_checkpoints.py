"""Signed checkpoints of the audit chain head, kept outside the database (issue 15, hole 9).

The hash chain (``services/audit.py``) proves that rows were not edited or removed *unless*
whoever does it can also write the database: such a person can recompute every hash with plain
SHA-256 and the head row, or delete the newest rows and rewrite the head, and the chain still
verifies. A checkpoint closes that gap. It is one JSON line::

    {"v":1,"at":"2026-12-06T00:30:02Z","event_id":81234,"seq":81234,
     "head":"<sha-256 hex of event 81234>","key_id":"<16 hex>","sig":"<Ed25519, base64url>"}

signed with an Ed25519 key that lives in the environment of the checkpoint and backup jobs
(``DPA_AUDIT_KEY``), never in the database, and appended (``O_APPEND``, one ``write``) to a
file outside the database (``DPA_AUDIT_CHECKPOINT_PATH``; the operator can make it
append-only with ``chattr +a``). The commands also print the line, so the system journal keeps
a second copy.

Ed25519 rather than an HMAC: verifying needs only the public key (``DPA_AUDIT_PUBLIC_KEY``),
so an auditor can check the trail without being able to forge a checkpoint.

``verify_checkpoints`` then catches what the chain alone cannot: every signed (event id, head
hash) must still be the hash of that event in the chain (a consistent rewrite changes it), and
the chain must reach the newest checkpoint (a tail deletion with a head rewrite does not). A
line whose signature does not verify is reported as forged. What was appended after the newest
checkpoint is protected only by the chain; checkpoints are written at least daily (systemd
timer ``dpa-panel-audit-checkpoint.timer``) and after every backup.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dpa_panel import settings
from dpa_panel.models import AuditChainHead, AuditEvent

VERSION = 1
_DOMAIN = b"dpa-panel audit checkpoint v1\n"
_LOOKUP_BATCH = 500


class CheckpointError(Exception):
    """A checkpoint refused (no key, a chain that does not extend the last checkpoint)."""


# --- keys --------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_key() -> tuple[str, str]:
    """A new key pair as ``(DPA_AUDIT_KEY, DPA_AUDIT_PUBLIC_KEY)`` texts."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return _b64(seed), _b64(_raw_public(private.public_key()))


def parse_private_key(text: str) -> Ed25519PrivateKey:
    text = (text or "").strip()
    if not text:
        raise CheckpointError(
            "DPA_AUDIT_KEY is not set: make a key pair with "
            "`dpa-panel audit checkpoint --generate-key` (keep the public key with the auditor)"
        )
    try:
        seed = _unb64(text)
    except (ValueError, TypeError) as exc:
        raise CheckpointError("DPA_AUDIT_KEY is not URL-safe base64") from exc
    if len(seed) != 32:
        raise CheckpointError(f"DPA_AUDIT_KEY must decode to 32 bytes (got {len(seed)})")
    return Ed25519PrivateKey.from_private_bytes(seed)


def parse_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = _unb64(text.strip())
        if len(raw) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise CheckpointError("DPA_AUDIT_PUBLIC_KEY is not a 32-byte URL-safe base64 key") from exc


def signing_key() -> Ed25519PrivateKey:
    """The configured signing key; ``CheckpointError`` when missing or malformed."""
    return parse_private_key(settings.audit_key())


def verifying_key() -> Ed25519PublicKey:
    """``DPA_AUDIT_PUBLIC_KEY``, else the public half of ``DPA_AUDIT_KEY``."""
    if settings.audit_public_key():
        return parse_public_key(settings.audit_public_key())
    return signing_key().public_key()


def key_id(public: Ed25519PublicKey) -> str:
    """A short public fingerprint of the key, written into every checkpoint."""
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


# --- lines -------------------------------------------------------------------------------------

_SIGNED_FIELDS = ("v", "at", "event_id", "seq", "head", "key_id")


def _signed_bytes(record: dict) -> bytes:
    body = {name: record[name] for name in _SIGNED_FIELDS}
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_checkpoint(
    private: Ed25519PrivateKey, *, event_id: int | None, seq: int, head: str, at: datetime
) -> dict:
    record = {
        "v": VERSION,
        "at": at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "event_id": event_id,
        "seq": seq,
        "head": head,
        "key_id": key_id(private.public_key()),
    }
    record["sig"] = _b64(private.sign(_signed_bytes(record)))
    return record


def signature_ok(record: dict, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(_unb64(str(record["sig"])), _signed_bytes(record))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return record.get("v") == VERSION


def append_line(path: Path, record: dict) -> str:
    """Append ``record`` as one JSON line with a single ``O_APPEND`` write, then fsync."""
    line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return line


@dataclass
class Line:
    number: int
    record: dict | None
    problem: str = ""


def read_lines(path: Path) -> list[Line]:
    """Every line of the checkpoint file, parsed (a line that is not JSON keeps its problem)."""
    out: list[Line] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError
            except ValueError:
                out.append(Line(number, None, "not a checkpoint (unreadable JSON)"))
                continue
            out.append(Line(number, record))
    return out


# --- writing ---------------------------------------------------------------------------------


def _head(session) -> AuditChainHead:
    head = session.get(AuditChainHead, 1)
    if head is None:
        raise CheckpointError("the audit chain head row is missing")
    return head


def _newest_valid(path: Path, public: Ed25519PublicKey) -> dict | None:
    """The checkpoint with the highest ``seq`` whose signature verifies (forged lines are
    skipped here; ``verify_checkpoints`` reports them). Signatures are checked from the highest
    ``seq`` down, so usually only one is."""
    if not path.exists():
        return None
    candidates = []
    for line in read_lines(path):
        try:
            candidates.append((int(line.record["seq"]), line.number, line.record))
        except (TypeError, KeyError, ValueError):
            continue
    for _seq, _number, record in sorted(candidates, key=lambda c: (c[0], c[1]), reverse=True):
        if signature_ok(record, public):
            return record
    return None


def _extends(session, previous: dict | None, head: AuditChainHead) -> str:
    """Why the chain does NOT extend ``previous`` up to ``head`` ("" when it does).

    Only the events after the previous checkpoint are walked, so a daily checkpoint reads a
    day's events, not the whole trail; without a previous checkpoint the whole chain is
    verified once.
    """
    from dpa_panel.services import audit

    if previous is None or not previous.get("event_id"):
        verdict = audit.verify_chain(session)
        return "" if verdict.ok else verdict.describe()
    start_id = int(previous["event_id"])
    anchor = session.execute(
        select(AuditEvent.hash).where(AuditEvent.id == start_id)
    ).scalar_one_or_none()
    if anchor != previous["head"]:
        return f"event {start_id} of the last checkpoint is missing or its hash changed"
    table = AuditEvent.__table__
    prev_hash, seq, last_id = anchor, int(previous["seq"]), start_id
    # Up to the head as read, not beyond: events appended meanwhile belong to the next one.
    end_id = head.last_event_id or 0
    while True:
        rows = session.execute(
            select(table)
            .where(table.c.id > last_id, table.c.id <= end_id)
            .order_by(table.c.id)
            .limit(5000)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev_hash or audit.event_hash(event) != event.hash:
                return f"the chain is broken at event id {event.id}"
            prev_hash, last_id, seq = event.hash, event.id, seq + 1
    if prev_hash != head.last_hash or seq != head.event_count:
        return "the chain head does not match the events after the last checkpoint"
    return ""


def write_checkpoint(session, *, path: Path | None = None, now: datetime | None = None) -> dict:
    """Sign the current chain head and append it; refused when the chain does not extend the
    newest valid checkpoint (signing a rewritten chain would bless the rewrite)."""
    from dpa_panel.services import audit

    private = signing_key()
    path = path or settings.audit_checkpoint_path()
    bind = session.get_bind()
    if isinstance(bind, Engine):  # PostgreSQL: sign the head with every committed event linked
        audit.link(bind)
    head = _head(session)
    try:
        previous = _newest_valid(path, private.public_key())
    except OSError as err:
        raise CheckpointError(f"cannot read {path}: {err.strerror or err}") from err
    if previous is not None and int(previous["seq"]) > head.event_count:
        raise CheckpointError(
            f"refusing to checkpoint: the chain has {head.event_count} events, fewer than the "
            f"{previous['seq']} of the last checkpoint (events were deleted; after restoring "
            "an older backup, keep this file as the record of what was lost and start a new "
            "one: docs/deploy.md)"
        )
    if problem := _extends(session, previous, head):
        raise CheckpointError(f"refusing to checkpoint: {problem}")
    record = sign_checkpoint(
        private,
        event_id=head.last_event_id or None,
        seq=head.event_count,
        head=head.last_hash,
        at=now or datetime.now(UTC),
    )
    try:
        append_line(path, record)
    except OSError as err:
        raise CheckpointError(f"cannot append to {path}: {err.strerror or err}") from err
    return record


# --- verifying ---------------------------------------------------------------------------------


@dataclass
class CheckpointVerdict:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    newest: dict | None = None
    missing_file: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        if self.problems:
            return f"audit checkpoints FAILED: {self.problems[0]}" + (
                f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            )
        if self.newest is None:
            return "audit checkpoints: none written yet"
        return (
            f"audit checkpoints OK: {self.checked} verified, newest {self.newest['at']} "
            f"(event {self.newest['event_id']}, {self.newest['seq']} events)"
        )


def verify_checkpoints(
    session, *, path: Path | None = None, public: Ed25519PublicKey | None = None
) -> CheckpointVerdict:
    """Check every line's signature and that its (event id, head hash) is still in the chain.

    One indexed lookup per checkpoint (batched), so this adds milliseconds to ``audit verify``,
    not another walk of the chain.
    """
    path = path or settings.audit_checkpoint_path()
    public = public or verifying_key()
    verdict = CheckpointVerdict()
    if not path.exists():
        verdict.missing_file = True
        return verdict
    expected_id = key_id(public)
    valid: list[tuple[int, dict]] = []
    try:
        lines = read_lines(path)
    except OSError as err:
        verdict.problems.append(f"cannot read {path}: {err.strerror or err}")
        return verdict
    for line in lines:
        record = line.record
        if record is None:
            verdict.problems.append(f"line {line.number}: {line.problem}")
        elif record.get("key_id") != expected_id:
            verdict.problems.append(f"line {line.number}: signed by another key (forged?)")
        elif not signature_ok(record, public):
            verdict.problems.append(f"line {line.number}: signature does not verify (forged)")
        else:
            valid.append((line.number, record))
    head = _head(session)
    stored: dict[int, str] = {}
    ids = sorted({int(r["event_id"]) for _, r in valid if r.get("event_id") is not None})
    for start in range(0, len(ids), _LOOKUP_BATCH):
        batch = ids[start : start + _LOOKUP_BATCH]
        stored.update(
            session.execute(
                select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(batch))
            ).all()
        )
    for number, record in valid:
        event_id, seq = record.get("event_id"), int(record["seq"])
        if seq > head.event_count:
            verdict.problems.append(
                f"line {number}: checkpoint at {seq} events, the chain has only "
                f"{head.event_count} (newest events deleted)"
            )
        elif event_id is not None and event_id not in stored:
            verdict.problems.append(
                f"line {number}: event {event_id} is gone from the chain (events deleted)"
            )
        elif event_id is not None and stored[event_id] != record["head"]:
            verdict.problems.append(
                f"line {number}: event {event_id} no longer has the signed hash (chain rewritten)"
            )
        verdict.checked += 1
        if verdict.newest is None or seq >= int(verdict.newest["seq"]):
            verdict.newest = record
    return verdict


def newest_time(verdict: CheckpointVerdict) -> datetime | None:
    if verdict.newest is None:
        return None
    return datetime.fromisoformat(str(verdict.newest["at"]).replace("Z", "+00:00"))
