"""Production start checks (``dpa_panel/prod.py``) and the secret key's use in token hashing."""

from __future__ import annotations

import hashlib
import socket

import pytest

from dpa_panel import prod
from dpa_panel.services import auth

GOOD = {
    "DPA_DATABASE_URL": "postgresql://dpa@db.internal/dpa_panel",
    "DPA_SECRET_KEY": "k" * 48,
    "DPA_PUBLIC_URL": "https://panel.example.kz",
    "DPA_WORKERS": "2",
    "REFLEX_REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.fixture
def env(monkeypatch):
    """A complete production environment; each test breaks one thing."""
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DPA_COOKIE_SECURE", raising=False)

    def set_(name, value):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    return set_


def _problems():
    return prod.production_problems(check_redis=False, check_database=False)


def test_complete_environment_passes(env):
    assert _problems() == []


@pytest.mark.parametrize("url", [None, "", "sqlite:////srv/dpa/panel.db"])
def test_refuses_sqlite(env, url):
    env("DPA_DATABASE_URL", url)
    (problem,) = _problems()
    assert "SQLite" in problem and "PostgreSQL" in problem


def test_refuses_missing_secret(env):
    env("DPA_SECRET_KEY", None)
    (problem,) = _problems()
    assert "DPA_SECRET_KEY is not set" in problem


def test_refuses_short_secret(env):
    env("DPA_SECRET_KEY", "x" * 31)
    (problem,) = _problems()
    assert "too short (31 characters" in problem


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (None, "DPA_PUBLIC_URL is not set"),
        ("panel.example.kz", "https://"),
        ("https://panel.example.kz/app", "origin only"),
    ],
)
def test_refuses_missing_or_bad_public_url(env, url, fragment):
    env("DPA_PUBLIC_URL", url)
    (problem,) = _problems()
    assert fragment in problem


def test_refuses_several_workers_without_redis(env):
    env("REFLEX_REDIS_URL", None)
    (problem,) = _problems()
    assert "DPA_WORKERS=2 but REFLEX_REDIS_URL is not set" in problem


def test_one_worker_needs_no_redis(env):
    env("REFLEX_REDIS_URL", None)
    env("DPA_WORKERS", "1")
    assert _problems() == []


def test_refuses_unreachable_redis(env):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env("REFLEX_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    (problem,) = prod.production_problems(check_redis=True, check_database=False)
    assert "Redis at REFLEX_REDIS_URL does not answer" in problem


def test_refuses_bad_worker_count(env):
    env("DPA_WORKERS", "two")
    (problem,) = _problems()
    assert "DPA_WORKERS='two'" in problem


def test_every_problem_is_listed_at_once(env):
    env("DPA_DATABASE_URL", None)
    env("DPA_SECRET_KEY", None)
    env("REFLEX_REDIS_URL", None)
    assert len(_problems()) == 3


def test_main_refuses_with_exit_status_and_message(env, capsys, monkeypatch):
    monkeypatch.setattr(prod, "database_problem", lambda url: None)
    env("DPA_SECRET_KEY", "short")
    assert prod.main(["--check"]) == prod.REFUSAL_STATUS
    err = capsys.readouterr().err
    assert "refusing to start in production mode" in err and "DPA_SECRET_KEY" in err


def test_main_check_passes_and_starts_nothing(env, monkeypatch, capsys):
    monkeypatch.setattr(prod, "_redis_problem", lambda url: None)
    monkeypatch.setattr(prod, "database_problem", lambda url: None)
    assert prod.main(["--check"]) == 0
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "url", ["http://panel.example.kz", "http://10.0.0.5:3000", "http://[2001:db8::1]"]
)
def test_refuses_plain_http_public_url(env, url):
    env("DPA_PUBLIC_URL", url)
    (problem,) = _problems()
    assert "plain http://" in problem and "https://" in problem


