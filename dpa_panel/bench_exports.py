"""``make bench``, group ``disclosures`` (issues 18/19): the disclosure log as people download
it — through the registry (``dpa_panel.exports``: labels, Almaty times, the ``export.file``
audit event), CSV and XLSX — and, for comparison, the same rows written by openpyxl's
write-only mode (the XLSX writer before issue 19). Target from issue 19: the XLSX of 10,000
rows in < 1.5 s on both engines.

The registry's streams use the application's configured database, so each operation points
``DPA_DATABASE_URL`` at the bench's database for its run (``db.get_engine`` keys its engines
by URL).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy.engine import Engine

#: The bench user the export is audited as (``demo.seed_staff`` creates id 1).
USER_ID = 1


def _through_registry(engine: Engine, kind: str) -> int:
    from dpa_panel.exports import EXPORTS

    url = engine.url.render_as_string(hide_password=False)
    old = os.environ.get("DPA_DATABASE_URL")
    os.environ["DPA_DATABASE_URL"] = url
    try:
        size = sum(len(c) for c in EXPORTS[kind].stream({"kind": kind, "language": "ru"}, USER_ID))
    finally:
        if old is None:
            os.environ.pop("DPA_DATABASE_URL", None)
        else:
            os.environ["DPA_DATABASE_URL"] = old
    assert size > 0
    return size


def _openpyxl_write_only(engine: Engine) -> int:
    """The same labelled rows through openpyxl's write-only mode (``tabular.XlsxBook``)."""
    import io

    from sqlmodel import Session

    from dpa_panel.services import disclosure_exports as files
    from dpa_panel.services import disclosures as ds
    from dpa_panel.services import tabular

    with Session(engine) as session:
        table = files.LogTable(session, ds.DisclosureFilter(), "ru")
        book = tabular.XlsxBook()
        book.sheet("log", table.header, widths=table.widths).rows(table.rows())
        out = io.BytesIO()
        book.save(out)
    return len(out.getvalue())


def register(operation: Callable, n: int) -> None:
    operation(f"disclosure log CSV via registry ({n:,})", group="disclosures", runs=3)(
        lambda engine, _n: _through_registry(engine, "disclosure_log_csv"))
    operation(f"disclosure log XLSX via registry ({n:,})", group="disclosures", runs=3)(
        lambda engine, _n: _through_registry(engine, "disclosure_log_xlsx"))
    operation(f"disclosure log XLSX, openpyxl write-only ({n:,})", group="disclosures",
              runs=3)(lambda engine, _n: _openpyxl_write_only(engine))  # fmt: skip
