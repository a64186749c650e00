"""SIGKILL a real backup or restore at chosen points (issue 15, hole 8).

Afterwards no plaintext copy of the database may exist anywhere under the backup folder, the
process's temp folder or the restore target's folder, and a killed restore must have left
the target untouched; the next run then completes and is fully checked. The process stops at
each point by itself (``DPA_TEST_PAUSE_AT``, see ``backup.pause_for_kill_test``) and writes a
marker file; the test polls for the marker, so there is no fixed sleep.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dpa_panel.db import dispose_engines, make_engine
from dpa_panel.services import backup
from tests.dbutil import fresh_database
from tests.kill_helpers import kill_at_pause_point
from tests.test_backup import _seed, _snapshot

ROOT = Path(__file__).resolve().parent.parent
PLAINTEXT_MAGICS = (b"SQLite format 3\x00", b"PGDMP")


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DPA_DATABASE_URL": url,
        "DPA_BACKUP_DIR": str(tmp_path / "backups"),
        "TMPDIR": str(tmp_path / "tmp"),
        **extra,
    }
    env.pop("DPA_TEST_PAUSE_AT", None)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dpa_panel.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _run_and_kill(args: list[str], env: dict[str, str], point: str, marker: Path) -> None:
    """Start the command, wait until it stops at ``point``, SIGKILL it."""
    kill_at_pause_point(["-m", "dpa_panel.cli", *args], env, point, marker)


def _plaintext_files(folders: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if any(data.startswith(m) for m in PLAINTEXT_MAGICS) or any(n in data for n in needles):
                found.append(str(path))
    return found


def _needles(url: str) -> list[bytes]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT surname, phone FROM data_subject LIMIT 5")).all()
    finally:
        eng.dispose()
    return [value.encode("utf-8") for row in rows for value in row if value and len(value) > 4]


@pytest.fixture
def source(db_url, tmp_path, monkeypatch):
    key = backup.generate_key()
    monkeypatch.setenv("DPA_BACKUP_KEY", key)
    monkeypatch.setenv("DPA_BACKUP_DIR", str(tmp_path / "backups"))
    _seed(db_url)
    yield {"url": db_url, "key": key}
    dispose_engines()


def test_killed_backup_leaves_no_plaintext(source, db_kind, tmp_path):
    env = _env(tmp_path, source["url"], DPA_BACKUP_KEY=source["key"])
    needles = _needles(source["url"])
    folders = [tmp_path / "backups", tmp_path / "tmp"]
    for point in ("backup.copied", "backup.encrypting"):
        _run_and_kill(["backup"], env, point, tmp_path / "marker")
        assert _plaintext_files(folders, needles) == [], point
        assert not list((tmp_path / "backups").glob("*.dpabak"))  # no finished file either
    # A legacy plaintext folder (what the old code left on a kill) goes at the next start.
    legacy = tmp_path / "backups" / "dpa-backup-abc123"
    legacy.mkdir(parents=True)
    (legacy / "copy.db").write_bytes(PLAINTEXT_MAGICS[0] + needles[0])
    assert _plaintext_files(folders, needles) == [str(legacy / "copy.db")]  # the scan can fail
    done = _run(["backup"], env)
    assert done.returncode == 0, done.stderr
    assert not legacy.exists()
    assert _plaintext_files(folders, needles) == []
    (made,) = (tmp_path / "backups").glob("*.dpabak")
    assert backup.verify_file(made, backup.parse_key(source["key"]))["engine"] == db_kind


def test_killed_restore_leaves_target_untouched_and_no_plaintext(source, db_kind, tmp_path):
    out = tmp_path / "backups" / "b.dpabak"
    backup.create_backup(out=out, record=False)
    counts, head = _snapshot(source["url"])
    needles = _needles(source["url"])
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    folders = [tmp_path / "backups", tmp_path / "tmp", target_dir]
    with fresh_database(db_kind, target_dir) as target:
        env = _env(tmp_path, target, DPA_BACKUP_KEY=source["key"])
        for point in ("restore.loaded", "restore.checked"):
            _run_and_kill(["restore", str(out)], env, point, tmp_path / "marker")
            assert backup.database_is_empty(target), f"killed at {point}: target changed"
            assert _plaintext_files(folders, needles) == [], point
        done = _run(["restore", str(out)], env)
        assert done.returncode == 0, done.stderr
        assert "audit chain verified" in done.stdout
        restored, restored_head = _snapshot(target)
        assert restored == {**counts, "audit_event": counts["audit_event"] + 1}
        assert restored_head["event_count"] == head["event_count"] + 1
        assert _run(["audit", "verify"], env).returncode == 0

        # Replacing a live database (--yes): a kill after the checks, just before the commit,
        # leaves the previous content exactly as it was.
        before = _snapshot(target)
        _run_and_kill(["restore", str(out), "--yes"], env, "restore.checked", tmp_path / "m2")
        assert _snapshot(target) == before
        assert _run(["audit", "verify"], env).returncode == 0
        dispose_engines()
