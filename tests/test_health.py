"""``GET /healthz``: database at head and Redis, 200 or 503, no personal data, cheap."""

from __future__ import annotations

import statistics
import time

import pytest
from starlette.testclient import TestClient

from dpa_panel import migrate
from dpa_panel.api import api
from dpa_panel.db import dispose_engines

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture
def client():
    with TestClient(api) as c:
        yield c
    dispose_engines()


def test_healthy_database_without_redis(db_url, monkeypatch, client):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["database"]["migrations_at_head"]
    assert body["redis"] == "not configured"
    assert body["version"]
    assert response.headers["cache-control"] == "no-store"
    # Cheap: well under 20 ms once the pool is warm (the median of 10, so that one stall of
    # a busy shared machine does not decide it).
    client.get("/healthz")
    spent = []
    for _ in range(10):
        started = time.perf_counter()
        client.get("/healthz")
        spent.append(time.perf_counter() - started)
    assert statistics.median(spent) < 0.05, spent


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_redis_reachable_and_unreachable(db_url, monkeypatch, client):
    monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["redis"]["ok"] is True
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False


def test_database_behind_head_is_503(empty_db_url, monkeypatch, client):
    migrate.upgrade(empty_db_url, "0001")
    monkeypatch.setenv("DPA_DATABASE_URL", empty_db_url)
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["database"]["migrations_at_head"] is False


def test_unreachable_database_is_503_without_details(monkeypatch, client):
    monkeypatch.setenv("DPA_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    response = client.get("/healthz")
    assert response.status_code == 503
    database = response.json()["database"]
    assert database["ok"] is False and set(database) == {"ok", "error", "ms"}
    assert "secret" not in response.text and "127.0.0.1" not in response.text
