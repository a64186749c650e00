"""Core statements compiled once per dialect and run on the connection's DBAPI cursor.

For the few hot loops that run thousands of small transactions (the retention sweep: about a
dozen statements per subject, one transaction each): SQLAlchemy's per-execute work (cache
lookup, parameter construction, execution context, result wrapper) costs several times the
database's own work for such statements. ``Prepared`` keeps what matters from SQLAlchemy —
the statement is still a Core construct, compiled by the dialect, with the column types' bind
and result processors (``UTCDateTime`` included) — and skips the rest.

The statements run in the connection's current transaction (the caller's ``conn.begin()`` or
session), exactly like ``conn.execute``. Use explicit ``bindparam`` names for every value
(INSERTs too: ``insert(t).values(col=bindparam("b_col"))``), so the compiled SQL does not
depend on which parameters a call passes. Refused: ``IN`` lists (expanding parameters), and
statements that would need Python-side column defaults (an INSERT that leaves out a column
with ``default=``, an UPDATE of a table with ``onupdate=``): SQLAlchemy's execution context
computes those, and Prepared bypasses it.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement


class _Plan:
    __slots__ = ("sql", "names", "defaults", "binders", "row", "readers")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.has_out_parameters or getattr(compiled, "literal_execute_params", None):
            raise ValueError("statement not supported by Prepared")
        prefetch = [c.name for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if prefetch:
            # Python-side column defaults (``default=``/``onupdate=``, e.g. the derived
            # statistics keys) are computed by SQLAlchemy's execution context, which Prepared
            # bypasses: name every such column in the statement, or use ``conn.execute``.
            raise ValueError(f"Prepared would skip the Python-side defaults of {prefetch}")
        self.sql: str = compiled.string
        #: positional paramstyles: the bind names in order (a name may repeat)
        self.names: list[str] | None = (
            list(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self.defaults: dict[str, Any] = {}
        self.binders: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            if bind.expanding:
                raise ValueError("expanding (IN list) parameters are not supported by Prepared")
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                if proc is not None:
                    self.binders[name] = proc
            else:  # a literal value given in the statement: processed once, here
                value = bind.effective_value
                self.defaults[name] = proc(value) if proc is not None else value
        self.row = None
        self.readers: list | None = None
        if getattr(stmt, "is_select", False):
            cols = [(c.key, c.type) for c in stmt.selected_columns]
        elif getattr(stmt, "is_dml", False):
            cols = [(d["name"], d["type"]) for d in stmt.returning_column_descriptions]
        else:
            cols = []
        if cols:
            self.row = namedtuple("Row", [name for name, _ in cols], rename=True)
            self.readers = [t.dialect_impl(dialect).result_processor(dialect, None)
                            for _, t in cols]  # fmt: skip

    def args(self, params: dict[str, Any] | None) -> Any:
        values = dict(self.defaults)
        if params:
            for name, value in params.items():
                binder = self.binders.get(name)
                values[name] = value if binder is None else binder(value)
        if self.names is None:
            return values
        return [values[n] for n in self.names]

    def convert(self, raw_rows: list) -> list:
        readers = self.readers or ()
        if not any(readers):
            return [self.row._make(r) for r in raw_rows]
        return [
            self.row._make([v if f is None else f(v) for f, v in zip(readers, r, strict=True)])
            for r in raw_rows
        ]


class Prepared:
    """A Core statement, compiled on first use for each dialect."""

    __slots__ = ("stmt", "_plans")

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def _plan(self, conn: Connection) -> _Plan:
        dialect = conn.dialect
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = _Plan(self.stmt, dialect)
        return plan

    def execute(self, conn: Connection, params: dict[str, Any] | None = None) -> int:
        """Run a DML statement without RETURNING; returns the rowcount."""
        plan = self._plan(conn)
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute(plan.sql, plan.args(params))
            return cur.rowcount
        finally:
            cur.close()

    def executemany(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        plan = self._plan(conn)
        if len(params) == 1:
            self.execute(conn, params[0])
            return
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.executemany(plan.sql, [plan.args(p) for p in params])
        finally:
            cur.close()

    def rows(self, conn: Connection, params: dict[str, Any] | None = None) -> list:
        """Run a SELECT (or DML ... RETURNING); the rows as named tuples, values processed by
        the column types like ``conn.execute`` would."""
        plan = self._plan(conn)
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute(plan.sql, plan.args(params))
            return plan.convert(cur.fetchall())
        finally:
            cur.close()

    def first(self, conn: Connection, params: dict[str, Any] | None = None):
        rows = self.rows(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: dict[str, Any] | None = None):
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None


def insert_rows(conn: Connection, table, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT many rows of ``table`` (every column but the integer ``id`` given, in each row);
    returns their ids in the order of ``rows``.

    Derived keys (``models.types.derived_columns``) are computed here as the column defaults
    would. SQLite (only in a transaction that has already written, i.e. holds the write lock):
    ids from ``max(id) + 1`` on, one executemany. Other engines: INSERT ... RETURNING. On
    PostgreSQL: one ``INSERT ... SELECT FROM unnest(<one array per column>) ORDER BY
    ordinality`` — the same SQL for every batch (a VALUES list of thousands of parameters is a
    new statement to parse each time); ids come from the sequence in that order. The arrays
    go in binary (``%(name)b``): psycopg's text format quotes every element with a regular
    expression, which took a fifth of the PostgreSQL sweep's time (issue 19, 19-sweep-8)."""
    from sqlalchemy import insert

    from dpa_panel.models.types import derived_columns

    if not rows:
        return []
    derived = derived_columns(table)
    if derived:
        rows = [
            {**r, **{c.key: fn(*(r[s] for s in src)) for c, fn, src in derived}} for r in rows
        ]
    dialect = conn.dialect
    if dialect.name == "sqlite":
        # The caller's transaction has written already, so it holds the database's one write
        # lock: nobody else can take ids meanwhile. Explicit ids make it one executemany (an
        # INSERT ... RETURNING whose row order must be kept runs row by row on SQLite).
        from sqlalchemy import func, select

        first = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        conn.execute(insert(table), [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
        return ids
    if dialect.name != "postgresql":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    names = [c.key for c in table.columns if c.key != "id"]
    cache = _INSERT_SQL.setdefault(dialect, {})
    sql = cache.get(table.name)
    if sql is None:
        q = dialect.identifier_preparer.quote
        casts = [f"%({n})b::{table.c[n].type.compile(dialect=dialect)}[]" for n in names]
        cols = ", ".join(q(n) for n in names)
        sql = cache[table.name] = (
            f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM unnest({', '.join(casts)})"
            f" WITH ORDINALITY AS v({cols}, _n) ORDER BY _n RETURNING id"
        )
    params = {}
    for n in names:
        proc = table.c[n].type.dialect_impl(dialect).bind_processor(dialect)
        values = [r[n] for r in rows]
        params[n] = [proc(v) for v in values] if proc is not None else values
    return sorted(r[0] for r in conn.exec_driver_sql(sql, params))


_INSERT_SQL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class RowUpdate:
    """One UPDATE per row by id, for a batch of rows: ``Prepared.executemany`` on SQLite (in
    process, cheap); on PostgreSQL one ``UPDATE ... FROM unnest(<one array per column>)`` for
    the whole batch (a pipelined executemany still parses, plans and runs one statement per
    row). ``fixed``: SQL assignments shared by every row — the same as ``prepared``'s. The
    arrays go in binary, as in ``insert_rows``."""

    def __init__(self, prepared: Prepared, table: str, key: str, fixed: dict[str, str],
                 columns: dict[str, tuple[str, str]]) -> None:  # fmt: skip
        self.prepared, self.table, self.key = prepared, table, key
        self.fixed, self.columns = fixed, columns
        self._sql: str | None = None

    def pg_sql(self, dialect) -> str:
        if self._sql is None:
            q = dialect.identifier_preparer.quote
            sets = [f"{q(col)} = {value}" for col, value in self.fixed.items()]
            sets += [f"{q(col)} = v.{p}" for p, (col, _) in self.columns.items()]
            names = [self.key, *self.columns]
            arrays = [f"%({self.key})b::bigint[]"]
            arrays += [f"%({p})b::{typ}[]" for p, (_, typ) in self.columns.items()]
            self._sql = (
                f"UPDATE {q(self.table)} AS t SET {', '.join(sets)} "
                f"FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) "
                f"WHERE t.id = v.{self.key}"
            )
        return self._sql

    def run(self, conn, rows: list[dict[str, Any]]) -> None:
        if conn.dialect.name != "postgresql" or len(rows) < 2:
            self.prepared.executemany(conn, rows)
            return
        params = {name: [r[name] for r in rows] for name in (self.key, *self.columns)}
        conn.exec_driver_sql(self.pg_sql(conn.dialect), params)
