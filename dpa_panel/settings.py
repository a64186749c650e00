"""Runtime settings read from the environment.

One place for every knob, so that deployment documentation can list them and tests can
override them. Values are read at call time (not import time) so tests can monkeypatch env.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "dpa_panel.db"

#: Time zone in which every date is shown to users (timestamps are stored in UTC).
DISPLAY_TZ = "Asia/Almaty"


def database_url() -> str:
    """The SQLAlchemy URL: ``DPA_DATABASE_URL`` or the embedded SQLite file."""
    url = os.environ.get("DPA_DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgresql://"):
            # Pin the driver we ship (psycopg 3) instead of SQLAlchemy's psycopg2 default.
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def session_idle_minutes() -> int:
    """Idle expiry of a login session (issue 4 default: 30 minutes)."""
    return _int_env("DPA_SESSION_IDLE_MINUTES", 30)


def session_absolute_hours() -> int:
    """Absolute lifetime of a login session (issue 4 default: 12 hours)."""
    return _int_env("DPA_SESSION_ABSOLUTE_HOURS", 12)


def throttle_pair_free() -> int:
    """Failed logins one source address may make for one account before each further attempt
    from that address must wait (exponential back-off; default 3)."""
    return _int_env("DPA_THROTTLE_PAIR_FREE", 3)


def throttle_address_free() -> int:
    """Failed logins one source address may make, over all accounts, before it must wait
    (default 20: an office behind one NAT address may share it)."""
    return _int_env("DPA_THROTTLE_ADDRESS_FREE", 20)


def throttle_account_free() -> int:
    """Failed logins for one account, over all addresses, before addresses that never logged
    in to it successfully must wait (default 100: NIST SP 800-63B §5.2.2 "no more than 100
    consecutive failed attempts")."""
    return _int_env("DPA_THROTTLE_ACCOUNT_FREE", 100)


def throttle_max_seconds() -> int:
    """The longest wait the back-off imposes (default 900 s = 15 minutes)."""
    return _int_env("DPA_THROTTLE_MAX_SECONDS", 900)


def cookie_secure() -> bool:
    """Mark the session cookie ``Secure`` (on by default; ``make run`` on http://localhost
    turns it off, because browsers drop Secure cookies on plain-http non-localhost origins)."""
    return os.environ.get("DPA_COOKIE_SECURE", "1").strip() not in ("0", "false", "no")


def apply_rate_limit_per_hour() -> int:
    """Applications (submitted or refused as duplicates) one client IP may send per hour
    before the public form refuses further ones (default 5)."""
    return _int_env("DPA_APPLY_RATE_LIMIT", 5)


# --- production path (issue 10) --------------------------------------------------------------


def public_url() -> str:
    """The deployment's public origin, e.g. ``https://panel.example.kz`` (``DPA_PUBLIC_URL``).

    Production allows websockets only from this origin; empty means development (any origin).
    """
    return os.environ.get("DPA_PUBLIC_URL", "").strip().rstrip("/")


def workers() -> int:
    """Backend worker processes for ``make prod`` (``DPA_WORKERS``, default 2)."""
    return max(1, _int_env("DPA_WORKERS", 2))


def redis_url() -> str:
    """Redis shared by the workers (Reflex's own ``REFLEX_REDIS_URL``); empty = none."""
    return os.environ.get("REFLEX_REDIS_URL", "").strip()


def secret_key() -> str:
    """``DPA_SECRET_KEY``: required in production (see ``docs/deploy.md`` for its uses)."""
    return os.environ.get("DPA_SECRET_KEY", "").strip()


def backup_key() -> str:
    """``DPA_BACKUP_KEY``: the key backups are encrypted with (never stored beside them)."""
    return os.environ.get("DPA_BACKUP_KEY", "").strip()


def backup_dir() -> Path:
    """Where ``dpa-panel backup`` writes (``DPA_BACKUP_DIR``, default ``./backups``)."""
    raw = os.environ.get("DPA_BACKUP_DIR", "").strip()
    return Path(raw) if raw else PROJECT_ROOT / "backups"


def data_location() -> str:
    """The declared place where the database and backups live (policy clause 4.3:
    stored in the Republic of Kazakhstan); shown on the admin settings page and in the doctor."""
    return os.environ.get("DPA_DATA_LOCATION", "").strip()


# --- audit checkpoints (issue 15) --------------------------------------------------------------


def audit_key() -> str:
    """``DPA_AUDIT_KEY``: the Ed25519 private key that signs audit checkpoints (URL-safe base64
    of 32 bytes, made by ``dpa-panel audit checkpoint --generate-key``). Only the checkpoint
    and backup jobs need it; it is never stored in the database."""
    return os.environ.get("DPA_AUDIT_KEY", "").strip()


def audit_public_key() -> str:
    """``DPA_AUDIT_PUBLIC_KEY``: the matching public key; enough to *verify* checkpoints (an
    auditor's machine needs nothing else). Empty: derived from ``DPA_AUDIT_KEY``."""
    return os.environ.get("DPA_AUDIT_PUBLIC_KEY", "").strip()


def audit_checkpoint_path() -> Path:
    """``DPA_AUDIT_CHECKPOINT_PATH``: the append-only file of signed checkpoints, one JSON line
    each, kept outside the database (default ``./audit-checkpoints.jsonl``; deployment:
    ``/var/lib/dpa-panel/audit/checkpoints.jsonl``, see docs/deploy.md)."""
    raw = os.environ.get("DPA_AUDIT_CHECKPOINT_PATH", "").strip()
    return Path(raw) if raw else PROJECT_ROOT / "audit-checkpoints.jsonl"


# --- outgoing e-mail (issue 16) --------------------------------------------------------------


def smtp_url() -> str:
    """``DPA_SMTP_URL``: ``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://...:465``
    (see ``services.mail.parse_smtp_url``); empty = mail stays in the outbox."""
    return os.environ.get("DPA_SMTP_URL", "").strip()


def mail_from() -> str:
    """``DPA_MAIL_FROM``: the sender address (a ``from=`` in the SMTP URL wins)."""
    return os.environ.get("DPA_MAIL_FROM", "").strip()


#: Where the default of ``breach_notify_working_days`` comes from (issue 17, docs/decisions.md).
BREACH_NOTIFY_SOURCE = (
    "Law of the RK No. 94-V \"On personal data and their protection\" Art. 20 as amended by "
    "Law No. 44-VIII of 11.12.2023 (in force 01.07.2024): the operator informs the authorised "
    "body of a breach within one working day of its detection (as reported by secondary sources)"
)


def breach_notify_working_days() -> int:
    """Working days after detection within which the authorised body must be notified of a
    personal-data breach (``DPA_BREACH_NOTIFY_WORKING_DAYS``, default 1; see
    ``BREACH_NOTIFY_SOURCE``)."""
    return max(0, _int_env("DPA_BREACH_NOTIFY_WORKING_DAYS", 1))
