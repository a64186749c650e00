"""``dpa-panel doctor``: is this a sound production deployment?

Every check returns PASS, WARN or FAIL with a one-line reason; the command exits non-zero on
any FAIL. The doctor always judges a *production* deployment, so the embedded SQLite database
is a FAIL here even though it is fine for development. Nothing it prints is personal data.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dpa_panel import settings

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
MIN_SECRET_CHARS = 32
DEFAULT_BACKUP_MAX_HOURS = 26.0
DEFAULT_SWEEP_MAX_HOURS = 48.0
#: The checkpoint timer runs daily; two hours of slack before the doctor warns.
DEFAULT_CHECKPOINT_MAX_HOURS = 26.0
#: The audit action ``dpa-panel retention sweep`` appends after each real run.
SWEEP_ACTION = "retention.sweep_ran"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str
    #: For the settings page: the detail as a catalog key (``settings.detail.<key>``) and its
    #: parameters, so the page reads in the reader's language; "" = not shown there.
    key: str = ""
    params: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        return f"{self.status:<5} {self.name:<22} {self.detail}"


def _age_text(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h ago" if hours < 72 else f"{hours / 24:.1f} days ago"


# --- configuration checks ------------------------------------------------------------------


def check_database_engine(url: str) -> Check:
    if url.startswith("sqlite"):
        return Check(
            FAIL, "database engine", "SQLite: set DPA_DATABASE_URL to the PostgreSQL database",
            "db_sqlite",
        )
    return Check(PASS, "database engine", "PostgreSQL", "db_postgres")


def check_secret() -> Check:
    secret = settings.secret_key()
    if not secret:
        return Check(FAIL, "secret key", "DPA_SECRET_KEY is not set", "secret_unset")
    if len(secret) < MIN_SECRET_CHARS:
        return Check(
            FAIL,
            "secret key",
            f"DPA_SECRET_KEY has {len(secret)} characters (< {MIN_SECRET_CHARS})",
            "secret_short", (("count", str(len(secret))), ("min", str(MIN_SECRET_CHARS))),
        )
    return Check(PASS, "secret key", f"set ({len(secret)} characters)", "secret_set",
                 (("count", str(len(secret))),))  # fmt: skip


def check_public_url() -> Check:
    url = settings.public_url()
    if not url:
        return Check(FAIL, "https origin", "DPA_PUBLIC_URL is not set", "url_unset")
    if not url.startswith("https://"):
        return Check(FAIL, "https origin", f"DPA_PUBLIC_URL is not https: {url}", "url_not_https",
                     (("url", url),))  # fmt: skip
    return Check(PASS, "https origin", url, "url_ok", (("url", url),))


def check_cookie_secure() -> Check:
    if not settings.cookie_secure():
        return Check(FAIL, "secure cookie", "DPA_COOKIE_SECURE is off (development only)",
                     "cookie_off")  # fmt: skip
    return Check(PASS, "secure cookie", "session cookie is Secure", "cookie_on")


def check_redis() -> Check:
    from dpa_panel.services.health import check_redis as ping

    workers = settings.workers()
    url = settings.redis_url()
    if not url:
        if workers > 1:
            return Check(
                FAIL,
                "redis",
                f"{workers} workers but REFLEX_REDIS_URL is not set (state is "
                "per worker without Redis)",
                "redis_missing", (("workers", str(workers)),),
            )
        return Check(PASS, "redis", "one worker, Redis not needed", "redis_not_needed")
    result = ping(url)
    if result["ok"]:
        params = (("ms", str(result["ms"])), ("workers", str(workers)))
        return Check(PASS, "redis", f"reachable ({result['ms']} ms), {workers} worker(s)",
                     "redis_ok", params)  # fmt: skip
    return Check(
        FAIL if workers > 1 else WARN, "redis", f"unreachable ({result.get('error', 'no PONG')})",
        "redis_unreachable",
    )


def check_data_location() -> Check:
    location = settings.data_location()
    if not location:
        return Check(
            FAIL,
            "data location",
            "DPA_DATA_LOCATION is empty (policy clause 4.3: declare where "
            "the database and backups are kept, in the Republic of Kazakhstan)",
            "location_empty",
        )
    return Check(PASS, "data location", location, "location_ok", (("location", location),))


def check_backup_key() -> Check:
    from dpa_panel.services.backup import BackupError, key_id, parse_key

    try:
        key = parse_key(settings.backup_key())
    except BackupError as err:
        return Check(FAIL, "backup key", str(err), "backup_key_bad")
    return Check(PASS, "backup key", f"set (key id {key_id(key)})", "backup_key_ok",
                 (("key_id", key_id(key)),))  # fmt: skip


def check_audit_key() -> Check:
    """The checkpoint key pair: without it nothing outside the database vouches for the audit
    chain, so a database owner could rewrite it unnoticed.

    The public key (``DPA_AUDIT_PUBLIC_KEY``) is enough here: the signing key is meant to live
    only in the checkpoint and backup jobs' environment (``/etc/dpa-panel/audit.env``), and the
    checkpoint age (next check) shows whether those jobs sign. When both are set they must match.
    """
    from dpa_panel.services import audit_checkpoints as checkpoints

    name = "audit key"
    if not settings.audit_key() and not settings.audit_public_key():
        return Check(
            FAIL, name,
            "neither DPA_AUDIT_KEY nor DPA_AUDIT_PUBLIC_KEY is set: the audit trail has no "
            "signed checkpoints (`dpa-panel audit checkpoint --generate-key`)",
        )  # fmt: skip
    try:
        public = checkpoints.verifying_key()
        if settings.audit_key():
            private = checkpoints.signing_key()
            if checkpoints.key_id(private.public_key()) != checkpoints.key_id(public):
                return Check(FAIL, name, "DPA_AUDIT_PUBLIC_KEY does not match DPA_AUDIT_KEY")
    except checkpoints.CheckpointError as err:
        return Check(FAIL, name, str(err))
    where = "signing key here" if settings.audit_key() else "public key only (verifying)"
    return Check(PASS, name, f"key id {checkpoints.key_id(public)}, {where}")


def checkpoint_check(session, *, now: datetime, max_hours: float) -> Check:
    """Every signed checkpoint still matches the chain, and the newest one is recent."""
    from dpa_panel.services import audit_checkpoints as checkpoints

    name = "audit checkpoints"
    try:
        public = checkpoints.verifying_key()
    except checkpoints.CheckpointError as err:
        return Check(FAIL, name, f"not checked: {err}")
    verdict = checkpoints.verify_checkpoints(session, public=public)
    if not verdict.ok:
        return Check(FAIL, name, verdict.describe())
    newest = checkpoints.newest_time(verdict)
    if newest is None:
        return Check(
            FAIL, name,
            f"none in {settings.audit_checkpoint_path()}: schedule `dpa-panel audit checkpoint`",
        )  # fmt: skip
    age = now - newest
    detail = f"{verdict.checked} verified, newest {_age_text(age)}"
    if age > timedelta(hours=max_hours):
        return Check(WARN, name, detail + f" (> {max_hours:g} h)")
    return Check(PASS, name, detail)


def check_working_copies() -> Check:
    """Plaintext working copies a killed backup or restore of an older version left behind
    are deleted here (and at every backup and restore); say so when there were any."""
    from dpa_panel.services.backup import remove_stale_working_copies

    removed = remove_stale_working_copies()
    if removed:
        names = ", ".join(str(path) for path in removed[:3])
        return Check(WARN, "working copies", f"removed {len(removed)} left behind: {names}")
    return Check(PASS, "working copies", "no backup or restore leftovers")


def _major(version_text: str) -> int | None:
    match = re.search(r"(\d+)", version_text)
    return int(match.group(1)) if match else None


def check_pg_tools(server_version: str) -> Check:
    from dpa_panel.services.backup import BackupError, pg_tool

    try:
        tool = pg_tool("pg_dump")
    except BackupError as err:
        return Check(FAIL, "pg_dump", str(err))
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"\)\s*(\d+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    client = int(found.group(1)) if found else None
    server = _major(server_version)
    if client is None or server is None:
        return Check(WARN, "pg_dump", f"cannot compare versions ({out.strip()})")
    if client < server:
        return Check(FAIL, "pg_dump", f"pg_dump {client} is older than the server ({server})")
    if client != server:
        return Check(WARN, "pg_dump", f"pg_dump {client}, server {server}")
    return Check(PASS, "pg_dump", f"pg_dump {client} matches the server")


# --- database checks -----------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _last_event(session, action: str):
    from dpa_panel.models import AuditEvent

    return session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()


def database_checks(
    url: str, *, now: datetime, backup_max_hours: float, sweep_max_hours: float
) -> list[Check]:
    from sqlalchemy import text

    from dpa_panel.db import make_engine, session_scope
    from dpa_panel.services import audit
    from dpa_panel.services.backup import alembic_revision
    from dpa_panel.services.health import head_revision

    names = ("migrations", "audit chain", "audit checkpoints", "last backup", "retention sweep")
    engine = make_engine(url)
    try:
        try:
            with engine.connect() as conn:
                revision = alembic_revision(conn)
                server_version = (
                    "" if url.startswith("sqlite")
                    else conn.execute(text("SHOW server_version")).scalar_one()
                )  # fmt: skip
        except Exception as exc:
            from dpa_panel.prod import first_line

            reason = "database unreachable"
            return [Check(FAIL, "database", f"{reason}: {first_line(exc)}")] + [
                Check(FAIL, n, reason) for n in names
            ]
        checks = [Check(PASS, "database", "reachable")]
        head = head_revision()
        if revision != head:
            checks.append(
                Check(FAIL, "migrations", f"at {revision}, head is {head}: run dpa-panel migrate")
            )
            return checks + [Check(FAIL, n, "migrations not at head") for n in names[1:]]
        checks.append(Check(PASS, "migrations", f"at head ({head})"))
        with session_scope(engine) as session:
            verdict = audit.verify_chain(session)
            checks.append(Check(PASS if verdict.ok else FAIL, "audit chain", verdict.describe()))
            checks.append(
                checkpoint_check(session, now=now, max_hours=DEFAULT_CHECKPOINT_MAX_HOURS)
            )
            checks += operations_checks(
                session, now=now, backup_max_hours=backup_max_hours,
                sweep_max_hours=sweep_max_hours,
            )  # fmt: skip
            checks.append(check_calendar(session, now))
            checks.append(check_profile(session))
        if server_version:
            checks.append(check_pg_tools(server_version))
        return checks
    finally:
        engine.dispose()


def operations_checks(
    session, *, now: datetime, backup_max_hours: float = DEFAULT_BACKUP_MAX_HOURS,
    sweep_max_hours: float = DEFAULT_SWEEP_MAX_HOURS,
) -> list[Check]:  # fmt: skip
    """Last backup and last retention sweep, with their age against the limits (also shown
    on the admin settings page, which cannot afford the full audit-chain check)."""
    from dpa_panel.services.backup import BACKUP_ACTION

    checks: list[Check] = []
    for action, name, limit, hint in (
        (BACKUP_ACTION, "last backup", backup_max_hours, "dpa-panel backup"),
        (SWEEP_ACTION, "retention sweep", sweep_max_hours, "dpa-panel retention sweep"),
    ):
        row = _last_event(session, action)
        if row is None:
            checks.append(Check(FAIL, name, f"never recorded: schedule `{hint}`",
                                "never_backup" if action == BACKUP_ACTION else "never_sweep"))
            continue
        age = now - _aware(row[0])
        detail = _age_text(age)
        hours = age.total_seconds() / 3600
        key = "age_hours" if hours < 72 else "age_days"
        params = [("age", f"{hours:.1f}" if hours < 72 else f"{hours / 24:.1f}")]
        if action == BACKUP_ACTION:
            info = json.loads(row[1] or "{}")
            detail += f", {info.get('file', '?')} ({info.get('size', '?')} bytes)"
            key += "_file"
            params += [("file", str(info.get("file", "?"))), ("size", str(info.get("size", "?")))]
        ok = age <= timedelta(hours=limit)
        if not ok:
            key += "_late"
            params.append(("limit", f"{limit:g}"))
        checks.append(
            Check(PASS if ok else FAIL, name, detail + ("" if ok else f" (> {limit:g} h)"),
                  key, tuple(params))
        )  # fmt: skip
    return checks


def check_calendar(session, now: datetime) -> Check:
    """Request deadlines need next year's holidays before the year turns (issue 16)."""
    from dpa_panel.services import calendar

    year = now.year + 1
    if calendar.has_year(session, year):
        return Check(PASS, "calendar", f"holidays of {year} entered", "calendar_ok",
                     (("year", str(year)),))  # fmt: skip
    return Check(WARN, "calendar", f"no holidays for {year}: add them on /calendar",
                 "calendar_missing", (("year", str(year)),))  # fmt: skip


