"""SIGKILL a real child process at a chosen moment, for the kill tests (backup, restore, audit
link). The tests poll for the moment — a marker file written by ``backup.pause_for_kill_test``,
or any condition such as "the linker waits on a lock" — so there is no fixed sleep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition: Callable[[], bool], what: str, *,
             proc: subprocess.Popen | None = None, timeout_s: float = 240) -> None:  # fmt: skip
    """Poll ``condition`` until it holds; fail if ``proc`` ends first or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"{proc.args} ended (exit {proc.returncode}) before {what}: {err!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval, not a wait for the other side's progress


def kill_when(args: list[str], env: dict[str, str], ready: Callable[[], bool], what: str) -> int:
    """Start ``python <args>``, wait until ``ready()``, SIGKILL it; returns its pid. The child
    must have been killed, not have ended on its own."""
    proc = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(ready, what, proc=proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def kill_at_pause_point(args: list[str], env: dict[str, str], point: str, marker: Path) -> None:
    """``kill_when`` the child stops at ``point`` (``DPA_TEST_PAUSE_AT``) and has written its
    pid to ``marker``; the marker is removed afterwards."""
    env = {**env, "DPA_TEST_PAUSE_AT": point, "DPA_TEST_PAUSE_MARKER": str(marker)}
    pid = kill_when(args, env, lambda: marker.exists() and marker.read_text() != "", point)
    assert marker.read_text() == str(pid)
    marker.unlink()
