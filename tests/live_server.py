"""The real production build served by ``reflex run`` on a free port, for live tests.

One server per test session (the frontend build is the slow part), against a fresh SQLite
database with demo data. Tests that speak the event protocol directly (``tests/live``) and
browser tests (``tests/browser``) share it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    db_url: str
    #: The server's output (stdout and stderr), where failures are logged with their detail.
    log_path: Path | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return resp.status, resp.read().decode("utf-8", "replace")


#: The declared data location of the test deployment (policy clause 4.3).
DATA_LOCATION = "Almaty, Republic of Kazakhstan — test host"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """The panel built and served in production mode, and its database URL."""
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    db_url = f"sqlite:///{tmp / 'panel.db'}"
    env = {
        **os.environ,
        "DPA_DATABASE_URL": db_url,
        # Plain http on 127.0.0.1: Chromium accepts Secure cookies on loopback, but the
        # Socket.IO test client would not send them back, so tests run without the flag.
        "DPA_COOKIE_SECURE": "0",
        "DPA_PORT": str(port),
        "DPA_DATA_LOCATION": DATA_LOCATION,
        # As behind the shipped Caddy proxy: the client address is the last X-Forwarded-For
        # entry (a request without the header counts as its direct peer). The throttling
        # tests use it to log in "from" several addresses.
        "REFLEX_TRUSTED_PROXY_HOPS": "1",
        "REFLEX_USE_NPM": "1",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [str(bin_dir / "dpa-panel"), "demo", "--subjects", "60"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    log_path = tmp / "reflex.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [
            str(bin_dir / "reflex"),
            "run",
            "--env",
            "prod",
            "--single-port",
            "--frontend-port",
            str(port),
            "--backend-port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("reflex exited:\n" + log_path.read_text()[-4000:])
            try:
                if _get(base + "/ping")[1].strip('"\n') == "pong" and _get(base + "/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("panel did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(1)
        global CURRENT
        CURRENT = LiveServer(base, db_url, log_path)
        yield CURRENT
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def complete_login(base_url: str, ticket: str, browser: str, origin: str | None = None):
    """``POST /api/auth/complete`` as the browser does: the ticket in a form, the page's
    ``Origin``, the ``dpa_browser`` cookie the ticket is bound to (an empty one: none)."""
    import httpx

    headers = {"Origin": origin or base_url}
    if browser:
        headers["Cookie"] = f"dpa_browser={browser}"
    return httpx.post(
        f"{base_url}/api/auth/complete",
        data={"t": ticket},
        headers=headers,
        follow_redirects=False,
    )


#: The running live server (browser helpers that only get a base URL look up its database).
CURRENT: LiveServer | None = None


def totp_code(live: LiveServer | None, username: str) -> str:
    """A not-yet-used TOTP code for a demo account, computed with pyotp from its known secret.

    The panel accepts each 30-second step once per account (replay refusal) and one step of
    clock drift either side. The code of the current step or of the next one is still valid
    when it arrives some seconds later, so tests that log in the same account twice within one
    step use the next step, and wait for the clock only when both are spent.
    """
    import time

    import pyotp
    from sqlalchemy import select
    from sqlmodel import Session

    from dpa_panel.db import make_engine
    from dpa_panel.demo import DEMO_TOTP_SECRETS
    from dpa_panel.models import StaffUser, TwoFactor
    from dpa_panel.services.two_factor import STEP_SECONDS

    live = live or CURRENT
    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            last = s.scalars(
                select(TwoFactor.last_step)
                .join(StaffUser, StaffUser.id == TwoFactor.user_id)
                .where(StaffUser.username == username)
            ).first()
    finally:
        engine.dispose()
    step = max(int(time.time()) // STEP_SECONDS, (last or 0) + 1)
    while step > int(time.time()) // STEP_SECONDS + 1:
        time.sleep(0.5)
    return pyotp.TOTP(DEMO_TOTP_SECRETS[username]).generate_otp(step)


def login_cookie(live: LiveServer, username: str) -> str:
    """A real session cookie for ``username``: a login ticket exchanged at /api/auth/complete.

    The ticket is issued (and bound to a browser cookie) directly in the live database (the
    password step is covered by the browser tests); the exchange goes through the real HTTP
    endpoint.
    """
    import secrets

    from sqlalchemy import select
    from sqlmodel import Session

    from dpa_panel.db import make_engine
    from dpa_panel.models import StaffUser
    from dpa_panel.services import auth

    browser = secrets.token_urlsafe(16)
    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            user_id = s.scalars(select(StaffUser.id).where(StaffUser.username == username)).one()
            ticket = auth.issue_ticket(s, user_id, "login")
            assert auth.bind_login_ticket(s, ticket, browser)
            s.commit()
    finally:
        engine.dispose()
    response = complete_login(live.url, ticket, browser)
    assert response.status_code == 303, response.text
    token = response.cookies.get("dpa_session")
    assert token, "no session cookie set"
    return f"dpa_session={token}"


def session_id_of(live: LiveServer, cookie: str) -> int:
    """The login_session row behind a ``dpa_session=<token>`` cookie."""
    from sqlalchemy import select
    from sqlmodel import Session

    from dpa_panel.db import make_engine
    from dpa_panel.models import LoginSession
    from dpa_panel.services import auth

    engine = make_engine(live.db_url)
    try:
        with Session(engine) as s:
            digest = auth.token_hash(cookie.split("=", 1)[1])
            return s.scalars(select(LoginSession.id).where(LoginSession.token_hash == digest)).one()
    finally:
        engine.dispose()
