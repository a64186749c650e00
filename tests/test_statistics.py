"""Board statistics: SQL aggregates, suppression, differencing, folding, no personal columns."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import event, insert, select, update
from sqlmodel import Session

from dpa_panel import demo
from dpa_panel.models import (
    Consent,
    DataSubject,
    DestructionAct,
    Disclosure,
    Member,
    MembershipApplication,
    SubjectRequest,
)
from dpa_panel.models.types import almaty_month
from dpa_panel.models.vocab import PURPOSES
from dpa_panel.services import statistics as st

NOW = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Almaty")
K = 5
MARK = "<5"


def month(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m")


def body(table):
    return [row for row in table if row.get("period") != st.TOTAL]


# --- a hand-made population ------------------------------------------------------------------


def _subject(sid: int, **extra) -> dict:
    row = {
        "id": sid,
        "surname": f"Тестов{sid}",
        "first_name": "Айгүл",
        "patronymic": None,
        "phone": "+77010000000",
        "email": f"s{sid}@example.kz",
        "workplace": "«Тест Медиа»",
        "workplace_category": "media",
        "position": "Редактор",
        "position_level": "senior",
        "education_level": "bachelor",
        "language": "kk",
        "status": "active",
        "search_text": "",
        "created_at": datetime(2025, 6, 1, tzinfo=UTC),
        "updated_at": datetime(2025, 6, 1, tzinfo=UTC),
    }
    row.update(extra)
    return row


def add_applications(engine, spec: list[tuple[datetime, str, int]], *, first_id: int = 1000):
    """``spec``: (submitted_at, status, how many); one subject per application."""
    subjects, apps = [], []
    sid = first_id
    for submitted, status, n in spec:
        for _ in range(n):
            subjects.append(_subject(sid, created_at=submitted, updated_at=submitted))
            decided = submitted + timedelta(days=3) if status in ("approved", "rejected") else None
            apps.append(
                {
                    "id": sid,
                    "reference": f"A-T-{sid}",
                    "subject_id": sid,
                    "submitted_at": submitted,
                    "status": status,
                    "decision": status if decided else None,
                    "decided_at": decided,
                    "reason": "",
                    "language": "kk",
                    "updated_at": submitted,
                }
            )
            sid += 1
    with engine.begin() as conn:
        conn.execute(insert(DataSubject.__table__), subjects)
        conn.execute(insert(MembershipApplication.__table__), apps)
    return sid


def add_requests(engine, rows: list[tuple[datetime, datetime | None, date]], *, first_id=1):
    with engine.begin() as conn:
        conn.execute(
            insert(SubjectRequest.__table__),
            [
                {
                    "id": first_id + i,
                    "reference": f"R-T-{first_id + i}",
                    "kind": "access",
                    "requester": "Кто-то",
                    "contact": "x@example.kz",
                    "received_at": received,
                    "channel": "email",
                    "due_date": due,
                    "status": "answered" if answered else "received",
                    "answered_at": answered,
                    "created_at": received,
                    "updated_at": received,
                }
                for i, (received, answered, due) in enumerate(rows)
            ],
        )


def add_disclosures(
    engine,
    spec: list[tuple[datetime | None, str, int]],
    *,
    kind: str = "authority",
    status: str = "disclosed",
    first_id: int = 1,
) -> int:
    """``spec``: (disclosed_at, body_type, how many) register rows (Core INSERTs)."""
    rows = []
    n = first_id
    for disclosed_at, body_type, count in spec:
        for _ in range(count):
            at = disclosed_at or datetime(2025, 1, 5, tzinfo=UTC)
            rows.append(
                {
                    "id": n,
                    "reference": f"DR-T-{n:06d}",
                    "kind": kind,
                    "status": status,
                    "body_type": body_type,
                    "body_name": f"Орган {n}",
                    "body_department": "Бөлім",
                    "body_search": "",
                    "request_number": f"{n}/25",
                    "request_date": at.date(),
                    "received_via": "post",
                    "legal_basis": "Заң",
                    "legal_article": "11-бап",
                    "answer_due_on": at.date(),
                    "recipient": "",
                    "requested_categories": "[]",
                    "justifications": "{}",
                    "package_fields": "[]",
                    "created_at": at,
                    "updated_at": at,
                    "disclosed_at": disclosed_at,
                }
            )
            n += 1
    with engine.begin() as conn:
        conn.execute(insert(Disclosure.__table__), rows)
    return n


# --- the threshold ---------------------------------------------------------------------------


def test_k_defaults_to_5_and_is_clamped_at_3(monkeypatch):
    monkeypatch.delenv("DPA_STATS_K", raising=False)
    assert st.effective_k() == 5
    for raw, expected in (("1", 3), ("2", 3), ("3", 3), ("7", 7), ("nonsense", 5), ("", 5)):
        monkeypatch.setenv("DPA_STATS_K", raw)
        assert st.effective_k() == expected, raw
    assert st.effective_k(0) == 3 and st.effective_k(10) == 10
    assert st.marker(3) == "<3"


def test_quarter_needs_a_year():
    with pytest.raises(ValueError):
        st.StatsFilter(quarter=2)
    with pytest.raises(ValueError):
        st.StatsFilter(2025, 5)


# --- the suppression engine (no database) ----------------------------------------------------


def published_equations(rows, cols, got, *, row_totals=True, col_totals=True):
    """What an attacker can write down: each published line total = sum of its parts."""
    hidden = sorted(key for key, value in got.items() if isinstance(value, str))
    index = {key: i for i, key in enumerate(hidden)}
    equations = []

    def line(parts, total_key):
        coeffs, rhs = np.zeros(len(hidden)), 0.0
        for key in parts:
            if key in index:
                coeffs[index[key]] += 1
            else:
                rhs -= got[key]
        if total_key in index:
            coeffs[index[total_key]] -= 1
        else:
            rhs += got[total_key]
        equations.append((coeffs, rhs))

    if row_totals:
        for r in rows:
            line([(r, c) for c in cols], (r, st.TOTAL))
        if col_totals:
            line([(st.TOTAL, c) for c in cols], (st.TOTAL, st.TOTAL))
    if col_totals:
        for c in cols:
            line([(r, c) for r in rows], (st.TOTAL, c))
        if row_totals:
            line([(r, st.TOTAL) for r in rows], (st.TOTAL, st.TOTAL))
    return hidden, equations


def linearly_recoverable(hidden, equations):
    """The attack: hidden cells that linear algebra on the published totals pins down."""
    if not hidden or not equations:
        return []
    a = np.array([coeffs for coeffs, _ in equations])
    rank = np.linalg.matrix_rank(a)
    out = []
    for i, key in enumerate(hidden):
        unit = np.zeros(len(hidden))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(key)
    return out


def bounded_solutions(hidden, equations, upper):
    """Brute force: every assignment of 1..upper to the hidden cells meeting the totals."""
    found = []
    for values in itertools.product(range(1, upper + 1), repeat=len(hidden)):
        x = np.array(values, dtype=float)
        if all(abs(coeffs @ x - rhs) < 1e-9 for coeffs, rhs in equations):
            found.append(values)
    return found


def test_small_cells_are_hidden_zero_is_shown_and_totals_too():
    got = st.suppress_block(["a"], ["x", "y", "z"], {("a", "x"): 0, ("a", "y"): 3}, K)
    # y = 3 is small; x = 0 is a true zero and stays; the total (3) is small as well.
    assert got[("a", "x")] == 0
    assert got[("a", "y")] == MARK
    assert got[("a", st.TOTAL)] == MARK
    assert got[("a", "z")] == 0


def test_one_small_cell_in_a_row_hides_the_next_smallest():
    cells = {("r", "a"): 3, ("r", "b"): 40, ("r", "c"): 12, ("r", "d"): 90}
    got = st.suppress_block(["r"], list("abcd"), cells, K, col_totals=False)
    assert got[("r", "a")] == MARK
    assert got[("r", "c")] == MARK  # the next-smallest
    assert got[("r", "b")] == 40 and got[("r", "d")] == 90 and got[("r", st.TOTAL)] == 145
    hidden, eqs = published_equations(["r"], list("abcd"), got, col_totals=False)
    assert linearly_recoverable(hidden, eqs) == []


def test_two_ones_in_a_line_are_not_left_alone():
    """Hiding 1 and 1 with a published total tells their sum 2, hence both: add a third."""
    cells = {("r", "a"): 1, ("r", "b"): 1, ("r", "c"): 40, ("r", "d"): 50}
    got = st.suppress_block(["r"], list("abcd"), cells, K, col_totals=False)
    hidden, eqs = published_equations(["r"], list("abcd"), got, col_totals=False)
    assert len(hidden) >= 3
    solutions = bounded_solutions(hidden, eqs, 50)
    for position in range(len(hidden)):
        assert len({s[position] for s in solutions}) > 1, hidden[position]


def test_complementary_suppression_defeats_the_totals_attack():
    """A 3x4 table with row, column and grand totals and scattered small cells: the attacker
    solves the published equations for each hidden cell and never gets a unique value."""
    rows, cols = ["m1", "m2", "m3"], ["s", "p", "a", "w"]
    values = [[2, 30, 55, 4], [17, 1, 60, 25], [22, 28, 70, 31]]
    cells = {(r, c): values[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    got = st.suppress_block(rows, cols, cells, K)
    assert got[("m1", "s")] == MARK and got[("m1", "w")] == MARK and got[("m2", "p")] == MARK
    hidden, eqs = published_equations(rows, cols, got)
    assert linearly_recoverable(hidden, eqs) == []
    # Without complementary suppression the same attack succeeds (the test is not vacuous).
    naive = {(r, c): (MARK if 0 < v < K else v) for (r, c), v in cells.items()}
    for r in rows:
        naive[(r, st.TOTAL)] = sum(cells[(r, c)] for c in cols)
    for c in cols:
        naive[(st.TOTAL, c)] = sum(cells[(r, c)] for r in rows)
    naive[(st.TOTAL, st.TOTAL)] = sum(cells.values())
    n_hidden, n_eqs = published_equations(rows, cols, naive)
    assert ("m2", "p") in linearly_recoverable(n_hidden, n_eqs)


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_never_leak_a_cell(seed):
    import random

    rng = random.Random(seed)
    rows = [f"r{i}" for i in range(rng.randint(1, 4))]
    cols = [f"c{j}" for j in range(rng.randint(2, 5))]
    cells = {(r, c): rng.choice([0, 1, 2, 3, 4, rng.randint(5, 40)]) for r in rows for c in cols}
    for row_totals, col_totals in ((True, True), (True, False), (False, True)):
        got = st.suppress_block(rows, cols, cells, K, row_totals=row_totals, col_totals=col_totals)
        for key, value in got.items():
            if key[0] != st.TOTAL and key[1] != st.TOTAL:
                true = cells[key]
                assert value == true or (value == MARK and true > 0)
                if 0 < true < K:
                    assert value == MARK
        hidden, eqs = published_equations(
            rows, cols, got, row_totals=row_totals, col_totals=col_totals
        )
        assert linearly_recoverable(hidden, eqs) == [], (cells, got)


# --- the database: aggregates equal plain-Python counts --------------------------------------


def load(engine):
    with Session(engine) as s:
        subjects = s.execute(
            select(
                DataSubject.id,
                DataSubject.workplace_category,
                DataSubject.position_level,
                DataSubject.education_level,
                DataSubject.created_at,
                DataSubject.status,
                DataSubject.destruction_due_at,
                DataSubject.updated_at,
            )
        ).all()
        apps = s.execute(
            select(
                MembershipApplication.submitted_at,
                MembershipApplication.status,
                MembershipApplication.decision,
                MembershipApplication.decided_at,
            )
        ).all()
        members = s.execute(select(Member.subject_id, Member.since, Member.ended_at)).all()
        consents = s.execute(
            select(
                Consent.subject_id, Consent.purpose_code, Consent.granted_at, Consent.withdrawn_at
            )
        ).all()
        requests = s.execute(
            select(
                SubjectRequest.received_at,
                SubjectRequest.answered_at,
                SubjectRequest.due_date,
                SubjectRequest.status,
            )
        ).all()
    return subjects, apps, members, consents, requests


def add_acts(conn, subject_ids, destroyed_at: datetime) -> None:
    """One destruction act per destroyed subject ("done" counts acts by ``destroyed_at``)."""
    conn.execute(
        insert(DestructionAct),
        [
            {
                "reference": f"D-{destroyed_at.year}-{sid:06d}",
                "subject_ref": str(sid),
                "categories": "[]",
                "rule": "test:destruction_scheduled",
                "due_at": destroyed_at,
                "destroyed_at": destroyed_at,
                "actor_type": "system",
                "actor_id": None,
                "digest": "0" * 64,
                "batch_id": "",
            }
            for sid in subject_ids
        ],
    )


def check(table_value, expected: int):
    if isinstance(table_value, str):
        assert table_value == MARK and expected > 0
    else:
        assert table_value == expected
    if 0 < expected < K:
        assert table_value == MARK


@pytest.fixture
def seeded(engine):
    demo.seed_subjects(engine, 400, now=NOW)
    # A few requests (one late, one open) and a few destroyed subjects.
    add_requests(
        engine,
        [
            (
                datetime(2025, 9, 2, 5, tzinfo=UTC),
                datetime(2025, 9, 10, 5, tzinfo=UTC),
                date(2025, 9, 16),
            ),
            (
                datetime(2025, 9, 3, 5, tzinfo=UTC),
                datetime(2025, 9, 30, 5, tzinfo=UTC),
                date(2025, 9, 17),
            ),
            (datetime(2025, 9, 4, 5, tzinfo=UTC), None, date(2025, 9, 18)),
        ]
        + [
            (
                datetime(2025, 10, d, 5, tzinfo=UTC),
                datetime(2025, 10, d + 5, 5, tzinfo=UTC),
                date(2025, 10, d + 10),
            )
            for d in range(1, 9)
        ],
    )
    with engine.begin() as conn:
        ids = (
            conn.execute(select(DataSubject.id).order_by(DataSubject.id).limit(12)).scalars().all()
        )
        conn.execute(
            update(DataSubject)
            .where(DataSubject.id.in_(ids))
            .values(
                status="destroyed",
                surname="",
                first_name="",
                patronymic=None,
                phone="",
                email="",
                workplace="",
                position="",
                education="",
                search_text="",
                destruction_due_at=datetime(2025, 12, 1, tzinfo=UTC),
                # a Core UPDATE of the timestamp writes its stored statistics key too
                destruction_due_month=almaty_month(datetime(2025, 12, 1, tzinfo=UTC)),
                updated_at=datetime(2025, 12, 3, tzinfo=UTC),
            )
        )
        add_acts(conn, ids, datetime(2025, 12, 3, tzinfo=UTC))
    return engine


@pytest.mark.parametrize("flt", [st.StatsFilter(), st.StatsFilter(2025), st.StatsFilter(2025, 3)])
def test_each_aggregate_equals_a_plain_python_count(seeded, flt):
    engine = seeded
    subjects, apps, members, consents, requests = load(engine)
    with Session(engine) as s:
        board = st.dashboard(s, flt, K, now=NOW)

    def in_filter(period: str) -> bool:
        if flt.year is None:
            return True
        if flt.quarter is None:
            return period.startswith(str(flt.year))
        return (
            st.quarter_of(period) == f"{flt.year}-Q{flt.quarter}"
            if len(period) == 7
            else (period == f"{flt.year}-Q{flt.quarter}")
        )

    # 1. applications per month by outcome
    expected = Counter()
    for a in apps:
        expected[(month(a.submitted_at), st._OUTCOME_OF[a.status])] += 1
    rows = body(board["applications_per_month"])
    assert rows, "no months"
    for row in rows:
        assert in_filter(row["period"])
        for outcome in st.OUTCOMES:
            check(row[outcome], expected[(row["period"], outcome)])
        check(row["total"], sum(expected[(row["period"], o)] for o in st.OUTCOMES))
    shown = {row["period"] for row in rows}
    assert {m for m, _ in expected if in_filter(m)} <= shown

    # 2. funnel
    in_period = [a for a in apps if in_filter(month(a.submitted_at))]
    funnel = {row["stage"]: row for row in board["application_funnel"]}
    check(funnel["submitted"]["applications"], len(in_period))
    reviewed = sum(
        a.status in ("in_review", "info_requested", "approved", "rejected") for a in in_period
    )
    approved = sum(a.status == "approved" for a in in_period)
    if isinstance(funnel["reviewed"]["applications"], int):
        assert funnel["reviewed"]["applications"] == reviewed
    if isinstance(funnel["approved"]["applications"], int):
        check(funnel["approved"]["applications"], approved)
        assert funnel["approved"]["of_submitted_pct"] == round(100 * approved / len(in_period))

    # 3. median days to decision
    durations = defaultdict(list)
    for a in apps:
        if a.decision in ("approved", "rejected") and a.decided_at:
            durations[st.quarter_of(month(a.decided_at))].append(
                int((a.decided_at - a.submitted_at).total_seconds() // 86400)
            )
    for row in board["decision_time_per_quarter"]:
        values = sorted(durations.get(row["period"], []))
        check(row["decisions"], len(values))
        if len(values) >= K:
            assert row["median_days"] == values[(len(values) + 1) // 2 - 1]
        elif values:
            assert row["median_days"] == MARK

    # 4. members by category (in force at the stock date), after folding
    end = st.stock_end(flt, NOW)
    by_subject = {s.id: s for s in subjects}
    in_force = [
        m
        for m in members
        if m.since < end.astimezone(TZ).date() and (m.ended_at is None or m.ended_at >= end)
    ]
    for dim, index in (("workplace_category", 1), ("position_level", 2), ("education_level", 3)):
        population = Counter(s[index] for s in subjects)
        fold = {c: (c if population[c] >= K or c == "other" else "other") for c in population}
        counts = Counter(fold[by_subject[m.subject_id][index]] for m in in_force)
        table = board[f"members_by_{dim}"]
        for row in table[:-1]:
            check(row["members"], counts[row["category"]])
        check(table[-1]["members"], len(in_force))

    # 5. new and ended memberships per quarter
    new = Counter(st.quarter_of(m.since.strftime("%Y-%m")) for m in members)
    ended = Counter(st.quarter_of(month(m.ended_at)) for m in members if m.ended_at)
    for row in body(board["memberships_per_quarter"]):
        check(row["new"], new[row["period"]])
        check(row["ended"], ended[row["period"]])

    # 6. consent rates and withdrawals
    existing = sum(s.created_at < end for s in subjects)
    for row in board["consent_rates"]:
        holders = {
            c.subject_id
            for c in consents
            if c.purpose_code == row["purpose"]
            and c.granted_at < end
            and (c.withdrawn_at is None or c.withdrawn_at >= end)
        }
        check(row["with_consent"], len(holders))
        check(row["subjects"], existing)
    withdrawals = Counter(
        (month(c.withdrawn_at), c.purpose_code) for c in consents if c.withdrawn_at
    )
    for row in body(board["withdrawals_per_month"]):
        for purpose in PURPOSES:
            check(row[purpose], withdrawals[(row["period"], purpose)])

    # 7. requests
    states = Counter()
    for r in requests:
        if r.answered_at and r.status in ("answered", "refused"):
            state = "on_time" if r.answered_at.astimezone(TZ).date() <= r.due_date else "late"
        else:
            state = "open"
        states[(month(r.received_at), state)] += 1
    for row in body(board["requests_per_month"]):
        for state in st.REQUEST_STATES:
            check(row[state], states[(row["period"], state)])
    if flt.year == 2025 and flt.quarter is None:
        october = next(r for r in board["requests_per_month"] if r["period"] == "2025-10")
        assert october["on_time"] == 8 and october["on_time_pct"] == 100

    # 8. destructions
    due = Counter(
        st.quarter_of(month(s.destruction_due_at)) for s in subjects if s.destruction_due_at
    )
    done = Counter(st.quarter_of(month(s.updated_at)) for s in subjects if s.status == "destroyed")
    for row in body(board["destructions_per_quarter"]):
        check(row["due"], due[row["period"]])
        check(row["done"], done[row["period"]])
    if flt.year == 2025 and flt.quarter is None:
        q4 = next(r for r in board["destructions_per_quarter"] if r["period"] == "2025-Q4")
        assert q4 == {"period": "2025-Q4", "due": 12, "done": 12}

    # Every cell is an int or the marker; no exact dates, no identifiers.
    for table in board.values():
        for row in table:
            for key, value in row.items():
                if key in ("period", "stage", "category", "purpose"):
                    assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2]|Q[1-4])|[a-z_]+", value), value
                else:
                    assert isinstance(value, int) or value == MARK, (key, value)


def test_single_functions_equal_the_dashboard(seeded):
    flt = st.StatsFilter(2025)
    with Session(seeded) as s:
        board = st.dashboard(s, flt, K, now=NOW)
        assert st.applications_per_month(s, flt, K) == board["applications_per_month"]
        assert st.application_funnel(s, flt, K) == board["application_funnel"]
        assert st.decision_time_per_quarter(s, flt, K) == board["decision_time_per_quarter"]
        for dim in st.DIMENSIONS:
            got = st.members_by_category(s, dim, flt, K, now=NOW)
            assert got == board[f"members_by_{dim}"]
        assert st.memberships_per_quarter(s, flt, K) == board["memberships_per_quarter"]
        assert st.consent_rates(s, flt, K, now=NOW) == board["consent_rates"]
        assert st.withdrawals_per_month(s, flt, K) == board["withdrawals_per_month"]
        assert st.requests_per_month(s, flt, K) == board["requests_per_month"]
        assert st.destructions_per_quarter(s, flt, K) == board["destructions_per_quarter"]
        assert st.disclosures_per_quarter(s, flt, K) == board["disclosures_per_quarter"]


# --- differencing across filters -------------------------------------------------------------


def test_year_minus_quarters_cannot_reveal_a_hidden_quarter_cell(engine):
    """Q4 has 3 withdrawn applications (all in November). The attack: take the year view's
    withdrawn total and subtract the quarter views' published totals."""
    spec = []
    for q, first_month in enumerate((1, 4, 7, 10)):
        for m in range(first_month, first_month + 3):
            at = datetime(2025, m, 15, 6, tzinfo=UTC)
            spec += [(at, "approved", 12), (at, "rejected", 6)]
            if q < 3:
                spec.append((at, "withdrawn", 7))
    spec.append((datetime(2025, 11, 20, 6, tzinfo=UTC), "withdrawn", 3))
    add_applications(engine, spec)
    with Session(engine) as s:
        year = st.applications_per_month(s, st.StatsFilter(2025), K)
        quarters = [st.applications_per_month(s, st.StatsFilter(2025, q), K) for q in range(1, 5)]
        everything = st.applications_per_month(s, st.StatsFilter(), K)
    # The same month cells in every view.
    by_month = {row["period"]: row for row in body(year)}
    for view in quarters:
        for row in body(view):
            assert row == by_month[row["period"]]
    assert by_month["2025-11"]["withdrawn"] == MARK
    q4_total = quarters[3][-1]["withdrawn"]
    assert q4_total == MARK
    # The attack: year total - published quarter totals.
    year_total = year[-1]["withdrawn"]
    published_quarters = [view[-1]["withdrawn"] for view in quarters]
    if isinstance(year_total, int):
        assert all(isinstance(v, int) for v in published_quarters)
    assert year_total == MARK, "a year total over a hidden quarter total must be hidden"
    assert everything[-1]["withdrawn"] == MARK
    # The grand totals still add up where every part is published.
    assert year[-1]["approved"] == 144
    # Q4 protects its withdrawn total with another total (the only non-zero partners), so the
    # year's rejected total follows Q4's: published exactly when Q4's is.
    assert (year[-1]["rejected"] == 72) == isinstance(quarters[3][-1]["rejected"], int)
    # And the funnel (a derived view of the same cells) does not leak it either.
    with Session(engine) as s:
        funnel = st.application_funnel(s, st.StatsFilter(2025), K)
    stages = {row["stage"]: row["applications"] for row in funnel}
    if isinstance(stages["submitted"], int) and isinstance(stages["reviewed"], int):
        # submitted - reviewed = submitted-status + withdrawn: only sums of hidden cells.
        assert year[-1]["submitted"] == 0 and year[-1]["withdrawn"] == MARK


