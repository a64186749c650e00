"""``make loadtest``: many sessions against several workers, with isolation checks.

A bounded load generator, loopback only, that speaks the real Reflex event protocol (Socket.IO
on ``/_event``, the session cookie in the websocket handshake) exactly as browser tabs do:

* **staff** page and filter the pipeline (``/applications``);
* **compliance** open the retention countdown (``/retention``) and, when the app has it, the
  disclosure register (``/disclosures``);
* **board** switch the statistics release's view (``/statistics``);
* **public** visitors submit applications (``/apply``) at a fixed total rate (default 5/s).

Staff-side sessions log in through the real password form (``AuthState.login`` → login ticket
bound to the tab's ``dpa_browser`` cookie → same-origin ``POST /api/auth/complete`` → HttpOnly
cookie), then reconnect with the cookie, like a browser.

It starts its own server — a fresh PostgreSQL database with demo data, Redis, and
``python -m dpa_panel.prod --backend-only`` with ``DPA_WORKERS`` workers on one port — so the
production launcher and its checks are part of what is measured. The public form's per-IP rate
limit (``DPA_APPLY_RATE_LIMIT``, default 5 per hour) is raised for this server only, because
every simulated applicant comes from 127.0.0.1.

Isolation: every state update a client receives is checked to belong to it — the header's
identity is its own user, no other session's private marker (a search term only that session
typed) ever reaches it, board members and public visitors receive no value of any personal
column of the database, and each applicant's reference number is the one the database stored
for the e-mail that applicant typed.

Report: p50/p95/p99 event round trip (emit → first state update) per action, errors, and
applications stored in the database vs submitted. Exit status 1 when a target is missed
(0 errors, 0 lost submissions, 0 isolation failures, p95 < ``--p95-ms``, default 500 ms).

**Public-form burst** (issue 19, ``--burst-rate``): after the mixed load, ``--burst-sessions``
public tabs — opened with the others and idle until then — submit ``--burst-rate``
applications per second for ``--burst-seconds`` on a fixed schedule; its actions are reported
as ``(burst)`` rows (outside the mixed load's p95) with submitted / stored / lost.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "DPA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Redis for the load test's workers: a database number of its own (state keys are per tab
#: token, so sharing a server with other users of Redis is harmless).
REDIS_URL = os.environ.get("DPA_LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13")
LOAD_PASSWORD = "load-test-password-2026"
P95_TARGET_MS = 500.0
#: The burst is kept when no due submission waits a second for a free tab: the server answers
#: at the offered rate with at most one second's worth of submissions queued (issue 19).
BURST_MAX_LAG_S = 1.0
#: The per-IP limit of the public form on the load test's server (all applicants are 127.0.0.1).
LOAD_APPLY_RATE_LIMIT = 1_000_000

#: Personal columns of the database: none of their values may reach a board member or a
#: public visitor (the same list as tests/live/test_board_sees_no_personal_data.py).
PERSONAL = {
    "data_subject": ["surname", "first_name", "patronymic", "phone", "email", "workplace",
                     "position", "education", "experience", "other_info"],
    "membership_application": ["reference", "reason"],
    "member": ["membership_number"],
    "consent": ["evidence_ref", "evidence_text", "withdrawal_evidence"],
    "staff_user": ["full_name"],
}  # fmt: skip


# The protocol client (``EventClient``, ``login`` and the update helpers) lives in
# ``loadtest_client.py`` (split by job in issue 19); imported here for the scenarios and tests.
from dpa_panel.loadtest_client import (  # noqa: E402
    LOAD_TOTP_SECRET,
    NAMESPACE,
    TICKET_RE,
    EventClient,
    EventError,
    StepFailed,
    _ticket_or_refusal,
    iter_vars,
    login,
    redirects,
    state_name,
    totp_secret_for,
    var_values,
)

__all__ = [
    "LOAD_TOTP_SECRET", "NAMESPACE", "TICKET_RE", "EventClient", "EventError", "StepFailed",
    "_ticket_or_refusal", "iter_vars", "login", "redirects", "state_name", "totp_secret_for",
    "var_values",
]  # fmt: skip


# --- server and database -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_unavailable_reason(admin_url: str = PG_ADMIN_URL) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {admin_url}: {str(exc).strip().splitlines()[0]}"
    return None


def redis_unavailable_reason(url: str = REDIS_URL) -> str | None:
    from dpa_panel.prod import _redis_problem

    problem = _redis_problem(url)
    return f"Redis not reachable at {url}: {problem}" if problem else None


@contextlib.contextmanager
def fresh_postgres(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"dpa_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        from dpa_panel.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(db_url: str, subjects: int, accounts: dict[str, str], *, secret_key: str = "") -> None:
    """Demo data, plus one account per load session (``{username: role}``), all with
    ``LOAD_PASSWORD`` (hashed once); those whose role requires a second factor are enrolled
    with ``LOAD_TOTP_SECRET``, encrypted under ``secret_key`` (the server's
    ``DPA_SECRET_KEY``)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from dpa_panel import demo, migrate
    from dpa_panel.db import make_engine
    from dpa_panel.models import StaffUser, TwoFactor
    from dpa_panel.services import two_factor
    from dpa_panel.services.passwords import hash_password

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        demo.seed_staff(engine, secret_key=secret_key or None)
        demo.seed_subjects(engine, subjects)
        password_hash = hash_password(LOAD_PASSWORD)
        now = datetime.now(UTC)
        if accounts:
            with engine.begin() as conn:
                conn.execute(
                    insert(StaffUser.__table__),
                    [
                        {
                            "username": username,
                            "role": role,
                            "full_name": full_name_of(username),
                            "password_hash": password_hash,
                            "is_active": True,
                            "must_change_password": False,
                            "failed_attempts": 0,
                            "created_at": now,
                            "password_changed_at": now,
                        }
                        for username, role in accounts.items()
                    ],
                )
                enrolled = [u for u, role in accounts.items() if two_factor.is_required(role)]
                ids = conn.execute(
                    select(StaffUser.__table__.c.id).where(
                        StaffUser.__table__.c.username.in_(enrolled)
                    )
                ).scalars()
                secret = two_factor.encrypt_secret(LOAD_TOTP_SECRET, key=secret_key or None)
                rows = [
                    {"user_id": i, "secret_enc": secret, "created_at": now, "confirmed_at": now}
                    for i in ids
                ]
                if rows:
                    conn.execute(insert(TwoFactor.__table__), rows)
    finally:
        engine.dispose()


