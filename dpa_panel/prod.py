"""``make prod`` / ``python -m dpa_panel.prod``: start checks, migrations, then N workers.

The panel is served the way Reflex supports several backend workers: ``reflex run --env prod
--single-port`` builds the frontend once and starts Granian with ``GRANIAN_WORKERS`` =
``DPA_WORKERS`` worker processes on one port; every worker serves the compiled pages, the event
websocket (``/_event``) and the panel's ``/api`` routes, so the login hand-over stays a
same-origin navigation. A browser tab's websocket stays on the worker that accepted it; the
tab's Reflex state lives in Redis (``REFLEX_REDIS_URL``), and everything the panel itself
decides on — sessions, lockouts, rate limits, tickets — lives in the database, so any worker
can serve any request.

Before anything starts, production mode refuses (exit status 2, one line per problem) when:

* the database is SQLite (``DPA_DATABASE_URL`` unset or ``sqlite:``) — production is PostgreSQL;
* ``DPA_SECRET_KEY`` is missing or shorter than 32 characters (it keys the hashes of session
  tokens and tickets, see ``services.auth.token_hash``);
* ``DPA_PUBLIC_URL`` is missing, not a bare ``https://host[:port]`` origin (it is the only
  origin allowed to open the websocket, see ``rxconfig.py``), or plain ``http://`` on any host
  but the loopback one (``localhost``, ``127.0.0.0/8``, ``::1``: reachable only from the host
  itself, which the load and cross-worker tests use);
* ``DPA_WORKERS`` > 1 without ``REFLEX_REDIS_URL``, or with a Redis that does not answer;
* the database does not answer (one line saying so, not a traceback).

``--check`` runs the checks only. ``--backend-only`` serves the event websocket and ``/api``
without building or serving the pages (the load test and the cross-worker tests use it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from dpa_panel import settings

MIN_SECRET_LENGTH = 32
REFUSAL_STATUS = 2


def _redis_problem(url: str) -> str | None:
    """None when Redis at ``url`` answers PING; otherwise what went wrong."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure means "not usable"
        return f"{type(exc).__name__}: {exc}"
    return None


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must start with https:// and name a host"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return "it must be an origin only (scheme, host and port; no path, query or user)"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            "plain http:// would send passwords, session cookies and personal data unencrypted; "
            "serve the panel over https:// (see docs/deploy.md)"
        )
    return None


def database_problem(url: str, timeout: int = 5) -> str | None:
    """None when the database answers ``SELECT 1``; otherwise one line saying why not."""
    from sqlalchemy import create_engine, text

    args = {} if url.startswith("sqlite") else {"connect_timeout": timeout}
    engine = create_engine(url, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not usable"; say it in one line
        return f"the database at {_safe_url(url)} does not answer ({first_line(exc)})"
    finally:
        engine.dispose()
    return None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add SQL, hints and links below)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    return f"{type(orig).__name__}: {lines[0]}" if lines else type(orig).__name__


