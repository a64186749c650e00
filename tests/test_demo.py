"""The synthetic-data generator: realistic, internally consistent, fast, idempotent."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from dpa_panel import demo, migrate
from dpa_panel.db import make_engine
from dpa_panel.i18n import tr
from dpa_panel.models import vocab
from dpa_panel.services.policy_texts import text_sha256

PHONE = re.compile(r"^\+77\d{9}$")
EMAIL = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}$")
CYRILLIC = re.compile(r"^[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі-]+$")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _rows(conn, sql: str):
    return conn.execute(text(sql)).mappings().all()


def test_seeded_data_is_realistic_and_consistent(engine):
    report = demo.seed_subjects(engine, 1500, now=NOW)
    assert report.subjects == report.applications == 1500
    with engine.connect() as conn:
        subjects = _rows(conn, "SELECT * FROM data_subject")
        apps = {r["subject_id"]: r for r in _rows(conn, "SELECT * FROM membership_application")}
        members = _rows(conn, "SELECT * FROM member")
        consents = _rows(conn, "SELECT * FROM consent")

    assert len(subjects) == 1500
    for s in subjects:
        assert CYRILLIC.match(s["surname"]) and CYRILLIC.match(s["first_name"]), s
        assert PHONE.match(s["phone"]), s["phone"]
        assert EMAIL.match(s["email"]), s["email"]
        assert s["workplace_category"] in vocab.WORKPLACE_CATEGORIES
        assert s["education_level"] in vocab.EDUCATION_LEVELS
        assert s["position_level"] in vocab.POSITION_LEVELS
    assert sum(s["patronymic"] is None for s in subjects) > 0, "patronymic is optional"
    assert len({s["email"] for s in subjects}) == 1500, "e-mails are unique"

    statuses = {a["status"] for a in apps.values()}
    assert statuses == set(vocab.APPLICATION_STATUSES), statuses
    years = {
        a["submitted_at"].year
        if hasattr(a["submitted_at"], "year")
        else int(str(a["submitted_at"])[:4])
        for a in apps.values()
    }
    assert years == {2025, 2026}

    approved = {sid for sid, a in apps.items() if a["status"] == "approved"}
    assert {m["subject_id"] for m in members} == approved
    assert len({m["membership_number"] for m in members}) == len(members)
    assert all(re.match(r"^PRMA-20\d\d-\d{6}$", m["membership_number"]) for m in members)
    assert {m["status"] for m in members} == set(vocab.MEMBER_STATUSES)
    assert all((m["ended_at"] is None) == (m["status"] != "ended") for m in members)

    by_subject: dict[int, dict[str, dict]] = {}
    for c in consents:
        by_subject.setdefault(c["subject_id"], {})[c["purpose_code"]] = c
        assert c["consent_text"] == tr(c["language"], f"consent.sentence.{c['purpose_code']}")
        assert c["consent_text_sha256"] == text_sha256(c["consent_text"])
        assert c["purpose_code"] != "statistics", "statistics is never asked for"
    assert set(by_subject) == {s["id"] for s in subjects}, "no record without a consent (2.2)"
    assert all("application_review" in c for c in by_subject.values())
    for sid, app in apps.items():
        review = by_subject[sid]["application_review"]
        assert (review["withdrawn_at"] is not None) == (app["status"] == "withdrawn")
    withdrawn_informing = [
        c for c in consents if c["purpose_code"] == "informing" and c["withdrawn_at"] is not None
    ]
    assert withdrawn_informing, "some consents are withdrawn"


def test_seed_demo_is_idempotent(engine):
    first = demo.seed_demo(engine, subjects=40)
    assert first is not None and first.subjects == 40 and first.staff == len(demo.DEMO_ACCOUNTS)
    assert demo.seed_demo(engine, subjects=40) is None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM data_subject")).scalar() == 40
        roles = set(conn.execute(text("SELECT role FROM staff_user")).scalars())
    assert roles == set(vocab.ROLES), "one demo account per role at least"


def test_second_batch_continues_ids_and_sequences(engine):
    demo.seed_subjects(engine, 30, now=NOW)
    demo.seed_subjects(engine, 30, now=NOW)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(DISTINCT id) FROM data_subject")).scalar() == 60
        # The database's own id generator still works after explicit-id bulk inserts.
        conn.execute(
            text(
                "INSERT INTO data_subject (surname, first_name, phone, email, workplace, "
                "workplace_category, position, position_level, education_level, education, "
                "experience, other_info, language, status, created_at, updated_at) VALUES "
                "('Тест', 'Тест', '+77010000000', 't@example.kz', 'x', 'other', 'x', 'other', "
                "'other', '', '', '', 'kk', 'active', :now, :now)"
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
        assert conn.execute(text("SELECT MAX(id) FROM data_subject")).scalar() == 61


def test_hundred_thousand_subjects_under_a_minute_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'big.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        report = demo.seed_subjects(engine, 100_000, now=NOW)
        elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(text("data_subject"))).scalar()
    finally:
        engine.dispose()
    assert report.subjects == count == 100_000
    assert elapsed < 60, f"100,000 subjects took {elapsed:.1f} s"
