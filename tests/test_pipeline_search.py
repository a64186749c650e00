"""The pipeline search's capped count (issue 19, decision 19-search-1), on both engines.

A name search in date order stops counting at ``offset + SEARCH_COUNT_CAP + 1`` matches; its
pages must hold exactly the rows of a straightforward reference (here: Python over every row),
for random terms, filters, sorts and page sizes, on both sides of the cap.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session

from dpa_panel import demo
from dpa_panel.services import applications
from dpa_panel.services.applications import ApplicationQuery
from dpa_panel.state.paging import capped_summary, page_count
from tests.pipeline_helpers import set_subject_status

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FIELDS = ("surname", "first_name", "patronymic", "email", "workplace")


def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "").casefold().replace("ё", "е")


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def rows(engine):
    demo.seed_staff(engine)
    demo.seed_subjects(engine, 300, now=NOW)
    with engine.connect() as conn:
        subjects = conn.execute(text("SELECT id FROM data_subject ORDER BY id")).scalars().all()
    for subject_id, status in zip(subjects[::37], ("blocked", "destroyed") * 5, strict=False):
        set_subject_status(engine, subject_id, status)  # hidden from every list
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text(
                    "SELECT a.id, a.reference, a.submitted_at, a.status, s.status AS subject, "
                    "s.surname, s.first_name, s.patronymic, s.email, s.workplace "
                    "FROM membership_application a JOIN data_subject s ON s.id = a.subject_id"
                )
            ).mappings()
        ]


def _expected(rows, term: str, status: str, sort: str) -> list[int]:
    folded = _fold(" ".join(term.split()))
    hits = [
        r
        for r in rows
        if r["subject"] == "active"
        and (not status or r["status"] == status)
        and (
            any(folded in _fold(r[name]) for name in FIELDS)
            or folded.upper() in r["reference"]
        )
    ]
    hits.sort(key=lambda r: (_aware(r["submitted_at"]), r["id"]), reverse=sort != "submitted_asc")
    return [r["id"] for r in hits]


@pytest.mark.parametrize("budget", [10_000, 100], ids=["walk", "small-sqlite-window"])
def test_capped_pages_hold_exactly_the_reference_rows(engine, rows, monkeypatch, budget):
    """``small-sqlite-window``: SQLite tests only the first 100 applications in page order,
    then falls back to the uncapped query — common terms finish inside the window, rare
    ones fall back; both must give the reference rows."""
    cap = 7
    monkeypatch.setattr(applications, "SEARCH_COUNT_CAP", cap)
    monkeypatch.setattr(applications, "SQLITE_WALK_BUDGET", budget)
    monkeypatch.setattr(applications, "SQLITE_WALK_PER_MATCH", 1)
    outcomes = []
    walk = applications._capped_search
    monkeypatch.setattr(
        applications,
        "_capped_search",
        lambda *a: outcomes.append(result := walk(*a)) or result,
    )
    rng = random.Random(19)
    words = [_fold(r[name]) for r in rows for name in ("surname", "first_name", "email")]
    terms = ["ов", "ОВА", "gmail", "ё", "zzzq-none"]
    for _ in range(12):
        word = rng.choice(words)
        start = rng.randrange(max(1, len(word) - 2))
        terms.append(word[start : start + rng.choice((2, 3, 4))])
    checked_capped = checked_exact = 0
    with Session(engine) as s:
        for term in terms:
            status = rng.choice(("", "", "approved", "submitted", "rejected"))
            sort = rng.choice(("submitted_desc", "submitted_asc"))
            size = rng.choice((3, 5, 50))
            expected = _expected(rows, term, status, sort)
            page = 1
            while True:
                q = ApplicationQuery(search=term, status=status, sort=sort, page=page,
                                     page_size=size)  # fmt: skip
                found, total = applications.list_applications(s, q)
                offset = (page - 1) * size
                where = (term, status, sort, size, page)
                assert [r.id for r in found] == expected[offset : offset + size], where
                if getattr(total, "more", False):  # counting stopped at the cap
                    assert len(expected) > offset + max(cap, size), where
                    assert total == offset + max(cap, size) + 1, where
                    # the pager can always move on while rows remain
                    assert page_count(total, size) > page, where
                    checked_capped += 1
                else:  # exact: few enough matches, or SQLite fell back to the full count
                    assert total == len(expected), where
                    if budget == 10_000:
                        assert len(expected) <= offset + max(cap, size), where
                    checked_exact += 1
                if offset + size >= len(expected):
                    break
                page += 1
    assert checked_capped and checked_exact  # both sides of the cap were exercised
    if engine.dialect.name == "sqlite" and budget == 100:  # the window held enough, or not
        assert None in outcomes and any(o is not None and o[1].more for o in outcomes)


def test_cap_boundary_exactly(engine, rows, monkeypatch):
    """``cap`` matches past the offset is exact; ``cap + 1`` says "more than cap"."""
    term = "ов"
    expected = _expected(rows, term, "", "submitted_desc")
    assert len(expected) > 12
    with Session(engine) as s:
        for cap, more in ((len(expected), False), (len(expected) - 1, True)):
            monkeypatch.setattr(applications, "SEARCH_COUNT_CAP", cap)
            q = ApplicationQuery(search=term, page_size=5)
            found, total = applications.list_applications(s, q)
            assert [r.id for r in found] == expected[:5]
            assert (int(total), getattr(total, "more", False)) == (len(expected), more)
        # Past the end: nothing, and the exact count.
        q = ApplicationQuery(search=term, page=len(expected) // 5 + 2, page_size=5)
        assert applications.list_applications(s, q) == ([], len(expected))


def test_capped_summary_is_localised_and_says_more_than():
    assert capped_summary("en", 201, 1) == "More than 200 found · page 1"
    ru = capped_summary("ru", 1201, 3)
    assert ru.startswith("Найдено более 1") and ru.endswith("200 · стр. 3")
    assert "астам" in capped_summary("kk", 201, 1)
