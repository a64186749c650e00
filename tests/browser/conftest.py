"""Browser tests: the real production build served by ``reflex run``, driven by Chromium.

One server per test session (the build is the slow part), on a free port, against a fresh
SQLite database with demo data. Chromium is Debian's ``/usr/bin/chromium``; without it the
browser tests are skipped with a message saying so.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return resp.status, resp.read().decode("utf-8", "replace")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of the panel built and served in production mode."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DPA_DATABASE_URL": f"sqlite:///{tmp / 'panel.db'}",
        "DPA_PORT": str(port),
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
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _context(browser, viewport, locale: str | None):
    ctx = browser.new_context(viewport=viewport)
    if locale:
        ctx.add_init_script(f"window.localStorage.setItem('dpa_locale', '{locale}')")
    return ctx


@pytest.fixture
def new_page(browser, live_server):
    """Factory: ``new_page(locale=None, viewport=DESKTOP)`` -> a fresh page (own context)."""
    contexts = []

    def make(locale: str | None = None, viewport: dict | None = None):
        ctx = _context(browser, viewport or DESKTOP, locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under artifacts/screenshots/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