def full_name_of(username: str) -> str:
    return "Load " + username.replace("-", " ").title()


@dataclass
class Server:
    url: str
    port: int
    public_url: str
    db_url: str
    log_path: Path


@contextlib.contextmanager
def prod_server(
    db_url: str,
    *,
    workers: int,
    redis_url: str = REDIS_URL,
    public_url: str | None = None,
    secret_key: str = "",
    extra_env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    startup_timeout: float = 240,
    port: int | None = None,
) -> Iterator[Server]:
    """``python -m dpa_panel.prod --backend-only`` on a (free) loopback port, until exit."""
    import tempfile

    port = port or free_port()
    public_url = public_url or f"http://127.0.0.1:{port}"
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="dpa-prod-"))
    states_dir = log_dir / "states"
    states_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DPA_DATABASE_URL": db_url,
        "DPA_WORKERS": str(workers),
        "REFLEX_REDIS_URL": redis_url,
        "DPA_PUBLIC_URL": public_url,
        "DPA_SECRET_KEY": secret_key or "load-test-secret-" + uuid.uuid4().hex,
        # Plain http on loopback: the cookie cannot be Secure for the Socket.IO client.
        "DPA_COOKIE_SECURE": "0",
        # Every simulated applicant comes from 127.0.0.1: lift the per-IP limit for this server.
        "DPA_APPLY_RATE_LIMIT": str(LOAD_APPLY_RATE_LIMIT),
        # A states directory of its own: Reflex clears it at start (others may be running).
        "REFLEX_STATES_WORKDIR": str(states_dir),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    log_path = log_dir / f"server-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "dpa_panel.prod", "--backend-only", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("server exited:\n" + log_path.read_text()[-4000:])
            try:
                with urllib.request.urlopen(base + "/ping", timeout=3) as resp:  # noqa: S310
                    if "pong" in resp.read().decode():
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(0.5)
        yield Server(base, port, public_url, db_url, log_path)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


# --- scenarios -------------------------------------------------------------------------------


