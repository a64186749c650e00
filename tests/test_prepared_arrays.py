"""``services.prepared``'s batch writers keep every value exactly (issue 19, 19-sweep-8).

``insert_rows`` and ``RowUpdate`` send one array per column on PostgreSQL, in binary; on
SQLite they run an executemany. Values that a text array would have to quote or escape —
quotes, backslashes, braces, commas, the word NULL, Kazakh, emoji, empty strings — and real
NULLs, times and large integers must come back as they went in, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    select,
    update,
)

from dpa_panel.services.prepared import Prepared, RowUpdate, insert_rows

AWKWARD = ['q"uote', "back\\slash", "{brace}", "a,b", "NULL", "", "Қазақ тілі ✓", "😀 x",
           "tab\there", "new\nline", "'single'", None]  # fmt: skip

_meta = MetaData()
_T = Table(
    "prepared_probe", _meta,
    Column("id", Integer, primary_key=True),
    Column("label", String(64), nullable=True),
    Column("body", Text, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
    Column("big", BigInteger, nullable=True),
)  # fmt: skip
_SET = RowUpdate(
    Prepared(update(_T).where(_T.c.id == bindparam("b_id"))
             .values(label=bindparam("b_label"), body="", big=bindparam("b_big"))),
    "prepared_probe", "b_id", {"body": "''"},
    {"b_label": ("label", "varchar"), "b_big": ("big", "bigint")},
)  # fmt: skip


@pytest.fixture
def probe(engine):
    _meta.create_all(engine)
    yield engine
    _meta.drop_all(engine)


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(_T).order_by(_T.c.id))]


def test_inserted_rows_keep_every_value_in_order(probe):
    start = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    rows = [
        {"label": text if text is None else text[:64], "body": text,
         "at": None if i % 5 == 4 else start + timedelta(microseconds=i),
         "big": None if i % 4 == 3 else 2**40 + i}
        for i, text in enumerate(AWKWARD)
    ]  # fmt: skip
    with probe.begin() as conn:
        ids = insert_rows(conn, _T, rows)
    assert ids == sorted(ids) and len(set(ids)) == len(rows)
    stored = _stored(probe)
    assert [r[0] for r in stored] == ids
    for (_, label, body, at, big), row in zip(stored, rows, strict=True):
        assert (label, body, big) == (row["label"], row["body"], row["big"])
        assert (at is None and row["at"] is None) or at.astimezone(UTC) == row["at"]


def test_row_updates_keep_every_value(probe):
    with probe.begin() as conn:
        ids = insert_rows(conn, _T, [{"label": "x", "body": "y", "at": None, "big": 1}
                                     for _ in AWKWARD])  # fmt: skip
    with probe.begin() as conn:
        _SET.run(conn, [{"b_id": i, "b_label": text, "b_big": None if n % 2 else -(2**50) - n}
                        for n, (i, text) in enumerate(zip(ids, AWKWARD, strict=True))])  # fmt: skip
    stored = _stored(probe)
    assert [r[1] for r in stored] == AWKWARD
    assert [r[2] for r in stored] == [""] * len(AWKWARD)  # the shared assignment
    assert [r[4] for r in stored] == [None if n % 2 else -(2**50) - n for n in range(len(ids))]
