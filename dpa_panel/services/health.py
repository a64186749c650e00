"""The ``/healthz`` checks: database reachable and migrated to head, Redis reachable.

Cheap by design (a load balancer or ``HEALTHCHECK`` calls it every few seconds): one
``SELECT 1``, one read of ``alembic_version``, one Redis ``PING`` with a short timeout. The
answer carries no personal data and no error text (which could name hosts): only booleans,
timings and exception class names.
"""

from __future__ import annotations

import time
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dpa_panel import settings

REDIS_TIMEOUT_S = 0.5


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest Alembic revision of this build (read once: the scripts do not change)."""
    from dpa_panel import migrate

    return migrate.head_revision()


@lru_cache(maxsize=1)
def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dpa-panel")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_database(engine: Engine) -> dict:
    """``{"ok", "migrations_at_head", "ms"}`` (plus ``"error"``: an exception class name)."""
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        at_head = revision == head_revision()
        return {"ok": at_head, "migrations_at_head": at_head, "ms": _ms(started)}
    except Exception as exc:  # any failure is "not healthy"; the class name is enough
        return {"ok": False, "error": type(exc).__name__, "ms": _ms(started)}


_REDIS_CLIENTS: dict[str, object] = {}


def _redis_client(url: str):
    client = _REDIS_CLIENTS.get(url)
    if client is None:
        import redis

        client = _REDIS_CLIENTS[url] = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
    return client


def check_redis(url: str) -> dict:
    started = time.perf_counter()
    try:
        ok = bool(_redis_client(url).ping())
        return {"ok": ok, "ms": _ms(started)}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__, "ms": _ms(started)}


def health(engine: Engine | None = None) -> dict:
    """The whole report; ``status`` is ``ok`` only when every configured part is ok."""
    from dpa_panel.db import get_engine

    database = check_database(engine or get_engine())
    redis_url = settings.redis_url()
    redis_part: dict | str = check_redis(redis_url) if redis_url else "not configured"
    ok = database["ok"] and (not isinstance(redis_part, dict) or redis_part["ok"])
    return {
        "status": "ok" if ok else "fail",
        "database": database,
        "redis": redis_part,
        "version": app_version(),
    }
