"""E-mail: the SMTP URL, the outbox (retries with back-off, giving up, retrying by hand) and
the request reminders of ``dpa-panel notify`` — delivered to a real SMTP server (aiosmtpd on
127.0.0.1, also with STARTTLS and authentication) and read back."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import OutboxMessage, StaffUser
from dpa_panel.services import mail, notify, outbox, requests
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from tests.pipeline_helpers import make_staff
from tests.smtp_server import free_port, start_smtp

# --- the SMTP URL ----------------------------------------------------------------------------


def test_smtp_url_forms():
    cfg = mail.parse_smtp_url("smtp://bot%40assoc.kz:p%3Ass@mail.assoc.kz?from=dpa@assoc.kz")
    assert (cfg.host, cfg.port, cfg.starttls, cfg.implicit_tls) == ("mail.assoc.kz", 587, True,
                                                                     False)  # fmt: skip
    assert (cfg.username, cfg.password, cfg.sender) == ("bot@assoc.kz", "p:ss", "dpa@assoc.kz")
    assert "p:ss" not in cfg.describe()
    tls = mail.parse_smtp_url("smtps://u:p@mail.assoc.kz", "noreply@assoc.kz")
    assert (tls.port, tls.implicit_tls, tls.starttls) == (465, True, False)
    assert tls.sender == "noreply@assoc.kz"
    relay = mail.parse_smtp_url("smtp://localhost?starttls=no")
    assert (relay.port, relay.starttls, relay.sender) == (25, False, "dpa-panel@localhost")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://mail.assoc.kz", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.assoc.kz:99999", "not a valid URL"),
        ("smtp://u:p@mail.assoc.kz?starttls=no", "need TLS"),
        ("smtps://mail.assoc.kz?starttls=yes", "TLS already"),
        ("smtp://mail.assoc.kz?starttls=maybe", "yes or no"),
        ("smtp://mail.assoc.kz?tls=1", "unknown options: tls"),
        ("smtp://mail.assoc.kz?from=nobody", "not an e-mail address"),
        ("smtp://mail.assoc.kz?timeout=-1", "between 0 and 300"),
    ],
)
def test_invalid_smtp_url_says_why(url, words):
    with pytest.raises(mail.MailConfigError) as err:
        mail.parse_smtp_url(url)
    assert words in str(err.value)
    assert "p@" not in str(err.value)


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)
    ]  # fmt: skip
    assert outbox.backoff(30) == timedelta(hours=6)


# --- the outbox ------------------------------------------------------------------------------


def _scope(engine):
    return lambda: session_scope(engine)


def _queue(engine, n: int = 1, **kw) -> list[int]:
    ids = []
    with session_scope(engine) as s:
        for i in range(n):
            m = outbox.enqueue(s, purpose="test", recipient=f"r{i}@assoc.kz",
                               subject=f"Тақырып {i}", body="Сәлем\nӘлем", **kw)  # fmt: skip
            s.flush()
            ids.append(m.id)
    return ids


def test_enqueue_is_idempotent_by_key(engine):
    with session_scope(engine) as s:
        first = outbox.enqueue(s, purpose="t", recipient="a@b.kz", subject="s", body="b",
                               dedupe_key="k1")  # fmt: skip
        again = outbox.enqueue(s, purpose="t", recipient="a@b.kz", subject="s", body="b",
                               dedupe_key="k1")  # fmt: skip
    assert first is not None and again is None
    with Session(engine) as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1


def test_delivery_to_a_real_server(engine):
    server = start_smtp()
    try:
        ids = _queue(engine, 3)
        cfg = mail.parse_smtp_url(server.url())
        report = outbox.deliver(_scope(engine), cfg)
        assert (report.sent, report.failed_attempts, report.waiting) == (3, 0, 0)
        assert sorted(m.envelope_to[0] for m in server.messages) == [
            "r0@assoc.kz", "r1@assoc.kz", "r2@assoc.kz"
        ]  # fmt: skip
        got = server.messages[0].message
        assert got["Subject"].startswith("Тақырып") and "Әлем" in got.get_content()
        # Sent messages are not sent again.
        assert outbox.deliver(_scope(engine), cfg).sent == 0
        with Session(engine) as s:
            rows = [s.get(OutboxMessage, i) for i in ids]
        assert all(r.status == "sent" and r.sent_at is not None for r in rows)
    finally:
        server.stop()


def test_server_down_retries_with_backoff_then_gives_up_and_can_be_retried(engine):
    # Queued at a fixed moment and delivered from it: a fixed delivery time with a queue time
    # of "now" stopped being due once the real clock passed it (2026-12-07 04:00 UTC).
    now = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    (mid,) = _queue(engine, now=now)
    down = mail.parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?starttls=no&timeout=5")
    report = outbox.deliver(_scope(engine), down, now=now)
    assert (report.sent, report.failed_attempts, report.waiting) == (0, 1, 1)
    with Session(engine) as s:
        m = s.get(OutboxMessage, mid)
        assert m.status == "pending" and m.attempts == 1 and "Connection" in m.last_error
        assert m.next_attempt_at == now + timedelta(minutes=1)
    # Not due yet: nothing is attempted.
    assert outbox.deliver(_scope(engine), down, now=now).failed_attempts == 0
    moment = now
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        moment = moment + outbox.backoff(attempt - 1)
        outbox.deliver(_scope(engine), down, now=moment)
    with Session(engine) as s:
        m = s.get(OutboxMessage, mid)
        assert (m.status, m.attempts) == ("failed", outbox.MAX_ATTEMPTS)
        status = outbox.outbox_status(s)
        assert status.counts["failed"] == 1 and status.problems[0].id == mid
    admin = Actor.user(make_staff(engine, "admin1", "admin"))
    server = start_smtp()
    try:
        with session_scope(engine) as s:
            outbox.retry(s, admin, mid, now=moment)
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            outbox.retry(s, admin, mid)
        assert err.value.key == "outbox.not_failed"
        assert outbox.deliver(_scope(engine), mail.parse_smtp_url(server.url()),
                              now=moment).sent == 1  # fmt: skip
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_starttls_and_authentication(engine, tmp_path):
    server = start_smtp(tmp_path, tls=True, user="bot", password="s3cret")
    try:
        _queue(engine, 2)
        good = mail.parse_smtp_url(server.url(**{"from": "dpa@assoc.kz"}))
        assert good.starttls and good.cafile
        assert outbox.deliver(_scope(engine), good).sent == 2
        assert server.logins == ["bot"] and len(server.messages) == 2
        assert server.messages[0].envelope_from == "dpa@assoc.kz"
        # A wrong password: the attempt fails and the message waits for the next run.
        _queue(engine, 1)
        bad = mail.parse_smtp_url(server.url().replace("s3cret", "wrong"))
        report = outbox.deliver(_scope(engine), bad)
        assert (report.sent, report.failed_attempts) == (0, 1)
        # Without trusting the certificate, STARTTLS refuses the server.
        untrusted = mail.parse_smtp_url(server.url().split("?")[0])
        assert outbox.deliver(_scope(engine), untrusted,
                              now=datetime.now(UTC) + timedelta(hours=1)).sent == 0  # fmt: skip
    finally:
        server.stop()


# --- reminders -------------------------------------------------------------------------------


def _account(engine, username, role, email, language):
    uid = make_staff(engine, username, role)
    with engine.begin() as conn:
        conn.execute(
            update(StaffUser.__table__)
            .where(StaffUser.__table__.c.id == uid)
            .values(email=email, language=language)
        )
    return uid


def _request(engine, actor, received: datetime, kind="access") -> int:
    with session_scope(engine) as s:
        return requests.create_request(
            s, actor, kind=kind, received_at=received, channel="email",
            requester="Ахметова Айгүл", contact="aigul@mail.kz", now=received,
        ).id  # fmt: skip


def test_reminders_go_to_the_assignee_else_every_officer_in_their_language(engine):
    officer_kk = _account(engine, "dana", "compliance", "dana@assoc.kz", "kk")
    _account(engine, "oleg", "compliance", "oleg@assoc.kz", "ru")
    clerk = _account(engine, "erlan", "staff", "erlan@assoc.kz", "en")
    actor = Actor.user(officer_kk)
    # Access, received Monday 23 Nov 2026: due Thursday 26 Nov.
    soon = _request(engine, actor, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    assigned = _request(engine, actor, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    late = _request(engine, actor, datetime(2026, 11, 16, 5, 0, tzinfo=UTC))  # due 19 Nov
    later = _request(engine, actor, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))  # due 30 Nov
    closed = _request(engine, actor, datetime(2026, 11, 16, 5, 0, tzinfo=UTC))
    with session_scope(engine) as s:
        requests.assign_request(s, actor, assigned, clerk)
        requests.change_request_status(s, actor, closed, "refused", refusal_reason="r")
    today = date(2026, 11, 25)  # Wednesday: one working day before 26 Nov
    server = start_smtp()
    try:
        with session_scope(engine) as s:
            report = notify.queue_reminders(s, today=today)
        assert (report.queued, report.already_queued) == (5, 0)
        cfg = mail.parse_smtp_url(server.url())
        # + the refusal notice to the requester (issue 20 acknowledgements)
        assert outbox.deliver(_scope(engine), cfg).sent == 6
        got = {(m.envelope_to[0], m.message["Subject"]) for m in server.messages}
        with Session(engine) as s:
            ref = {i: s.get(requests.SubjectRequest, i).reference
                   for i in (soon, assigned, late, closed)}  # fmt: skip
        assert got == {
            ("aigul@mail.kz", f"{ref[closed]} сұрауыңыз бойынша"),
            ("dana@assoc.kz", f"{ref[soon]}: сұраудың мерзімі 26.11.2026 бітеді"),
            ("oleg@assoc.kz", f"{ref[soon]}: срок запроса истекает 26.11.2026"),
            ("erlan@assoc.kz", f"{ref[assigned]}: request due 26.11.2026"),
            ("dana@assoc.kz", f"{ref[late]}: сұраудың мерзімі өтті (19.11.2026)"),
            ("oleg@assoc.kz", f"{ref[late]}: срок запроса истёк (19.11.2026)"),
        }
        body = next(m.message.get_content() for m in server.messages
                    if m.envelope_to[0] == "erlan@assoc.kz")  # fmt: skip
        assert f"/requests/{assigned}" in body and "Ахметова" not in body
        assert all(str(later) not in m.message["Subject"] for m in server.messages)
        # Idempotent: running again the same day, or the next, sends no second reminder of a
        # kind; the next day only the newly overdue ones go out.
        with session_scope(engine) as s:
            again = notify.queue_reminders(s, today=today)
        assert (again.queued, again.already_queued) == (0, 5)
        with session_scope(engine) as s:
            next_day = notify.queue_reminders(s, today=date(2026, 11, 27))
        # soon and assigned are now overdue (3 new: 2 officers + assignee); later is due
        # Monday 30 Nov, one working day ahead (2 officers).
        assert next_day.queued == 5
    finally:
        server.stop()


def test_notify_command_without_smtp_keeps_mail_and_says_so(db_url, engine, monkeypatch):
    officer = _account(engine, "dana", "compliance", "dana@assoc.kz", "kk")
    _request(engine, Actor.user(officer), datetime.now(UTC) - timedelta(days=30))
    env = {"DPA_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    run = subprocess.run([sys.executable, "-m", "dpa_panel.cli", "notify"], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "1 queued" in run.stdout and "DPA_SMTP_URL is not set: 1 message(s) kept" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "dpa_panel.cli", "notify"],
                         env={**env, "DPA_SMTP_URL": "smtp://u:p@host?starttls=no"},
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "need TLS" in bad.stderr and "nothing sent" in bad.stderr
    with Session(engine) as s:
        assert s.scalars(select(OutboxMessage.status)).all() == ["pending"]


def test_notification_settings_are_checked(engine):
    uid = make_staff(engine, "dana", "compliance")
    actor = Actor.user(uid)
    for email, language, key in (("not-an-address", "kk", "notify.bad_email"),
                                 ("dana@assoc.kz", "de", "notify.bad_language")):  # fmt: skip
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            notify.set_notification_settings(s, actor, uid, email=email, language=language)
        assert err.value.key == key
    with session_scope(engine) as s:
        notify.set_notification_settings(s, actor, uid, email="dana@assoc.kz", language="ru")
    with Session(engine) as s:
        user = s.get(StaffUser, uid)
        assert (user.email, user.language) == ("dana@assoc.kz", "ru")