def production_problems(*, check_redis: bool = True, check_database: bool = True) -> list[str]:
    """Every reason not to start in production mode (empty list = go)."""
    problems: list[str] = []

    url = settings.database_url()
    if url.startswith("sqlite"):
        problems.append(
            "the database is SQLite (DPA_DATABASE_URL "
            + ("is not set" if not os.environ.get("DPA_DATABASE_URL", "").strip() else "is sqlite")
            + "): production needs PostgreSQL, e.g. "
            "DPA_DATABASE_URL=postgresql://dpa@db.internal/dpa_panel"
        )
    elif check_database and (reason := database_problem(url)):
        problems.append(reason)

    key = settings.secret_key()
    if not key:
        problems.append(
            "DPA_SECRET_KEY is not set: it keys the hashes of session tokens and tickets; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    elif len(key) < MIN_SECRET_LENGTH:
        problems.append(
            f"DPA_SECRET_KEY is too short ({len(key)} characters, at least "
            f"{MIN_SECRET_LENGTH} needed)"
        )

    public = settings.public_url()
    if not public:
        problems.append(
            "DPA_PUBLIC_URL is not set: it is the only origin allowed to open the websocket, "
            "e.g. DPA_PUBLIC_URL=https://panel.example.kz"
        )
    elif reason := _origin_problem(public):
        problems.append(f"DPA_PUBLIC_URL={public!r} is not usable: {reason}")

    try:
        workers = settings.workers()
    except ValueError:
        problems.append(f"DPA_WORKERS={os.environ.get('DPA_WORKERS')!r} is not a whole number")
        workers = 1
    if workers > 1:
        redis_url = settings.redis_url()
        if not redis_url:
            problems.append(
                f"DPA_WORKERS={workers} but REFLEX_REDIS_URL is not set: several workers must "
                "share the tabs' state through Redis (or set DPA_WORKERS=1)"
            )
        elif check_redis and (reason := _redis_problem(redis_url)):
            problems.append(f"Redis at REFLEX_REDIS_URL does not answer ({reason})")
    return problems


def production_warnings() -> list[str]:
    """Settings that start but are probably wrong."""
    warnings = []
    public = settings.public_url()  # plain http:// is refused except on loopback
    if public.startswith("https://") and not settings.cookie_secure():
        warnings.append("DPA_COOKIE_SECURE=0 on an https deployment: the cookie should be Secure")
    if not settings.audit_key() and not settings.audit_public_key():
        # Not a refusal: the web server never signs checkpoints and should not hold the key;
        # the checkpoint timer and the backup job do (docs/decisions.md). The doctor FAILs.
        warnings.append(
            "no audit checkpoint key (DPA_AUDIT_KEY) in this environment: make sure the "
            "dpa-panel-audit-checkpoint timer has one (`dpa-panel doctor` checks)"
        )
    return warnings


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def reflex_command(port: int, *, backend_only: bool) -> list[str]:
    reflex = str(Path(sys.executable).parent / "reflex")
    if backend_only:
        return [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
    return [
        reflex, "run", "--env", "prod", "--single-port",
        "--frontend-port", str(port), "--backend-port", str(port),
    ]  # fmt: skip


def server_environment(port: int, *, backend_only: bool = False) -> dict[str, str]:
    """The environment of the Reflex process: the checked settings plus the worker count."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        {
            "GRANIAN_WORKERS": str(settings.workers()),
            "DPA_PORT": str(port),
            "REFLEX_USE_NPM": "1",
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        }
    )
    if backend_only:
        env["REFLEX_BACKEND_ONLY"] = "true"  # rxconfig.py then configures no frontend port
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dpa_panel.prod", description="Start the panel in production mode."
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("DPA_PORT", "3000") or 3000))
    parser.add_argument("--check", action="store_true", help="only run the start checks")
    parser.add_argument(
        "--backend-only",
        action="store_true",
        help="serve the websocket and /api without building or serving the pages",
    )
    args = parser.parse_args(argv)

    problems = production_problems()
    if problems:
        print("dpa-panel: refusing to start in production mode:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return REFUSAL_STATUS
    for warning in production_warnings():
        print(f"dpa-panel: warning: {warning}", file=sys.stderr)
    if args.check:
        print("dpa-panel: production checks passed")
        return 0

    from dpa_panel import migrate

    try:
        migrate.upgrade()
    except Exception as exc:  # the database went away after the checks: one line, no traceback
        where = _safe_url(settings.database_url())
        print(
            f"dpa-panel: refusing to start: migrations failed on {where} ({first_line(exc)})",
            file=sys.stderr,
        )
        return REFUSAL_STATUS
    print(
        f"dpa-panel: database at revision {migrate.current_revision()} "
        f"({_safe_url(settings.database_url())})"
    )
    workers = settings.workers()
    print(
        f"dpa-panel: serving {settings.public_url()} with {workers} worker(s) on port "
        f"{args.port}" + (" (state shared through Redis)" if workers > 1 else ""),
        flush=True,
    )
    command = reflex_command(args.port, backend_only=args.backend_only)
    root = Path(__file__).resolve().parent.parent
    os.chdir(root)
    os.execve(command[0], command, server_environment(args.port, backend_only=args.backend_only))
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