@dataclass
class Session:
    """One simulated tab and everything it saw."""

    index: int
    role: str  # staff | compliance | board | public
    username: str = ""
    marker: str = ""
    client: EventClient | None = None
    updates_seen: list[dict] = field(default_factory=list)
    #: (email typed, reference received) of each accepted application.
    submissions: list[tuple[str, str]] = field(default_factory=list)
    #: every e-mail this tab typed into the form (answered or timed out)
    typed: list[str] = field(default_factory=list)
    page: int = 1
    pages: int = 1
    #: a public tab kept for the burst phase (idle until then)
    burst: bool = False


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    submitted: int = 0
    accepted: int = 0
    burst_submitted: int = 0
    burst_accepted: int = 0
    #: seconds each burst slot waited for a free tab after it was due (the server falling
    #: behind the schedule shows here first: every tab still busy with an earlier slot)
    burst_lags: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, seconds: float) -> None:
        with self.lock:
            self.timings[action].append(seconds)

    def error(self, action: str, message: str) -> None:
        with self.lock:
            self.errors[action].append(message)


class Scenario:
    """A role's behaviour: ``open`` once, then ``step`` repeatedly until the run ends."""

    role = ""
    path = "/"

    def __init__(self, run: LoadRun) -> None:
        self.run = run

    def act(self, s: Session, action: str, handler: str, payload: dict | None = None) -> list:
        """Call one handler; a timeout or a refusal is recorded as an error of ``action``."""
        try:
            updates, seconds = s.client.call(handler, payload, path=self.path)
        except EventError as exc:
            self.run.results.error(action, f"session {s.index}: {exc}")
            raise StepFailed from exc
        self.run.record(action, seconds)
        s.updates_seen.extend(updates)
        if sent_to := redirects(updates):
            self.run.results.error(action, f"session {s.index}: sent to {sent_to} (refused)")
            raise StepFailed
        for value in var_values(updates, "page"):
            s.page = int(value)
        for value in var_values(updates, "page_count"):
            s.pages = int(value)
        return updates

    def turn_page(self, s: Session, prefix: str, state: str) -> None:
        if s.page < s.pages:
            self.act(s, f"{prefix}.next_page", f"{state}.next_page")
        elif s.page > 1:
            self.act(s, f"{prefix}.previous_page", f"{state}.previous_page")

    def open(self, s: Session) -> None:
        pass

    def step(self, s: Session, rng: random.Random) -> None:
        raise NotImplementedError


class StaffPipeline(Scenario):
    role = "staff"
    path = "/applications"

    def open(self, s):
        self.state = state_name("dpa_panel.state.pipeline_state", "PipelineState")
        self.act(s, "pipeline.load", f"{self.state}.load")
        self.act(s, "pipeline.switch_view", f"{self.state}.switch_view", {"view": "table"})

    def step(self, s, rng):
        from dpa_panel.models.vocab import APPLICATION_STATUSES

        choice = rng.random()
        if choice < 0.1:  # the page opened again (its on_load)
            self.act(s, "pipeline.load", f"{self.state}.load")
        elif choice < 0.5:
            self.turn_page(s, "pipeline", self.state)
        elif choice < 0.85:
            form = {
                "status": rng.choice(("", "", *APPLICATION_STATUSES)),
                "sort": rng.choice(("submitted_desc", "submitted_asc", "surname", "status")),
                # Now and then the session's private marker as a search term: it must never
                # reach another session.
                "search": s.marker if rng.random() < 0.3 else "",
            }
            self.act(s, "pipeline.filter", f"{self.state}.apply_filters", {"form_data": form})
        else:
            view = rng.choice(("board", "table"))
            self.act(s, "pipeline.switch_view", f"{self.state}.switch_view", {"view": view})


class ComplianceRetention(Scenario):
    role = "compliance"
    path = "/retention"

    def open(self, s):
        self.state = state_name("dpa_panel.state.retention_state", "RetentionState")
        self.act(s, "retention.load", f"{self.state}.load")

    def step(self, s, rng):
        choice = rng.random()
        if choice < 0.3:
            self.act(s, "retention.load", f"{self.state}.load")
        elif choice < 0.6:
            self.turn_page(s, "retention", self.state)
        else:
            form = {
                "bucket": rng.choice(("", "overdue", "30", "90", "later")),
                "sort": rng.choice(("due", "due_desc", "name", "id")),
                "search": s.marker if rng.random() < 0.3 else "",
            }
            self.act(s, "retention.filter", f"{self.state}.apply_filters", {"form_data": form})