def check_profile(session) -> Check:
    """The organisation profile names the operator, its BIN, the e-mail the policy sends
    people to and the responsible person (issue 17): a deployment without them publishes a
    policy with blanks, so it FAILs until an admin fills ``/admin/organisation``."""
    from dpa_panel.services import org_profile

    missing = org_profile.missing_fields(session)
    if missing:
        return Check(FAIL, "organisation profile",
                     "incomplete, fill on /admin/organisation: " + ", ".join(missing))  # fmt: skip
    return Check(PASS, "organisation profile", "complete")


def check_smtp() -> Check:
    """``DPA_SMTP_URL`` parses (it is not contacted here); unset = reminders stay queued."""
    from dpa_panel.services import mail

    try:
        config = mail.configured()
    except mail.MailConfigError as err:
        return Check(FAIL, "smtp", str(err), "smtp_bad")
    if config is None:
        return Check(WARN, "smtp", "DPA_SMTP_URL not set: reminders stay in the outbox",
                     "smtp_unset")  # fmt: skip
    return Check(PASS, "smtp", config.describe(), "smtp_ok", (("server", config.describe()),))


def configuration_checks() -> list[Check]:
    """The checks that read only the environment (cheap: no database, one Redis ping)."""
    return [
        check_database_engine(settings.database_url()),
        check_secret(),
        check_public_url(),
        check_cookie_secure(),
        check_redis(),
        check_data_location(),
        check_backup_key(),
        check_smtp(),
    ]