def test_all_time_totals_hide_when_one_block_total_is_hidden_and_show_otherwise(engine):
    add_applications(
        engine,
        [
            (datetime(2025, 7, 10, tzinfo=UTC), "approved", 9),
            (datetime(2026, 2, 10, tzinfo=UTC), "approved", 2),
        ],
    )
    with Session(engine) as s:
        table = st.applications_per_month(s, st.StatsFilter(), K)
        only_2025 = st.applications_per_month(s, st.StatsFilter(2025), K)
    assert table[-1]["approved"] == MARK  # 2026-Q1 holds 2: its total is hidden
    assert only_2025[-1]["approved"] == 9


# --- rare categories -------------------------------------------------------------------------


def test_rare_categories_fold_into_other(engine):
    rows = [_subject(i, workplace_category="media") for i in range(1, 9)]
    rows += [_subject(i, workplace_category="government") for i in range(9, 12)]  # 3 < k
    rows += [
        _subject(i, workplace_category="ngo", education_level="doctorate") for i in range(12, 18)
    ]
    members = [
        {
            "id": i,
            "subject_id": i,
            "membership_number": f"PRMA-T-{i}",
            "since": date(2025, 7, 1),
            "status": "active",
        }
        for i in range(1, 18)
    ]
    with engine.begin() as conn:
        conn.execute(insert(DataSubject.__table__), rows)
        conn.execute(insert(Member.__table__), members)
    with Session(engine) as s:
        table = st.members_by_category(s, "workplace_category", st.StatsFilter(), K, now=NOW)
        education = st.members_by_category(s, "education_level", st.StatsFilter(), K, now=NOW)
    categories = {row["category"]: row["members"] for row in table}
    assert "government" not in categories
    # "other" holds the 3 government members: still small, so hidden -- and the next-smallest
    # cell (ngo, 6) with it, because the total (17) is published.
    assert categories["other"] == MARK and categories["total"] == 17
    assert categories["ngo"] == MARK and categories["media"] == 8
    assert {row["category"] for row in education} >= {"bachelor", "doctorate", "other"}
    assert "vocational" not in {row["category"] for row in education}