class ComplianceDisclosures(Scenario):
    """The disclosure register; only when the app has it (``disclosures_available``)."""

    role = "compliance"
    path = "/disclosures"

    def open(self, s):
        self.state = state_name("dpa_panel.state.disclosures_state", "DisclosuresState")
        self.act(s, "disclosures.load", f"{self.state}.load")

    def step(self, s, rng):
        if rng.random() < 0.5:
            self.act(s, "disclosures.load", f"{self.state}.load")
        else:
            form = {"body": s.marker if rng.random() < 0.5 else "", "status": ""}
            self.act(s, "disclosures.filter", f"{self.state}.apply_filters", {"form_data": form})


class BoardStatistics(Scenario):
    role = "board"
    path = "/statistics"

    def open(self, s):
        self.state = state_name("dpa_panel.state.statistics_state", "StatisticsState")
        self.act(s, "statistics.load", f"{self.state}.load")

    def step(self, s, rng):
        if rng.random() < 0.1:  # the page opened again (its on_load)
            self.act(s, "statistics.load", f"{self.state}.load")
            return
        # The newest published release, seen by month, quarter or year (issue 14: the board
        # reads stored releases only).
        self.act(
            s,
            "statistics.choose_release",
            f"{self.state}.choose_release",
            {"form_data": {"release": "", "scope": rng.choice(("month", "quarter", "year"))}},
        )


class PublicApply(Scenario):
    """Opens the form and submits one application per slot of the shared schedule."""

    role = "public"
    path = "/apply"

    def open(self, s):
        self.state = state_name("dpa_panel.state.apply_state", "ApplyState")

    def submit(self, s: Session, n: int) -> None:
        suffix = " (burst)" if s.burst else ""
        self.act(s, "apply.load" + suffix, f"{self.state}.load")
        email = f"load.{self.run.run_id}.{'b' if s.burst else ''}{s.index}.{n}@load.test"
        form = {
            "surname": "Жүктемеова",
            "first_name": f"Сынақ{s.index}x{n}",
            "patronymic": "",
            "phone": f"8 701 {s.index % 1000:03d} {n % 100:02d} {n // 100 % 100:02d}",
            "email": email,
            "workplace": "«Жүктеме Медиа» ЖШС",
            "workplace_category": "media",
            "position": "Редактор",
            "position_level": "senior",
            "education_level": "bachelor",
            "education": "ҚазҰУ, журналистика",
            "experience_years": "5",
            "experience": "Жаңалықтар",
            "other_info": "",
            "consent_application_review": "on",
            "consent_member_register": "on",
        }
        s.typed.append(email)
        with self.run.results.lock:
            self.run.results.submitted += 1
            self.run.results.burst_submitted += s.burst
        action = "apply.submit" + suffix
        updates = self.act(s, action, f"{self.state}.submit", {"form_data": form})
        references = [v for v in var_values(updates, "reference") if v]
        if not references:
            errors = var_values(updates, "form_error") + var_values(updates, "errors")
            self.run.results.error(action, f"session {s.index}: refused: {errors}")
            raise StepFailed
        s.submissions.append((email, references[-1]))
        with self.run.results.lock:
            self.run.results.accepted += 1
            self.run.results.burst_accepted += s.burst

    def step(self, s, rng):  # pragma: no cover - public sessions are driven by the schedule
        raise NotImplementedError


def disclosures_available() -> bool:
    """Whether the app registers the disclosure register's state (being added in issue 10)."""
    import importlib

    try:
        importlib.import_module("dpa_panel.dpa_panel")
    except Exception:
        return False
    return "dpa_panel.state.disclosures_state" in sys.modules and hasattr(
        sys.modules["dpa_panel.state.disclosures_state"], "DisclosuresState"
    )