# --- security headers ----------------------------------------------------------------------


def fetch_headers(url: str, timeout: float = 5.0) -> dict[str, str]:
    """Response headers of ``GET url`` (lower-cased names; error statuses still count)."""
    request = urllib.request.Request(url, headers={"User-Agent": "dpa-panel-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            items = response.headers.items()
    except urllib.error.HTTPError as err:
        items = err.headers.items()
    return {name.lower(): value for name, value in items}


def header_checks(headers: dict[str, str]) -> list[Check]:
    out = []
    csp = headers.get("content-security-policy", "")
    if not csp:
        out.append(Check(FAIL, "header CSP", "Content-Security-Policy missing"))
    elif "frame-ancestors" not in csp:
        out.append(Check(FAIL, "header CSP", "Content-Security-Policy has no frame-ancestors"))
    else:
        out.append(Check(PASS, "header CSP", "present, with frame-ancestors"))
    hsts = headers.get("strict-transport-security", "")
    match = re.search(r"max-age\s*=\s*(\d+)", hsts)
    if not match:
        out.append(Check(FAIL, "header HSTS", "Strict-Transport-Security missing"))
    elif int(match.group(1)) < 15552000:
        out.append(Check(WARN, "header HSTS", f"max-age {match.group(1)} < 180 days"))
    else:
        out.append(Check(PASS, "header HSTS", hsts))
    nosniff = headers.get("x-content-type-options", "").strip().lower()
    out.append(
        Check(PASS, "header nosniff", "nosniff")
        if nosniff == "nosniff"
        else Check(FAIL, "header nosniff", "X-Content-Type-Options: nosniff missing")
    )
    referrer = headers.get("referrer-policy", "").strip().lower()
    if not referrer:
        out.append(Check(FAIL, "header referrer", "Referrer-Policy missing"))
    elif referrer in ("unsafe-url", "no-referrer-when-downgrade"):
        out.append(Check(FAIL, "header referrer", f"Referrer-Policy {referrer} leaks URLs"))
    else:
        out.append(Check(PASS, "header referrer", referrer))
    return out


def url_checks(url: str) -> list[Check]:
    try:
        headers = fetch_headers(url)
    except Exception as exc:
        return [Check(FAIL, "security headers", f"cannot fetch {url} ({type(exc).__name__})")]
    return header_checks(headers)


# --- all -----------------------------------------------------------------------------------


def run_checks(
    *,
    check_url: str | None = None,
    backup_max_hours: float = DEFAULT_BACKUP_MAX_HOURS,
    sweep_max_hours: float = DEFAULT_SWEEP_MAX_HOURS,
    now: datetime | None = None,
) -> list[Check]:
    """Every check in a fixed order. ``check_url``: fetch that URL and check its security
    headers (``""`` = ``DPA_PUBLIC_URL``; ``None`` = skip, reported as WARN)."""
    url = settings.database_url()
    # The audit key and the leftovers are doctor-only: the web server (and so the admin
    # settings page) neither holds the signing key nor deletes files.
    checks = configuration_checks() + [check_audit_key(), check_working_copies()]
    checks += database_checks(
        url,
        now=now or datetime.now(UTC),
        backup_max_hours=backup_max_hours,
        sweep_max_hours=sweep_max_hours,
    )
    if check_url is None:
        checks.append(Check(WARN, "security headers", "not checked (pass --check-url)"))
    else:
        target = check_url or settings.public_url()
        if not target:
            checks.append(Check(FAIL, "security headers", "no URL: set DPA_PUBLIC_URL"))
        else:
            checks += url_checks(target)
    return checks
