"""``dpa-panel doctor``: a misconfigured deployment fails, a sound one passes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from dpa_panel import cli
from dpa_panel.db import dispose_engines, make_engine, session_scope
from dpa_panel.models import AuditChainHead, AuditEvent
from dpa_panel.services import audit, audit_checkpoints, backup, doctor
from tests.dbutil import pg_unavailable_reason

REDIS_URL = "redis://127.0.0.1:6379/0"
GOOD_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _by_name(checks) -> dict[str, str]:
    return {c.name: c.status for c in checks}


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "DPA_SECRET_KEY",
        "DPA_PUBLIC_URL",
        "REFLEX_REDIS_URL",
        "DPA_WORKERS",
        "DPA_DATA_LOCATION",
        "DPA_BACKUP_KEY",
        "DPA_COOKIE_SECURE",
        "DPA_AUDIT_KEY",
        "DPA_AUDIT_PUBLIC_KEY",
        "DPA_AUDIT_CHECKPOINT_PATH",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_misconfigured_sqlite_deployment_fails(db_kind, db_url, clean_env, monkeypatch, capsys):
    monkeypatch.setenv("DPA_SECRET_KEY", "short")
    monkeypatch.setenv("DPA_PUBLIC_URL", "http://panel.example.kz")
    monkeypatch.setenv("DPA_WORKERS", "4")
    monkeypatch.setenv("DPA_COOKIE_SECURE", "0")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    status = {}
    for line in out.splitlines()[:-1]:
        status[line[6:28].strip()] = line[:5].strip()
    for name in (
        "database engine",
        "secret key",
        "https origin",
        "secure cookie",
        "redis",
        "data location",
        "backup key",
        "audit key",
        "audit checkpoints",
        "last backup",
        "retention sweep",
    ):
        assert status[name] == "FAIL", (name, out)
    assert status["migrations"] == "PASS" and status["audit chain"] == "PASS"
    assert status["security headers"] == "WARN"
    dispose_engines()


def test_unreachable_database_fails_every_database_item(clean_env, monkeypatch):
    monkeypatch.setenv("DPA_DATABASE_URL", "postgresql+psycopg://x@127.0.0.1:1/none")
    checks = doctor.run_checks()
    (database,) = [c for c in checks if c.name == "database"]
    assert "database unreachable: OperationalError" in database.detail
    assert "\n" not in database.detail
    status = _by_name(checks)
    for name in (
        "database", "migrations", "audit chain", "audit checkpoints", "last backup",
        "retention sweep",
    ):  # fmt: skip
        assert status[name] == "FAIL"


def _fill_profile(db_url) -> None:
    from dpa_panel.services import org_profile
    from dpa_panel.services.audit import Actor
    from tests.pipeline_helpers import make_staff

    eng = make_engine(db_url)
    uid = make_staff(eng, "responsible", "admin")
    with session_scope(eng) as session:
        org_profile.update_profile(session, Actor.user(uid), {
            "name_kk": "Ассоциация", "name_ru": "Ассоциация", "name_en": "Association",
            "bin": "180240005439", "address": "Almaty", "dp_email": "privacy@assoc.kz",
            "responsible_user_id": str(uid), "responsible_contact": "+77010000000",
            "authority_name": "MDAI", "authority_contact": "kense@mdai.gov.kz",
        })  # fmt: skip
    eng.dispose()


@pytest.mark.skipif(pg_unavailable_reason() is not None, reason="PostgreSQL not reachable")
@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
def test_sound_deployment_passes(db_kind, db_url, clean_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DPA_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("DPA_PUBLIC_URL", "https://panel.example.kz")
    monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("DPA_WORKERS", "2")
    monkeypatch.setenv("DPA_DATA_LOCATION", "Almaty, Republic of Kazakhstan (host dpa-db-1)")
    monkeypatch.setenv("DPA_BACKUP_KEY", backup.generate_key())
    monkeypatch.setenv("DPA_BACKUP_DIR", str(tmp_path))
    private, _public = audit_checkpoints.generate_key()
    monkeypatch.setenv("DPA_AUDIT_KEY", private)
    monkeypatch.setenv("DPA_AUDIT_CHECKPOINT_PATH", str(tmp_path / "audit" / "checkpoints.jsonl"))
    # A plaintext working folder an older version's killed backup left: the doctor removes it.
    stale = tmp_path / "dpa-backup-x1y2"
    stale.mkdir()
    (stale / "copy.db").write_bytes(b"SQLite format 3\x00 personal data")
    assert _by_name(doctor.run_checks())["working copies"] == "WARN"
    assert not stale.exists()
    # Issue 17: the doctor fails while the organisation profile is incomplete.
    assert _by_name(doctor.run_checks())["organisation profile"] == "FAIL"
    _fill_profile(db_url)
    assert cli.main(["backup"]) == 0
    assert cli.main(["retention", "sweep"]) == 0
    capsys.readouterr()
    assert cli.main(["doctor"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "0 failed" in out

    # An old backup and an old sweep fail the freshness items (the thresholds are options).
    later = datetime.now(UTC) + timedelta(hours=30)
    status = _by_name(doctor.run_checks(now=later))
    assert status["last backup"] == "FAIL" and status["retention sweep"] == "PASS"
    assert status["audit checkpoints"] == "WARN"  # the backup's checkpoint is 30 h old
    status = _by_name(doctor.run_checks(now=later, backup_max_hours=40))
    assert status["last backup"] == "PASS"
    status = _by_name(doctor.run_checks(now=later + timedelta(hours=20)))
    assert status["retention sweep"] == "FAIL"

    # A broken audit chain fails.
    eng = make_engine(db_url)
    with session_scope(eng) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.action == "backup.created").values(entity_id="x")
        )
    eng.dispose()
    status = _by_name(doctor.run_checks())
    assert status["audit chain"] == "FAIL" and status["audit checkpoints"] == "PASS"
    # A consistent rewrite (every hash and the head recomputed): the chain verifies again,
    # the backup's checkpoint does not.
    eng = make_engine(db_url)
    with session_scope(eng) as session:
        prev = audit.GENESIS_HASH
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            event.prev_hash = prev
            event.hash = prev = audit.event_hash(event)
        session.execute(update(AuditChainHead).values(last_hash=prev))
    eng.dispose()
    status = _by_name(doctor.run_checks())
    assert status["audit chain"] == "PASS" and status["audit checkpoints"] == "FAIL"
    # The public key alone is enough to check (the signing key stays with the jobs)...
    monkeypatch.setenv("DPA_AUDIT_PUBLIC_KEY", _public)
    monkeypatch.delenv("DPA_AUDIT_KEY")
    status = _by_name(doctor.run_checks())
    assert status["audit key"] == "PASS" and status["audit checkpoints"] == "FAIL"
    # ...a public key that is not the pair of the signing key fails...
    monkeypatch.setenv("DPA_AUDIT_KEY", audit_checkpoints.generate_key()[0])
    assert _by_name(doctor.run_checks())["audit key"] == "FAIL"
    # ...and without any key the doctor fails the key item and cannot check checkpoints.
    monkeypatch.delenv("DPA_AUDIT_KEY")
    monkeypatch.delenv("DPA_AUDIT_PUBLIC_KEY")
    status = _by_name(doctor.run_checks())
    assert status["audit key"] == "FAIL" and status["audit checkpoints"] == "FAIL"
    dispose_engines()


class _Server:
    def __init__(self, headers: dict[str, str]):
        sent = headers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                self.send_response(200)
                for name, value in sent.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_security_headers_against_a_local_server():
    with _Server(GOOD_HEADERS) as server:
        checks = doctor.url_checks(server.url)
    assert {c.name: c.status for c in checks} == {
        "header CSP": "PASS",
        "header HSTS": "PASS",
        "header nosniff": "PASS",
        "header referrer": "PASS",
    }
    weak = {
        "Content-Security-Policy": "default-src 'self'",
        "Strict-Transport-Security": "max-age=600",
        "Referrer-Policy": "unsafe-url",
    }
    with _Server(weak) as server:
        status = _by_name(doctor.url_checks(server.url))
    assert status == {
        "header CSP": "FAIL",
        "header HSTS": "WARN",
        "header nosniff": "FAIL",
        "header referrer": "FAIL",
    }
    with _Server({}) as server:
        url = server.url
    assert _by_name(doctor.url_checks(url)) == {"security headers": "FAIL"}


def test_check_url_option_uses_the_given_url(db_url, clean_env, monkeypatch, capsys):
    with _Server(GOOD_HEADERS) as server:
        cli.main(["doctor", "--check-url", server.url])
    out = capsys.readouterr().out
    assert "PASS  header CSP" in out and "PASS  header referrer" in out
    dispose_engines()