def plan_sessions(total: int) -> list[str]:
    """Roles of ``total`` sessions: a fifth public, the rest split over staff/compliance/board."""
    public = max(1, round(total * 0.2))
    rest = total - public
    roles = ["staff", "compliance", "board"]
    counts = {r: rest // 3 + (1 if i < rest % 3 else 0) for i, r in enumerate(roles)}
    return [r for r in roles for _ in range(counts[r])] + ["public"] * public


class LoadRun:
    def __init__(
        self,
        server: Server,
        *,
        sessions: int,
        duration: float,
        apply_rate: float = 5.0,
        think: tuple[float, float] = (1.0, 3.0),
        seed: int = 10,
        with_disclosures: bool | None = None,
        burst_rate: float = 0.0,
        burst_seconds: float = 30.0,
        burst_sessions: int = 50,
    ) -> None:
        self.server = server
        self.duration = duration
        self.apply_rate = apply_rate
        #: issue 19: after the mixed load, public submissions at ``burst_rate`` per second for
        #: ``burst_seconds`` from ``burst_sessions`` tabs opened (idle) with the others
        self.burst_rate, self.burst_seconds = burst_rate, burst_seconds
        self.burst_elapsed = 0.0
        self.burst_stored = -1
        self.think = think
        self.rng = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:6]
        self.results = Results()
        self.sessions = [
            Session(i, role, marker=f"zq{self.run_id}m{i:03d}x")
            for i, role in enumerate(plan_sessions(sessions))
        ]
        if burst_rate > 0:
            self.sessions += [
                Session(i, "public", marker=f"zq{self.run_id}m{i:03d}x", burst=True)
                for i in range(len(self.sessions), len(self.sessions) + max(1, burst_sessions))
            ]
        if with_disclosures is None:
            with_disclosures = disclosures_available()
        self.with_disclosures = with_disclosures
        self.scenarios: dict[str, list[Scenario]] = {
            "staff": [StaffPipeline(self)],
            "compliance": [ComplianceRetention(self)]
            + ([ComplianceDisclosures(self)] if with_disclosures else []),
            "board": [BoardStatistics(self)],
            "public": [PublicApply(self)],
        }
        self.isolation_failures: list[str] = []
        self._login_gate = threading.Semaphore(4)
        self.started = self.stop_at = float("inf")
        self.measuring = False
        self.elapsed = 0.0
        self.stored = -1

    def accounts(self) -> dict[str, str]:
        """The staff accounts this run needs (``{username: role}``), one per session."""
        out = {}
        for s in self.sessions:
            if s.role != "public":
                s.username = f"load-{s.role}-{self.run_id}-{s.index:03d}"
                out[s.username] = s.role
        return out

    # -- running --

    def _connect(self, s: Session) -> None:
        cookie = ""
        if s.role != "public":
            with self._login_gate:  # argon2 checks: a few at a time
                cookie, seconds = login(
                    self.server.url, s.username, LOAD_PASSWORD, origin=self.server.public_url
                )
            self.results.record("login (setup)", seconds)
        s.client = EventClient(self.server.url, cookie=cookie, origin=self.server.public_url)
        if s.role != "public":
            auth_state = state_name("dpa_panel.state.auth_state", "AuthState")
            updates, seconds = s.client.call(
                f"{auth_state}.load_identity", {}, path=self.scenarios[s.role][0].path
            )
            self.record("identity", seconds)
            s.updates_seen.extend(updates)
            if s.username not in var_values(updates, "me_username"):
                raise EventError(f"{s.username}: header identity missing after login")
        # Warm-up: the session opens its first page before the clock starts (the first event
        # of a kind on a fresh worker pays one-off costs); these are reported as "(warm-up)".
        first = self.scenarios[s.role][s.index % len(self.scenarios[s.role])]
        first.open(s)
        if s.role == "public":
            first.act(s, "apply.load", f"{first.state}.load")

    def record(self, action: str, seconds: float) -> None:
        """A timing; before the clock starts it is labelled as warm-up."""
        self.results.record(action if self.measuring else f"{action} (warm-up)", seconds)

    def _staff_loop(self, s: Session, rng: random.Random) -> None:
        scenarios = self.scenarios[s.role]
        current = scenarios[s.index % len(scenarios)]  # opened during the warm-up
        while time.monotonic() < self.stop_at:
            time.sleep(rng.uniform(*self.think))
            if time.monotonic() >= self.stop_at:
                break
            if len(scenarios) > 1 and rng.random() < 0.15:  # open the other page
                current = rng.choice(scenarios)
                s.page, s.pages = 1, 1
                current.open(s)
            else:
                with contextlib.suppress(StepFailed):  # recorded; the session goes on
                    current.step(s, rng)

    def _public_loop(self, s: Session, slots: queue.Queue) -> None:
        scenario = self.scenarios["public"][0]
        scenario.open(s)
        while (n := slots.get()) is not None:
            if s.burst:
                with self.results.lock:
                    self.results.burst_lags.append(time.monotonic() - self._burst_due[n])
            with contextlib.suppress(StepFailed):  # recorded; the next applicant goes on
                scenario.submit(s, n)

    def _session(self, s: Session, gate: threading.Barrier, slots: queue.Queue, rng) -> None:
        if s.burst:
            slots = self._burst_slots
        try:
            self._connect(s)
        except Exception as exc:
            self.results.error("connect/login", f"session {s.index}: {exc}")
            gate.wait()
            return
        gate.wait()
        try:
            if s.role == "public":
                self._public_loop(s, slots)
            else:
                self._staff_loop(s, rng)
        except StepFailed:  # opening the page failed (recorded); the session stops
            pass
        except Exception as exc:
            self.results.error(f"{s.role} session", f"session {s.index}: {exc!r}")

    def run(self, log: Callable[[str], None] = print) -> None:
        slots: queue.Queue = queue.Queue()
        self._burst_slots: queue.Queue = queue.Queue()
        self._burst_due: dict[int, float] = {}
        n_public = sum(1 for s in self.sessions if s.role == "public" and not s.burst)

        def start_clock() -> None:  # runs once every session is connected, before any acts
            self.started = time.monotonic()
            self.stop_at = self.started + self.duration
            self.measuring = True

        # The clock starts when every session is connected (logins are setup, not load).
        gate = threading.Barrier(len(self.sessions) + 1, action=start_clock)
        threads = [
            threading.Thread(
                target=self._session,
                args=(s, gate, slots, random.Random(self.rng.random())),
                daemon=True,
            )
            for s in self.sessions
        ]
        counts = ", ".join(f"{n} {r}" for r, n in self._role_counts().items())
        log(f"connecting {len(self.sessions)} sessions ({counts}) ...")
        setup_started = time.monotonic()
        for t in threads:
            t.start()
        gate.wait()
        started = self.started
        log(
            f"all connected in {started - setup_started:.1f} s; running {self.duration:.0f} s "
            f"(public submissions at {self.apply_rate:g}/s over {n_public} sessions) ..."
        )
        # The submission schedule: slot n is due at started + n / rate.
        for n in itertools.count():
            due = started + n / self.apply_rate
            if due >= self.stop_at:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            slots.put(n)
        for _ in range(n_public):
            slots.put(None)
        mixed = [t for t, s in zip(threads, self.sessions, strict=True) if not s.burst]
        for t in mixed:
            t.join(timeout=self.duration + 120)
        self.elapsed = time.monotonic() - started
        bursting = [t for t, s in zip(threads, self.sessions, strict=True) if s.burst]
        if bursting:
            total = round(self.burst_rate * self.burst_seconds)
            log(f"public-form burst: {total} submissions at {self.burst_rate:g}/s over "
                f"{len(bursting)} open tabs ...")  # fmt: skip
            burst_started = time.monotonic()
            for n in range(total):
                self._burst_due[n] = burst_started + n / self.burst_rate
                time.sleep(max(0.0, self._burst_due[n] - time.monotonic()))
                self._burst_slots.put(n)
            for _ in bursting:
                self._burst_slots.put(None)
            for t in bursting:
                t.join(timeout=self.burst_seconds + 120)
            self.burst_elapsed = time.monotonic() - burst_started
        for s in self.sessions:
            if s.client:
                s.client.close()
                # Everything the tab received, including updates that trailed a call.
                s.updates_seen = list(s.client.updates)
                for path in redirects(s.updates_seen):
                    self.results.error("redirected (refused)", f"session {s.index}: to {path}")

    def _role_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for s in self.sessions:
            counts[s.role] += 1
        return dict(counts)

    # -- checking --

    def check_isolation(self) -> list[str]:
        """Every update each session received belongs to it (see the module docstring)."""
        from sqlalchemy import text

        from dpa_panel.db import make_engine

        failures = []
        engine = make_engine(self.server.db_url)
        try:
            personal: set[str] = set()
            with engine.connect() as conn:
                for table, columns in PERSONAL.items():
                    for row in conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
                        personal.update(str(v) for v in row if v is not None and len(str(v)) >= 5)
                stored_refs = dict(
                    conn.execute(
                        text(
                            "SELECT s.email, a.reference FROM membership_application a "
                            "JOIN data_subject s ON s.id = a.subject_id "
                            "WHERE s.email LIKE :pattern"
                        ),
                        {"pattern": f"load.{self.run_id}.%"},
                    ).all()
                )
                self.burst_stored = conn.execute(
                    text("SELECT count(*) FROM data_subject WHERE email LIKE :pattern"),
                    {"pattern": f"load.{self.run_id}.b%"},
                ).scalar()
        finally:
            engine.dispose()
        markers = {s.marker for s in self.sessions}
        for s in self.sessions:
            sent = json.dumps(s.updates_seen, ensure_ascii=False)
            who = f"session {s.index} ({s.role} {s.username or 'anonymous'})"
            for name, expected in (
                ("me_username", s.username),
                ("me_full_name", full_name_of(s.username) if s.username else ""),
            ):
                wrong = {v for v in var_values(s.updates_seen, name) if v and v != expected}
                if wrong:
                    failures.append(f"{who} received another identity in {name}: {wrong}")
            foreign = sorted(m for m in markers - {s.marker} if m in sent)
            if foreign:
                failures.append(f"{who} received other sessions' private markers {foreign[:3]}")
            if s.role in ("board", "public"):
                # Its own references, including one whose answer came after the call timed out
                # (the database stored it for an e-mail this tab typed).
                own = {ref for _email, ref in s.submissions} | {full_name_of(s.username)}
                own |= {stored_refs[e] for e in s.typed if e in stored_refs}
                leaked = sorted(v for v in personal - own if v in sent)
                if leaked:
                    failures.append(f"{who} received personal values {leaked[:3]}")
            for email, reference in s.submissions:
                if stored_refs.get(email) != reference:
                    failures.append(
                        f"{who} got reference {reference} for {email}, "
                        f"the database has {stored_refs.get(email)}"
                    )
        self.stored = len(stored_refs)
        self.isolation_failures = failures
        return failures

    # -- reporting --

    def table(self) -> str:
        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
            return ordered[k] * 1000

        lines = [
            f"{'action':<32}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}",
            "-" * 74,
        ]
        actions = sorted(set(self.results.timings) | set(self.results.errors))
        for action in actions:
            values = self.results.timings.get(action, [])
            errs = len(self.results.errors.get(action, []))
            if values:
                lines.append(
                    f"{action:<32}{len(values):>7}{pct(values, 50):>9.0f}{pct(values, 95):>9.0f}"
                    f"{pct(values, 99):>9.0f}{errs:>8}"
                )
            else:
                lines.append(f"{action:<32}{0:>7}{'-':>9}{'-':>9}{'-':>9}{errs:>8}")
        events = self.measured()
        if events:
            lines.append("-" * 74)
            lines.append(
                f"{'all measured events':<32}{len(events):>7}{pct(events, 50):>9.0f}"
                f"{pct(events, 95):>9.0f}{pct(events, 99):>9.0f}{self.error_count():>8}"
            )
        lines.append("")
        lines.append(
            f"applications: submitted {self.results.submitted}, accepted "
            f"{self.results.accepted}, stored in the database {self.stored}"
        )
        if self.burst_rate > 0:
            r = self.results
            lines.append(
                f"public-form burst: target {self.burst_rate:g}/s for {self.burst_seconds:g} s; "
                f"submitted {r.burst_submitted} in {self.burst_elapsed:.1f} s "
                f"({r.burst_submitted / max(self.burst_elapsed, 1e-9):.1f}/s), accepted "
                f"{r.burst_accepted}, stored {self.burst_stored}, "
                f"lost {r.burst_submitted - self.burst_stored}"
            )
            if r.burst_lags:
                lags = sorted(r.burst_lags)
                lines.append(
                    f"public-form burst schedule: a due submission waited for a free tab "
                    f"p95 {lags[int(0.95 * (len(lags) - 1))] * 1000:.0f} ms, "
                    f"max {lags[-1] * 1000:.0f} ms (kept if < {BURST_MAX_LAG_S * 1000:.0f} ms)"
                )
        lines.append(
            f"isolation failures: {len(self.isolation_failures)}; "
            f"events/s: {len(events) / max(self.elapsed, 1e-9):.1f} over {self.elapsed:.0f} s"
        )
        return "\n".join(lines)

    def measured(self) -> list[float]:
        """Round trips of the measured window (no login, no warm-up)."""
        return [v for a, vs in self.results.timings.items() if not a.endswith(")") for v in vs]

    def error_count(self) -> int:
        return sum(len(v) for v in self.results.errors.values())

    def missed_targets(
        self, p95_target_ms: float = P95_TARGET_MS, burst_max_lag_s: float = BURST_MAX_LAG_S
    ) -> list[str]:
        missed = []
        if self.error_count():
            sample = [f"{a}: {m[0]}" for a, m in self.results.errors.items()][:5]
            missed.append(f"{self.error_count()} errors, e.g. {sample}")
        if self.results.submitted != self.stored:
            missed.append(
                f"lost submissions: submitted {self.results.submitted}, stored {self.stored}"
            )
        if self.burst_rate > 0 and self.results.burst_submitted != self.burst_stored:
            missed.append(
                f"lost burst submissions: submitted {self.results.burst_submitted}, "
                f"stored {self.burst_stored}"
            )
        if self.burst_rate > 0 and self.results.burst_lags:
            worst = max(self.results.burst_lags)
            if worst >= burst_max_lag_s:
                missed.append(
                    f"burst fell behind its {self.burst_rate:g}/s schedule: a due submission "
                    f"waited {worst:.1f} s for a free tab"
                )
        if self.isolation_failures:
            missed.append(f"isolation: {self.isolation_failures[:5]}")
        events = self.measured()
        if events:
            p95 = sorted(events)[min(len(events) - 1, int(0.95 * len(events)))] * 1000
            if p95 >= p95_target_ms:
                missed.append(f"p95 {p95:.0f} ms >= {p95_target_ms:.0f} ms")
        else:
            missed.append("no events were measured")
        return missed


