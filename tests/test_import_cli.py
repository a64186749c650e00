"""``dpa-panel import`` as an operator runs it (issue 21): a dry run writes nothing, the import
writes once, the same file again says so, a bad file exits 1 with its reason, a corrected
column mapping on the command line, the report and the re-consent list as .xlsx files."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from openpyxl import load_workbook
from sqlalchemy import func, select

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import AuditEvent, DataSubject, ImportBatch, OutboxMessage
from tests.import_files import KK_HEADER, KK_ROWS, RU_HEADER, RU_ROWS, xlsx


def _run(db_url, *args):
    env = {"DPA_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "dpa_panel.cli", "import", *args], env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def _subjects(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(DataSubject))


def test_import_members_from_the_command_line(db_url, engine, tmp_path):
    path = tmp_path / "тізілім.xlsx"
    path.write_bytes(xlsx(RU_HEADER, [r for r, _ in RU_ROWS]))
    report = tmp_path / "report.xlsx"

    dry = _run(db_url, "members", str(path), "--dry-run", "--language", "ru",
               "--report", str(report))  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout
    assert f"{tr('ru', 'import.count.accepted')}: 3" in dry.stdout
    assert tr("ru", "import.duplicate_in_file", row=2) in dry.stdout
    assert _subjects(engine) == 0
    rows = list(load_workbook(io.BytesIO(report.read_bytes())).worksheets[0].values)
    assert len(rows) == 1 + 8

    done = _run(db_url, "members", str(path), "--language", "en")
    assert done.returncode == 0, done.stderr
    assert tr("en", "import.done", count=3, consents=1) in done.stdout
    assert _subjects(engine) == 3

    again = _run(db_url, "members", str(path), "--language", "en")
    assert again.returncode == 0 and "nothing was added" in again.stdout
    assert _subjects(engine) == 3
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 1
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("import.%")))
        assert sorted(actions) == ["import.completed", "import.previewed"]

    out = tmp_path / "reconsent.xlsx"
    listed = _run(db_url, "reconsent", str(out))
    assert listed.returncode == 0, listed.stderr
    sheet = list(load_workbook(io.BytesIO(out.read_bytes())).worksheets[0].values)
    assert sorted(r[3] for r in sheet[1:]) == ["aigul@mail.kz", "erlan@mail.kz"]


def test_bad_file_and_a_corrected_mapping(db_url, engine, tmp_path):
    bad = tmp_path / "photo.xlsx"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    run = _run(db_url, "members", str(bad), "--language", "kk")
    assert run.returncode == 1 and tr("kk", "import.bad.not_spreadsheet") in run.stderr

    header = list(KK_HEADER)
    header[3] = "Байланыс"  # not a known name for the phone column
    path = tmp_path / "kk.xlsx"
    path.write_bytes(xlsx(header, KK_ROWS))
    missing = _run(db_url, "members", str(path), "--language", "kk")
    assert missing.returncode == 1 and tr("kk", "subject.phone") in missing.stderr
    fixed = _run(db_url, "members", str(path), "--map", "Байланыс=phone")
    assert fixed.returncode == 0, fixed.stderr
    assert _subjects(engine) == 2


def test_reconsent_invitations_from_the_command_line(db_url, engine, tmp_path):
    """``--invite`` queues one e-mail per listed member with an address, once; the list file
    is still written when OUT is given."""
    path = tmp_path / "reg.xlsx"
    path.write_bytes(xlsx(RU_HEADER, [r for r, _ in RU_ROWS]))
    assert _run(db_url, "members", str(path)).returncode == 0
    out = tmp_path / "reconsent.xlsx"
    first = _run(db_url, "reconsent", str(out), "--invite", "--language", "en")
    assert first.returncode == 0, first.stderr
    assert tr("en", "import.invite_done", queued=2, already=0) in first.stdout
    assert out.exists()
    again = _run(db_url, "reconsent", "--invite", "--language", "en")
    assert again.returncode == 0, again.stderr
    assert tr("en", "import.invite_done", queued=0, already=2) in again.stdout
    with session_scope(engine) as s:
        mails = s.execute(select(OutboxMessage.recipient, OutboxMessage.body)
                          .where(OutboxMessage.purpose == "reconsent")).all()  # fmt: skip
        like = AuditEvent.action.like("import.reconsent%")
        actions = sorted(s.scalars(select(AuditEvent.action).where(like)))
    assert sorted(r for r, _ in mails) == ["aigul@mail.kz", "erlan@mail.kz"]
    assert all("/my" in body for _, body in mails)
    assert actions == ["import.reconsent_exported", "import.reconsent_invited",
                       "import.reconsent_invited"]  # fmt: skip
    nothing = _run(db_url, "reconsent")
    assert nothing.returncode == 1 and "--invite" in nothing.stderr