@pytest.mark.parametrize(
    "url", ["http://localhost:3000", "http://127.0.0.1:8123", "http://[::1]:3000"]
)
def test_plain_http_is_accepted_on_loopback_only(env, url):
    """Loopback is reachable only from the host itself (load and cross-worker tests)."""
    env("DPA_PUBLIC_URL", url)
    env("DPA_COOKIE_SECURE", "0")
    assert _problems() == []


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_database_is_one_clear_line(env, monkeypatch, capsys):
    monkeypatch.setattr(prod, "_redis_problem", lambda url: None)
    env("DPA_DATABASE_URL", f"postgresql://dpa:secret-pw@127.0.0.1:{_closed_port()}/dpa_panel")
    (problem,) = prod.production_problems(check_redis=False)
    assert "does not answer" in problem and "OperationalError" in problem
    assert "\n" not in problem and "secret-pw" not in problem  # one line, password hidden
    assert prod.main(["--check"]) == prod.REFUSAL_STATUS
    err = capsys.readouterr().err
    assert "does not answer" in err and "Traceback" not in err


def test_cli_commands_report_an_unreachable_database_in_one_line(monkeypatch):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    url = f"postgresql://dpa:secret-pw@127.0.0.1:{_closed_port()}/dpa_panel"
    env = {**os.environ, "DPA_DATABASE_URL": url, "PYTHONPATH": str(root)}
    for args in (["audit", "verify"], ["migrate"], ["retention", "sweep", "--dry-run"]):
        proc = subprocess.run(
            [sys.executable, "-m", "dpa_panel.cli", *args],
            capture_output=True, text=True, env=env, cwd=root, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot use the database at" in lines[0], proc.stderr
        assert "secret-pw" not in proc.stderr and "Traceback" not in proc.stderr


def test_missing_audit_key_is_a_warning_not_a_refusal(env, monkeypatch):
    monkeypatch.delenv("DPA_AUDIT_KEY", raising=False)
    monkeypatch.delenv("DPA_AUDIT_PUBLIC_KEY", raising=False)
    assert _problems() == []
    assert any("DPA_AUDIT_KEY" in w for w in prod.production_warnings())


def test_server_environment_sets_worker_count(env):
    env("DPA_WORKERS", "3")
    assert prod.server_environment(8123)["GRANIAN_WORKERS"] == "3"
    assert "--single-port" in prod.reflex_command(8123, backend_only=False)


# --- DPA_SECRET_KEY keys the stored hashes of session tokens and tickets ----------------------


def test_token_hash_without_secret_is_plain_sha256(monkeypatch):
    monkeypatch.delenv("DPA_SECRET_KEY", raising=False)
    assert auth.token_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_token_hash_with_secret_depends_on_the_key(monkeypatch):
    monkeypatch.setenv("DPA_SECRET_KEY", "a" * 40)
    first = auth.token_hash("abc")
    monkeypatch.setenv("DPA_SECRET_KEY", "b" * 40)
    second = auth.token_hash("abc")
    assert first != second
    assert hashlib.sha256(b"abc").hexdigest() not in (first, second)
    assert len(first) == 64  # fits the 64-character hash columns


def test_a_hash_inserted_without_the_key_opens_no_session(engine, monkeypatch):
    """Someone who can write rows but lacks the key cannot mint a session."""
    from datetime import timedelta

    from sqlmodel import Session

    from dpa_panel.models import LoginSession, StaffUser
    from dpa_panel.models.types import utcnow

    monkeypatch.setenv("DPA_SECRET_KEY", "s" * 40)
    now = utcnow()
    with Session(engine) as s:
        user = StaffUser(
            username="mallory", full_name="Mallory", role="admin", password_hash="x",
            is_active=True, must_change_password=False, failed_attempts=0,
            created_at=now, password_changed_at=now,
        )  # fmt: skip
        s.add(user)
        s.flush()
        s.add(
            LoginSession(
                user_id=user.id,
                token_hash=hashlib.sha256(b"forged-token").hexdigest(),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        s.commit()
        assert auth.resolve_session(s, "forged-token") is None
        monkeypatch.delenv("DPA_SECRET_KEY")
        assert auth.resolve_session(s, "forged-token") is not None  # the control