def run_load(
    *,
    sessions: int,
    duration: float,
    workers: int = 2,
    apply_rate: float = 5.0,
    subjects: int = 400,
    think: tuple[float, float] = (1.0, 3.0),
    log: Callable[[str], None] = print,
    log_dir: Path | None = None,
    burst_rate: float = 0.0,
    burst_seconds: float = 30.0,
    burst_sessions: int = 50,
) -> LoadRun:
    """Fresh database, server with ``workers`` workers, the run, the checks. Returns the run
    (``table()``, ``missed_targets()``)."""
    with fresh_postgres() as db_url:
        log(f"seeding {subjects} demo subjects into a fresh PostgreSQL database ...")
        placeholder = Server("", 0, "", db_url, Path())
        run = LoadRun(
            placeholder, sessions=sessions, duration=duration, apply_rate=apply_rate, think=think,
            burst_rate=burst_rate, burst_seconds=burst_seconds, burst_sessions=burst_sessions,
        )  # fmt: skip
        secret_key = "load-test-secret-" + uuid.uuid4().hex
        seed(db_url, subjects, run.accounts(), secret_key=secret_key)
        log(
            f"starting {workers} workers (python -m dpa_panel.prod --backend-only, Redis "
            f"{REDIS_URL}, DPA_APPLY_RATE_LIMIT={LOAD_APPLY_RATE_LIMIT} for this server) ..."
        )
        with prod_server(db_url, workers=workers, log_dir=log_dir, secret_key=secret_key) as server:
            run.server = server
            log(
                "scenarios: staff → /applications, compliance → /retention"
                + (" + /disclosures" if run.with_disclosures else " (no /disclosures in the app)")
                + ", board → /statistics, public → /apply"
            )
            run.run(log)
            run.check_isolation()
        return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dpa_panel.loadtest", description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--apply-rate", type=float, default=5.0, help="applications per second")
    parser.add_argument("--subjects", type=int, default=400, help="demo subjects to seed")
    parser.add_argument(
        "--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
        help="seconds a staff-side session waits between actions",
    )  # fmt: skip
    parser.add_argument("--p95-ms", type=float, default=P95_TARGET_MS,
                        help="the p95 target of the mixed load's events")  # fmt: skip
    parser.add_argument("--burst-rate", type=float, default=0.0,
                        help="public-form burst after the mixed load: submissions per second "
                             "(0: no burst)")  # fmt: skip
    parser.add_argument("--burst-seconds", type=float, default=30.0)
    parser.add_argument(
        "--burst-sessions", type=int, default=50,
        help="public tabs that submit the burst (opened with the others)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for reason in (postgres_unavailable_reason(), redis_unavailable_reason()):
        if reason:
            print(f"loadtest: cannot run: {reason}", file=sys.stderr)
            return 2
    run = run_load(
        sessions=args.sessions,
        duration=args.duration,
        workers=args.workers,
        apply_rate=args.apply_rate,
        subjects=args.subjects,
        think=tuple(args.think),
        burst_rate=args.burst_rate,
        burst_seconds=args.burst_seconds,
        burst_sessions=args.burst_sessions,
    )
    print()
    print(run.table())
    missed = run.missed_targets(args.p95_ms)
    print()
    if missed:
        print("TARGETS MISSED:")
        for item in missed:
            print(f"  - {item}")
        return 1
    print(
        "targets met: 0 errors, 0 lost submissions, 0 isolation failures, "
        f"p95 < {args.p95_ms:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
