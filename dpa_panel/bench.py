"""``make bench``: seed N synthetic subjects into throw-away databases and time operations.

Prints one line per measured operation: ``name  engine  N  median_ms  (runs)``. SQLite always;
PostgreSQL when ``DPA_BENCH_PG_URL`` (default: the local test server) answers — a fresh
database is created and dropped. Each later capability registers its operations in
``OPERATIONS`` so the figures stay comparable from issue to issue.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from dpa_panel import demo, migrate
from dpa_panel.db import make_engine

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

#: name -> function(engine, n) timed several times; the median is reported.
OPERATIONS: dict[str, Callable[[Engine, int], object]] = {}


def operation(name: str):
    def register(fn):
        OPERATIONS[name] = fn
        return fn

    return register


@operation("count subjects by status (GROUP BY)")
def _count_by_status(engine: Engine, _n: int):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT status, COUNT(*) FROM membership_application GROUP BY status")
        ).all()


@contextmanager
def _database(kind: str, tmp: Path, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"dpa_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_reachable(pg_url: str) -> str | None:
    try:
        engine = create_engine(pg_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0]


def _line(name: str, engine_name: str, n: int, ms: float, runs: int) -> str:
    return f"{name:<48} {engine_name:<10} N={n:<8} median {ms:10.1f} ms  ({runs} runs)"


def run(kind: str, n: int, runs: int, pg_url: str) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp), pg_url) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            demo.seed_subjects(engine, n)
            lines.append(_line("seed subjects (bulk insert)", kind, n,
                               (time.perf_counter() - started) * 1000, 1))
            print(lines[-1], flush=True)
            for name, fn in OPERATIONS.items():
                timings = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    fn(engine, n)
                    timings.append((time.perf_counter() - t0) * 1000)
                lines.append(_line(name, kind, n, statistics.median(timings), runs))
                print(lines[-1], flush=True)
        finally:
            engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    args = parser.parse_args(argv)
    run("sqlite", args.subjects, args.runs, args.pg_url)
    reason = _pg_reachable(args.pg_url)
    if reason:
        print(f"postgresql: SKIPPED — not reachable at {args.pg_url}: {reason}")
    else:
        run("postgresql", args.subjects, args.runs, args.pg_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
