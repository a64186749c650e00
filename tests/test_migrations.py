"""Alembic is the only way the schema changes: upgrade/downgrade on both engines, no drift."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import dpa_panel.models  # noqa: F401
from dpa_panel import migrate
from dpa_panel.db import make_engine
from dpa_panel.services.policy_texts import load_edition, text_sha256


def test_upgrade_head_then_downgrade_base(empty_db_url):
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
    finally:
        engine.dispose()

    migrate.downgrade(empty_db_url, "base")
    engine = make_engine(empty_db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert migrate.current_revision(empty_db_url) is None

    # And up again: downgrade left nothing behind that blocks a re-upgrade.
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()


def test_models_match_migrations(db_url):
    """No table, column, index or type exists in the models that a migration does not create."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_purposes_seeded_from_policy_clause_3(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, identifiable, asked_on_form, required_on_form FROM purpose "
                "WHERE code <> 'transfer' ORDER BY sort_order"
            )
        ).all()
        # Clause 5.1 written consents to a transfer (0006): never asked on the public form.
        transfer = conn.execute(
            text("SELECT identifiable, asked_on_form FROM purpose WHERE code = 'transfer'")
        ).one()
    assert (bool(transfer.identifiable), bool(transfer.asked_on_form)) == (True, False)
    assert [r.code for r in rows] == [
        "application_review",
        "member_register",
        "informing",
        "feedback",
        "statistics",
    ]
    flags = {r.code: (bool(r.identifiable), bool(r.asked_on_form)) for r in rows}
    assert flags["statistics"] == (False, False), "statistics may never hold identifiable data"
    assert all(
        flags[c] == (True, True)
        for c in ("application_review", "member_register", "informing", "feedback")
    )
    assert [r.code for r in rows if r.required_on_form] == ["application_review"]


def test_policy_version_1_is_the_kazakh_original(engine):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM policy_version WHERE label = 'v1'")).mappings().one()
    edition = load_edition("v1")
    assert str(row["effective_date"]) == "2025-05-27"
    assert row["text_kk"] == edition.texts["kk"]
    assert row["sha256"] == text_sha256(row["text_kk"])
    assert row["sha256_ru"] == text_sha256(row["text_ru"])
    assert row["sha256_en"] == text_sha256(row["text_en"])
    assert "Құпиялылық саясаты" in row["text_kk"]
    assert "Политика конфиденциальности" in row["text_ru"]
    assert "Privacy Policy" in row["text_en"]
