"""``make bench``, group ``import`` (issue 21): a 10,000-row member spreadsheet checked (dry
run: read, map, validate every row, look for duplicates in the file and the register) and
imported (the same plus writing subjects, members, consents, retention dates and the one
audit event in one transaction), against the register the bench seeded.

The files are written by the one writer (``services.tabular``) before the timing starts; each
import run gets a file of its own (a file imported once is not imported again: idempotent).
Targets from the issue: import < 30 s, dry run < 10 s, on both engines.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

from dpa_panel.db import session_scope
from dpa_panel.services import member_import, tabular
from dpa_panel.services.audit import Actor

ROWS = 10_000
RUNS = 3
HEADER = ["ФИО", "Телефон", "E-mail", "Место работы", "Должность", "Сфера", "Дата вступления",
          "Статус", "Согласие на информирование: дата",
          "Согласие на информирование: номер документа", "Согласие на информирование: способ"]
_FILES: list[bytes] = []


def _file(tag: int, rows: int = ROWS) -> bytes:
    book = tabular.XlsxBook()
    sheet = book.sheet("Реестр", HEADER)
    for i in range(rows):
        evidence = (date(2025, 6, 1 + i % 28), f"Протокол {i}", "бумага") if i % 3 else ("", "", "")
        sheet.row([
            f"Импортов{tag} Имя{i} Отчество", f"8 70{tag % 10} {i // 10000:03d} {i % 10000:04d}",
            f"bench{tag}.{i}@import.kz", "ТОО Пример", "Специалист", "СМИ",
            date(2015 + i % 10, 1 + i % 12, 1 + i % 28), "Действует", *evidence,
        ])  # fmt: skip
    return book.to_bytes()


def prepare() -> None:
    """Write the dry-run file and one file per import run (outside the timings)."""
    _FILES[:] = [_file(tag) for tag in range(RUNS + 1)]


def _import_dry_run(engine: Engine, _n: int) -> int:
    loaded = member_import.load(_FILES[0], "bench.xlsx", "members")
    with session_scope(engine) as session:
        plan = member_import.plan(session, loaded)
    assert len(plan.accepted) == ROWS, plan.counts()
    return len(plan.accepted)


def _import_commit(engine: Engine, _n: int) -> int:
    data = _FILES.pop()
    loaded = member_import.load(data, "bench.xlsx", "members")
    with session_scope(engine) as session:
        outcome = member_import.commit(session, Actor.system(), loaded)
    assert outcome.written and len(outcome.plan.accepted) == ROWS, outcome.plan.counts()
    return ROWS


def register(operation) -> None:
    """Add this group's operations to the bench's registry (``dpa_panel.bench.operation`` of
    the running module: ``python -m dpa_panel.bench`` runs it as ``__main__``)."""
    operation("import 10,000-row xlsx: dry run (read + validate)", group="import",
              runs=RUNS)(_import_dry_run)  # fmt: skip
    operation("import 10,000-row xlsx: import (one transaction)", group="import",
              runs=RUNS)(_import_commit)  # fmt: skip