# --- what the SQL may read -------------------------------------------------------------------

PERSONAL_COLUMNS = (
    "surname",
    "first_name",
    "patronymic",
    "phone",
    "email",
    "workplace",
    "position",
    "education",
    "experience",
    "experience_years",
    "other_info",
    "search_text",
    "blocked_reason",
    "reason",
    "status_reason",
    "consent_text",
    "evidence_text",
    "evidence_ref",
    "withdrawal_evidence",
    "withdrawal_retained_ground",
    "requester",
    "contact",
    "details",
    "notes",
    "answer",
    "refusal_reason",
    "reference",
    "membership_number",
    "client_ip",
    "text",
    "identity_method",
    # the disclosure register: the body and the request are free text
    "body_name",
    "body_department",
    "body_search",
    "request_number",
    "legal_basis",
    "legal_article",
    "recipient",
    "justifications",
)


def test_no_personal_column_in_any_statement(seeded):
    add_disclosures(seeded, [(datetime(2025, 11, 3, 6, tzinfo=UTC), "court", 6)])
    statements: list[str] = []

    @event.listens_for(seeded, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    flt = st.StatsFilter(2025, 4)
    with Session(seeded) as s:
        st.dashboard(s, st.StatsFilter(), K, now=NOW)
        st.dashboard(s, flt, K, now=NOW)
        st.applications_per_month(s, flt, K)
        st.application_funnel(s, flt, K)
        st.decision_time_per_quarter(s, flt, K)
        for dim in st.DIMENSIONS:
            st.members_by_category(s, dim, flt, K, now=NOW)
        st.memberships_per_quarter(s, flt, K)
        st.consent_rates(s, flt, K, now=NOW)
        st.withdrawals_per_month(s, flt, K)
        st.requests_per_month(s, flt, K)
        st.destructions_per_quarter(s, flt, K)
        st.disclosures_per_quarter(s, flt, K)
        st.disclosures_per_quarter(s, st.StatsFilter(), K)
    event.remove(seeded, "before_cursor_execute", capture)
    assert statements
    pattern = re.compile(r"\b(" + "|".join(PERSONAL_COLUMNS) + r")\b", re.IGNORECASE)
    for sql in statements:
        assert "*" not in sql.replace("count(*)", "").lower().replace("count(*)", ""), sql
        assert not pattern.search(sql), (pattern.search(sql).group(0), sql)
        assert "GROUP BY" in sql.upper() or "SELECT 1" in sql.upper(), sql


# --- destroyed subjects ----------------------------------------------------------------------


def test_destroyed_subjects_still_count(engine):
    demo.seed_subjects(engine, 250, now=NOW)
    flt = st.StatsFilter(2025)
    with Session(engine) as s:
        before = st.dashboard(s, flt, 3, now=NOW)
    with engine.begin() as conn:
        ids = conn.execute(select(DataSubject.id).where(DataSubject.id % 3 == 0)).scalars().all()
        conn.execute(
            update(DataSubject)
            .where(DataSubject.id.in_(ids))
            .values(
                status="destroyed",
                surname="",
                first_name="",
                patronymic=None,
                phone="",
                email="",
                workplace="",
                position="",
                education="",
                experience="",
                other_info="",
                search_text="",
                updated_at=datetime(2025, 12, 20, tzinfo=UTC),
            )
        )
        add_acts(conn, ids, datetime(2025, 12, 20, tzinfo=UTC))
    with Session(engine) as s:
        after = st.dashboard(s, flt, 3, now=NOW)
    for name in before:
        if name != "destructions_per_quarter":
            assert after[name] == before[name], name
    done = after["destructions_per_quarter"][-1]["done"]
    assert done == len(ids)


# --- empty tables and downloads --------------------------------------------------------------


def test_empty_database_and_empty_request_table(engine):
    with Session(engine) as s:
        board = st.dashboard(s, st.StatsFilter(), K, now=NOW)
        year = st.dashboard(s, st.StatsFilter(2026), K, now=NOW)
    assert board["applications_per_month"] == [
        {"period": "total", **{o: 0 for o in st.OUTCOMES}, "total": 0}
    ]
    assert board["requests_per_month"][-1] == {
        "period": "total",
        "on_time": 0,
        "late": 0,
        "open": 0,
        "total": 0,
    }
    assert len(body(year["requests_per_month"])) == 12
    assert all("on_time_pct" not in row for row in year["requests_per_month"])
    assert [row["stage"] for row in board["application_funnel"]] == [
        "submitted",
        "reviewed",
        "approved",
    ]


def test_csv_and_xlsx_hold_exactly_the_shown_numbers():
    import io

    import pandas as pd

    table = [
        {"period": "2025-06", "approved": 12, "withdrawn": "<5", "total": 40},
        {"period": "total", "approved": 12, "withdrawn": "<5", "total": 40},
    ]
    csv = st.to_csv_bytes(table)
    assert csv.decode("utf-8-sig").splitlines() == [
        "period,approved,withdrawn,total",
        "2025-06,12,<5,40",
        "total,12,<5,40",
    ]
    frame = pd.read_excel(io.BytesIO(st.to_xlsx_bytes(table)), engine="openpyxl")
    assert frame.to_dict("records") == table


# --- authority disclosures per quarter by type of body ---------------------------------------

#: Almaty is UTC+5: 2025-03-31 18:59 UTC is still March, 19:30 UTC already April (Q2).
LAST_OF_Q1 = datetime(2025, 3, 31, 18, 59, tzinfo=UTC)
FIRST_OF_Q2 = datetime(2025, 3, 31, 19, 30, tzinfo=UTC)
#: (disclosed_at, body_type, n): authority requests disclosed. Court (3 of all time) is rare
#: and folds into other_state; tax (3 + 3 across two years) is not.
DISCLOSED = [
    (datetime(2025, 2, 10, 6, tzinfo=UTC), "law_enforcement", 8),
    (LAST_OF_Q1, "law_enforcement", 1),
    (datetime(2025, 2, 11, 6, tzinfo=UTC), "prosecutor", 6),
    (datetime(2025, 2, 12, 6, tzinfo=UTC), "other_state", 1),
    (datetime(2025, 5, 10, 6, tzinfo=UTC), "law_enforcement", 9),
    (FIRST_OF_Q2, "law_enforcement", 1),
    (datetime(2025, 5, 11, 6, tzinfo=UTC), "prosecutor", 2),
    (datetime(2025, 6, 12, 6, tzinfo=UTC), "other_state", 7),
    (datetime(2025, 8, 10, 6, tzinfo=UTC), "law_enforcement", 10),
    (datetime(2025, 8, 11, 6, tzinfo=UTC), "prosecutor", 7),
    (datetime(2025, 9, 12, 6, tzinfo=UTC), "court", 3),
    (datetime(2025, 11, 10, 6, tzinfo=UTC), "law_enforcement", 12),
    (datetime(2025, 11, 11, 6, tzinfo=UTC), "prosecutor", 8),
    (datetime(2025, 12, 12, 6, tzinfo=UTC), "other_state", 6),
    (datetime(2025, 10, 13, 6, tzinfo=UTC), "tax", 3),
    (datetime(2026, 1, 20, 6, tzinfo=UTC), "law_enforcement", 5),
    (datetime(2026, 1, 21, 6, tzinfo=UTC), "other_state", 5),
    (datetime(2026, 2, 22, 6, tzinfo=UTC), "tax", 3),
    (datetime(2026, 4, 20, 6, tzinfo=UTC), "prosecutor", 2),
]
SHOWN_BODIES = ["law_enforcement", "prosecutor", "tax", "other_state"]


@pytest.fixture
def register(engine):
    """The authority disclosures above, and rows the chart must not count: transfers to
    third parties, requests not (yet) disclosed, refused ones."""
    n = add_disclosures(engine, DISCLOSED)
    n = add_disclosures(
        engine,
        [(datetime(2025, 5, 10, 6, tzinfo=UTC), "third_party", 20)],
        kind="third_party",
        first_id=n,
    )
    n = add_disclosures(engine, [(None, "law_enforcement", 10)], status="approved", first_id=n)
    add_disclosures(engine, [(None, "prosecutor", 4)], status="refused", first_id=n)
    return engine


def _expected_disclosures() -> Counter:
    fold = {"court": "other_state"}
    counts: Counter = Counter()
    for at, body_type, n in DISCLOSED:
        counts[(st.quarter_of(month(at)), fold.get(body_type, body_type))] += n
    return counts


def _block(table, year: str):
    """A year's rows of a quarterly table as ``suppress_block`` output (for the attacker)."""
    rows = [row for row in body(table) if row["period"].startswith(year)]
    got = {}
    for row in rows:
        for c in [*SHOWN_BODIES, st.TOTAL]:
            got[(row["period"], c)] = row[c]
    return [row["period"] for row in rows], got


@pytest.mark.parametrize("flt", [st.StatsFilter(), st.StatsFilter(2025), st.StatsFilter(2025, 2)])
def test_disclosures_per_quarter_counts(register, flt):
    expected = _expected_disclosures()
    with Session(register) as s:
        table = st.disclosures_per_quarter(s, flt, K)
    rows = body(table)
    periods = [row["period"] for row in rows]
    if flt.year is None:
        assert periods == [f"2025-Q{q}" for q in range(1, 5)] + ["2026-Q1", "2026-Q2"]
    elif flt.quarter is None:
        assert periods == [f"2025-Q{q}" for q in range(1, 5)]
    else:
        assert periods == ["2025-Q2"]
    for row in table:
        # rare court folded into other_state; no column for types nobody ever disclosed to
        assert list(row) == ["period", *SHOWN_BODIES, st.TOTAL]
    for row in rows:
        for c in SHOWN_BODIES:
            check(row[c], expected[(row["period"], c)])
        check(row[st.TOTAL], sum(expected[(row["period"], c)] for c in SHOWN_BODIES))
    by_period = {row["period"]: row for row in rows}
    if "2025-Q2" in by_period:
        # the boundary instant counts in April (Almaty), third-party transfers not at all
        assert by_period["2025-Q2"]["law_enforcement"] == 10
        assert by_period["2025-Q2"]["prosecutor"] == MARK
    if "2025-Q3" in by_period:
        assert by_period["2025-Q3"]["other_state"] == MARK  # the 3 court requests
    if flt.year == 2025 and flt.quarter is None:
        assert by_period["2025-Q1"]["law_enforcement"] == 9
        assert table[-1]["law_enforcement"] == 41


def test_disclosures_small_cells_are_protected(register):
    """Small cells and whatever would pin them through the row, column and grand totals."""
    with Session(register) as s:
        year = st.disclosures_per_quarter(s, st.StatsFilter(2025), K)
        later = st.disclosures_per_quarter(s, st.StatsFilter(2026), K)
    for table, year_label in ((year, "2025"), (later, "2026")):
        rows, got = _block(table, year_label)
        for c in [*SHOWN_BODIES, st.TOTAL]:
            got[(st.TOTAL, c)] = table[-1][c]
        hidden, eqs = published_equations(rows, SHOWN_BODIES, got)
        assert hidden
        assert linearly_recoverable(hidden, eqs) == [], got
    rows = {row["period"]: row for row in body(year)}
    assert rows["2025-Q1"]["other_state"] == MARK  # 1
    assert rows["2025-Q2"]["prosecutor"] == MARK  # 2
    assert rows["2025-Q4"]["tax"] == MARK  # 3
    q2 = body(later)[1]
    assert q2["period"] == "2026-Q2" and q2["prosecutor"] == MARK and q2[st.TOTAL] == MARK


def test_disclosures_differencing_across_filters(register):
    """Year minus quarters, and all time minus a year: every view shows a quarter's cells the
    same way, and a coarser total is published only when all its block totals are."""
    with Session(register) as s:
        year = st.disclosures_per_quarter(s, st.StatsFilter(2025), K)
        quarters = [st.disclosures_per_quarter(s, st.StatsFilter(2025, q), K) for q in range(1, 5)]
        y2026 = st.disclosures_per_quarter(s, st.StatsFilter(2026), K)
        everything = st.disclosures_per_quarter(s, st.StatsFilter(), K)
    by_period = {row["period"]: row for row in body(year)}
    for view in quarters:
        (row,) = body(view)
        assert row == by_period[row["period"]]
        assert view[-1] == year[-1]  # the year's (block's) totals, never a quarter's own
    for row in body(everything):
        source = year if row["period"].startswith("2025") else y2026
        assert row == next(r for r in body(source) if r["period"] == row["period"])
    # The attack on year minus the published quarter totals pins nothing (see above); and the
    # all-time totals hide where a year's total is hidden (2026: prosecutor 2, tax 3).
    assert y2026[-1]["prosecutor"] == MARK and y2026[-1]["tax"] == MARK
    assert everything[-1]["prosecutor"] == MARK and everything[-1]["tax"] == MARK
    for c in ("law_enforcement", "other_state", st.TOTAL):
        parts = (year[-1][c], y2026[-1][c])
        if all(isinstance(v, int) for v in parts):
            assert everything[-1][c] == sum(parts)
        else:
            assert everything[-1][c] == MARK
    # 2026's law enforcement total (5) hides as a complement there, so all time hides it too;
    # both grand totals are published, so is their sum.
    assert y2026[-1]["law_enforcement"] == MARK and everything[-1]["law_enforcement"] == MARK
    assert (year[-1][st.TOTAL], y2026[-1][st.TOTAL], everything[-1][st.TOTAL]) == (84, 15, 99)


def test_disclosures_chart_on_the_dashboard_and_its_download(register):
    import io

    import pandas as pd

    from dpa_panel.pages import statistics as page
    from dpa_panel.state import statistics_state as state

    flt = st.StatsFilter(2025)
    with Session(register) as s:
        board = st.dashboard(s, flt, K, now=NOW)
        single = st.disclosures_per_quarter(s, flt, K)
    table = board["disclosures_per_quarter"]
    assert table == single and table[-1]["period"] == st.TOTAL
    lines = st.to_csv_bytes(table).decode("utf-8-sig").splitlines()
    assert lines[0] == "period,law_enforcement,prosecutor,tax,other_state,total"
    assert lines[1] == "2025-Q1,9,<5,0,<5,16" and len(lines) == 6
    assert lines[-1] == "total,41,23,<5,<5,84"
    frame = pd.read_excel(io.BytesIO(st.to_xlsx_bytes(table)), engine="openpyxl")
    assert frame.to_dict("records") == table
    # The board's release page (issue 14) draws the same body types: labels from the
    # catalog, a table whose columns cover every type of body (a folded one shows a dash).
    assert "disclosures" in state.CHARTS
    title, series, _stacked, columns = page.CHARTS["disclosures"]
    assert title == "stats_rel.table_disclosures"
    assert [key for key, _ in series] == list(st.BODY_TYPES)
    assert set(SHOWN_BODIES) <= set(columns) and "third_party" not in columns
    assert state.SERIES["disclosures"] == (*st.BODY_TYPES, "total")
