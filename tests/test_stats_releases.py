"""Frozen statistics releases (issue 14): publishing, refusals, the board's view, and the
project's own attacker — an integer program over every release and the identities.

The attacker here is written independently of ``services.stats_audit``: it reads the
releases as the board can (the JSON export of each one), writes the identities itself, and
solves every hidden cell's minimum and maximum with ``scipy.optimize.milp``.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from dpa_panel import cli, demo
from dpa_panel.models import (
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    StatsRelease,
    StatsReleaseCell,
)
from dpa_panel.models.types import almaty_month
from dpa_panel.services import stats_releases as sr
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.stats_release_data import parse_period
from tests.test_statistics import _subject

K = 5
#: The crafted association is seeded as of this instant; releases are made up to its month.
SEEDED = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)  # 2026-01 is the last closed month


# --- a crafted small association ------------------------------------------------------------


def _approve(conn, sid: int, submitted: datetime, decided: datetime, **subject) -> None:
    row = _subject(sid, created_at=submitted, updated_at=submitted, **subject)
    conn.execute(insert(DataSubject.__table__), [row])
    conn.execute(insert(MembershipApplication.__table__), [{
        "id": sid, "reference": f"A-C-{sid}", "subject_id": sid, "submitted_at": submitted,
        "status": "approved", "decision": "approved", "decided_at": decided, "reason": "",
        "language": "kk", "updated_at": decided,
    }])  # fmt: skip
    since = decided.astimezone(ZoneInfo("Asia/Almaty")).date()
    conn.execute(insert(Member.__table__), [{
        "id": sid, "subject_id": sid, "application_id": sid, "membership_number": f"PRMA-C-{sid}",
        "since": since, "status": "active",
    }])  # fmt: skip


def crafted(engine) -> None:
    """A small demo association plus the hard cases of the issue: a month with one
    rejection, a quarter with one joiner, a category with four holders, a member who leaves,
    a withdrawn application and a withdrawn consent."""
    demo.seed_subjects(engine, 45, seed=11, now=SEEDED)
    with engine.begin() as conn:
        # One rejection in 2025-11 (and nothing else from this applicant).
        conn.execute(insert(DataSubject.__table__), [_subject(9001, education_level="doctorate",
                     created_at=datetime(2025, 11, 3, tzinfo=UTC))])  # fmt: skip
        conn.execute(insert(MembershipApplication.__table__), [{
            "id": 9001, "reference": "A-C-9001", "subject_id": 9001,
            "submitted_at": datetime(2025, 11, 3, tzinfo=UTC), "status": "rejected",
            "decision": "rejected", "decided_at": datetime(2025, 11, 12, tzinfo=UTC),
            "reason": "x", "language": "kk", "updated_at": datetime(2025, 11, 12, tzinfo=UTC),
        }])  # fmt: skip
        # One joiner in 2025-Q3 with a rare sector; four holders of "government".
        _approve(conn, 9002, datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 6, tzinfo=UTC),
                 workplace_category="freelance")  # fmt: skip
        for i in range(4):
            _approve(conn, 9010 + i, datetime(2025, 9, 2, tzinfo=UTC),
                     datetime(2025, 9, 9, tzinfo=UTC), workplace_category="government",
                     position_level="executive")  # fmt: skip
        # A member who leaves in 2025-12.
        conn.execute(update(Member.__table__).where(Member.__table__.c.id == 9010).values(
            ended_at=datetime(2025, 12, 15, tzinfo=UTC), status="ended",
            ended_month=almaty_month(datetime(2025, 12, 15, tzinfo=UTC))))  # fmt: skip
        # A withdrawn application (2025-10) and a withdrawn consent (2025-12).
        conn.execute(insert(DataSubject.__table__), [_subject(9020,
                     created_at=datetime(2025, 10, 7, tzinfo=UTC))])  # fmt: skip
        conn.execute(insert(MembershipApplication.__table__), [{
            "id": 9020, "reference": "A-C-9020", "subject_id": 9020,
            "submitted_at": datetime(2025, 10, 7, tzinfo=UTC), "status": "withdrawn",
            "closed_at": datetime(2025, 10, 9, tzinfo=UTC), "reason": "", "language": "kk",
            "updated_at": datetime(2025, 10, 9, tzinfo=UTC),
        }])  # fmt: skip
        consent_id = conn.execute(
            select(func.min(Consent.__table__.c.id)).where(
                Consent.__table__.c.withdrawn_at.is_(None),
                Consent.__table__.c.granted_month < 202512)
        ).scalar()  # fmt: skip
        moment = datetime(2025, 12, 20, tzinfo=UTC)
        conn.execute(update(Consent.__table__).where(Consent.__table__.c.id == consent_id)
                     .values(withdrawn_at=moment, withdrawal_channel="email",
                             withdrawn_month=almaty_month(moment)))  # fmt: skip


def publish_all(engine, now=NOW) -> list[int]:
    ids = []
    with Session(engine) as s:
        due = sr.due_periods(s, now)
    for period in due:
        with Session(engine) as s:
            ids.append(sr.publish(s, period, Actor.system(), now=now).id)
            s.commit()
    return ids


# --- the attacker ----------------------------------------------------------------------------


def board_documents(engine) -> list[dict]:
    """What the board can download: every release as its JSON export."""
    with Session(engine) as s:
        ids = s.scalars(select(StatsRelease.id).order_by(StatsRelease.period)).all()
        return [json.loads(sr.export_json(s, i)) for i in ids]


def _months(period: str) -> list[str]:
    if "-Q" in period:
        y, q = int(period[:4]), int(period[-1])
        return [f"{y}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    return [f"{period}-{m:02d}" for m in range(1, 13)]


def _prev(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def _approvals_join(month: str, truth: dict) -> bool:
    """Whether the month's approvals equal its joins in the stored truth (a month without
    both cells stored says nothing against it)."""
    joined = truth.get(("memberships", month, "all", "joined"))
    approved = truth.get(("applications", month, "all", "approved"))
    return joined is None or approved is None or joined == approved


def attack(documents: list[dict], truth: dict, threshold: int = K) -> dict:
    """min/max of every hidden cell over everything published, by integer programming.

    ``truth`` (the stored true values) is used only to keep the identities that really hold
    (an attacker assuming a false one deceives only themselves); a never-published count
    below ``threshold`` is attacked too."""
    published, hidden = {}, []
    for doc in documents:
        for c in doc["cells"]:
            key = (c["table"], c["period"], c["row"], c["column"])
            if c["hidden"]:
                hidden.append(key)
            else:
                published[key] = c["value"]
    variables = {key: i for i, key in enumerate(hidden)}

    equations: list[dict] = []
    cells = set(published) | set(hidden)
    by_table = defaultdict(list)
    for key in cells:
        by_table[(key[0], key[1])].append(key)
    periods = {key[1] for key in cells}
    for p in periods:
        t = lambda *k: k if k in cells else None  # noqa: E731
        equations.append({t("applications", p, "all", "decisions"): 1,
                          t("applications", p, "all", "approved"): -1,
                          t("applications", p, "all", "rejected"): -1})  # fmt: skip
        if not ("-Q" in p or "-" not in p) or all(_approvals_join(m, truth) for m in _months(p)):
            # A quarter's (year's) "approvals = joins" is known only when it holds month by
            # month; otherwise it holds by the months' errors cancelling, which nobody knows.
            equations.append({t("memberships", p, "all", "joined"): 1,
                              t("applications", p, "all", "approved"): -1})  # fmt: skip
        for table in ("withdrawals", "disclosures"):
            parts = {k: -1 for k in by_table[(table, p)] if k[3] != "total"}
            equations.append({t(table, p, "all", "total"): 1, **parts})
        if t("members", p, "all", "in_force"):
            for dim in ("workplace_category", "position_level", "education_level"):
                rows = by_table[(f"members_by_{dim}", p)]
                equations.append({("members", p, "all", "in_force"): 1, **{k: -1 for k in rows}})
                before = by_table.get((f"members_by_{dim}", _prev(p)), [])
                if before and {k[2] for k in before} == {k[2] for k in rows}:
                    joins, leaves = [], []
                    for k in rows:
                        # Joins and leavers of this category: never published.
                        j = (f"joined_by_{dim}", p, k[2], "n")
                        lv = (f"left_by_{dim}", p, k[2], "n")
                        joins.append(j)
                        leaves.append(lv)
                        equations.append({k: 1, (k[0], _prev(p), k[2], k[3]): -1, j: -1, lv: 1})
                    equations.append({t("memberships", p, "all", "joined"): 1,
                                      **{j: -1 for j in joins}})  # fmt: skip
                    equations.append({t("memberships", p, "all", "left"): 1,
                                      **{lv: -1 for lv in leaves}})  # fmt: skip
            equations.append({("members", p, "all", "in_force"): 1,
                              t("members", _prev(p), "all", "in_force"): -1,
                              t("memberships", p, "all", "joined"): -1,
                              t("memberships", p, "all", "left"): 1})  # fmt: skip
            for k in by_table[("consents", p)]:
                if k[3] == "with_consent":
                    equations.append({t("subjects", p, "all", "subjects"): 1, k: -1,
                                      (k[0], p, k[2], "without_consent"): -1})  # fmt: skip
        if "-Q" in p or "-" not in p:
            for table in ("applications", "memberships", "withdrawals", "requests",
                          "destructions", "disclosures"):  # fmt: skip
                for k in by_table[(table, p)]:
                    if table == "disclosures" and k[3] != "total":
                        continue
                    parts = [(table, m, k[2], k[3]) for m in _months(p)]
                    if all(q in cells for q in parts):
                        equations.append({k: 1, **{q: -1 for q in parts}})
    usable = []
    for eq in equations:
        if None in eq:
            continue
        if all(key in truth for key in eq) and sum(c * truth[key] for key, c in eq.items()):
            continue  # false on the data: the attacker would only deceive themselves
        usable.append(eq)
    for eq in usable:
        for key in eq:
            if key not in published and key not in variables:
                variables[key] = len(variables)
                # A join or leave count per category is what the difference of two stocks
                # says about people: a small one must be as protected as a hidden cell.
                if 0 < truth.get(key, 0) < threshold:
                    hidden.append(key)
    n = len(variables)
    rows, rhs = [], []
    for eq in usable:
        row = np.zeros(n)
        constant = 0.0
        for key, coef in eq.items():
            if key in published:
                constant += coef * published[key]
            else:
                row[variables[key]] += coef
        if row.any():
            rows.append(row)
            rhs.append(-constant)
    a = np.array(rows) if rows else np.zeros((0, n))
    b = np.array(rhs)
    # Components of the unknowns (cells that share no equation do not constrain each other).
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in a:
        nz = np.nonzero(row)[0]
        for j in nz[1:]:
            parent[find(j)] = find(nz[0])
    members = defaultdict(list)
    for i in range(n):
        members[find(i)].append(i)
    bounds = {}
    for key in hidden:
        col = variables[key]
        cols = members[find(col)]
        used = [i for i in range(len(rows)) if a[i, cols].any()]
        if not used:
            bounds[key] = (0, np.inf)
            continue
        sub, rhs_sub = a[np.ix_(used, cols)], b[used]
        index = cols.index(col)
        out = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(cols))
            c[index] = sign
            res = milp(c, constraints=[LinearConstraint(sub, rhs_sub, rhs_sub)],
                       integrality=np.ones(len(cols)), bounds=Bounds(0, np.inf))  # fmt: skip
            if res.status == 0:
                out.append(sign * res.fun)
            else:
                assert res.status == 3 or "unbounded" in res.message.lower(), res.message
                out.append(np.inf)
        bounds[key] = (round(out[0]), out[1] if out[1] == np.inf else round(out[1]))
    return bounds


def stored_truth(engine) -> dict:
    with Session(engine) as s:
        rows = s.execute(select(StatsReleaseCell.table_code, StatsReleaseCell.period,
                                StatsReleaseCell.row_code, StatsReleaseCell.col_code,
                                StatsReleaseCell.true_value))  # fmt: skip
        return {(t, p, r, c): v for t, p, r, c, v in rows}


def narrow(bounds: dict, truth: dict, k: int = K) -> list:
    return [
        (key, lo, hi, truth[key]) for key, (lo, hi) in bounds.items()
        if hi - lo < k or (truth[key] < k and hi < k)
    ]  # fmt: skip


@pytest.fixture
def published(engine, monkeypatch):
    monkeypatch.setenv("DPA_STATS_K", str(K))
    crafted(engine)
    publish_all(engine)
    return engine


def test_the_attacker_finds_no_hidden_cell_narrower_than_k(published):
    documents = board_documents(published)
    assert [d["release"]["period"] for d in documents][-1] == "2026-01"
    truth = stored_truth(published)
    bounds = attack(documents, truth)
    assert len(bounds) > 20, "the crafted association does hide cells"
    assert not narrow(bounds, truth)
    # The hard cases are hidden, not shown: the one rejection of 2025-11 ...
    cells = {(c["table"], c["period"], c["row"], c["column"]): c for d in documents
             for c in d["cells"]}  # fmt: skip
    assert cells[("applications", "2025-11", "all", "rejected")]["hidden"]
    # ... and no shown count lies in 1..k-1 anywhere.
    assert not [c for c in cells.values() if not c["hidden"] and c["table"] != "decision_time"
                and 0 < c["value"] < K]  # fmt: skip


def test_the_attacker_has_teeth_on_primary_suppression_only(published):
    """The same attack on the same releases with only the small cells hidden pins some."""
    truth = stored_truth(published)
    documents = board_documents(published)
    for doc in documents:
        for c in doc["cells"]:
            true = truth[(c["table"], c["period"], c["row"], c["column"])]
            c["hidden"] = c["table"] != "decision_time" and 0 < true < K
            c["value"] = None if c["hidden"] else true
    assert narrow(attack(documents, truth), truth)


def test_adding_an_applicant_changes_nothing_the_board_sees_until_the_next_release(published):
    engine = published
    with Session(engine) as s:
        before = sorted(sr.board_cells(s, "2026-01"), key=str)
        releases_before = sr.releases(s)
    # A new applicant with a rare education level, in the open month and backdated into a
    # published one: neither reaches the board.
    with engine.begin() as conn:
        for sid, at in ((9101, datetime(2026, 2, 3, tzinfo=UTC)),
                        (9102, datetime(2025, 12, 3, tzinfo=UTC))):  # fmt: skip
            conn.execute(insert(DataSubject.__table__), [_subject(
                sid, education_level="doctorate", created_at=at, updated_at=at)])  # fmt: skip
            conn.execute(insert(MembershipApplication.__table__), [{
                "id": sid, "reference": f"A-T-{sid}", "subject_id": sid, "submitted_at": at,
                "status": "submitted", "reason": "", "language": "kk", "updated_at": at,
            }])  # fmt: skip
    with Session(engine) as s:
        assert sorted(sr.board_cells(s, "2026-01"), key=str) == before
        assert sr.releases(s) == releases_before
    # The next release includes the February applicant and passes the audit.
    later = NOW + timedelta(days=31)
    with Session(engine) as s:
        release = sr.publish(s, 202602, Actor.system(), now=later)
        s.commit()
        assert release.period == 202602
        cells = {(c[0], c[1], c[3]): c[4] for c in sr.board_cells(s, "2026-02")}
    assert ("applications", "2026-02", "submitted") in cells
    truth = stored_truth(engine)
    assert not narrow(attack(board_documents(engine), truth), truth)


def test_raising_k_protects_the_new_month_at_the_new_k_and_blocks_no_month(engine, monkeypatch):
    """Decision 14-stats-9: the association raises k from 5 to 10 after December. The board
    already holds December's cells, protected at 5; asking 10 of them refused January as
    unprotectable, and every later month with it. January's own cells are protected at 10,
    the earlier ones keep 5 (the independent attacker checks both)."""
    monkeypatch.setenv("DPA_STATS_K", str(K))
    crafted(engine)
    publish_all(engine, now=datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    monkeypatch.setenv("DPA_STATS_K", "10")
    with Session(engine) as s:
        assert sr.publish(s, 202601, Actor.system(), now=NOW).k == 10
        s.commit()
    documents, truth = board_documents(engine), stored_truth(engine)
    assert documents[-1]["release"]["period"] == "2026-01"
    at_ten, at_five = attack(documents, truth, threshold=10), attack(documents, truth)
    january = {key: b for key, b in at_ten.items() if key[1] == "2026-01"}
    earlier = {key: b for key, b in at_five.items() if key[1] != "2026-01"}
    assert january and earlier
    assert not narrow(january, truth, 10)
    assert not narrow(earlier, truth, K)
    assert not [c for c in documents[-1]["cells"] if not c["hidden"]
                and c["table"] != "decision_time" and 0 < c["value"] < 10]  # fmt: skip


def test_an_earlier_cell_keeps_the_smallest_threshold_since_its_release():
    from dpa_panel.services.stats_audit import AuditCell

    key = ("applications", "2025-11", "all", "rejected")
    assert AuditCell(key, 1, True).threshold(10) == 10  # the new release's own cell
    assert AuditCell(key, 1, True, k=5).threshold(10) == 5  # k raised since
    assert AuditCell(key, 1, True, k=5).threshold(3) == 3  # k lowered: the new judgement
    implied = AuditCell(key, 7, True, visible=False, k=5)
    assert not implied.required(10) and AuditCell(key, 7, True, visible=False).required(10)


# --- refusals --------------------------------------------------------------------------------


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.scalar(select(func.count()).select_from(StatsRelease)),
                s.scalar(select(func.count()).select_from(StatsReleaseCell)))  # fmt: skip


@pytest.mark.parametrize(
    ("period", "key"),
    [(202602, "stats.release_open_period"), (202705, "stats.release_open_period"),
     (202601, "stats.release_exists"), (202512, "stats.release_exists")],
)  # fmt: skip
def test_open_future_and_published_months_are_refused(published, period, key):
    before = _counts(published)
    with Session(published) as s, pytest.raises(ServiceError) as refused:
        sr.publish(s, period, Actor.system(), now=NOW)
    assert refused.value.key == key
    assert _counts(published) == before


def test_out_of_order_and_audit_timeout_are_refused_and_write_nothing(engine, monkeypatch):
    monkeypatch.setenv("DPA_STATS_K", str(K))
    crafted(engine)
    with Session(engine) as s:
        first = sr.due_periods(s, NOW)[0]
        sr.publish(s, first, Actor.system(), now=NOW)
        s.commit()
    before = _counts(engine)
    with Session(engine) as s, pytest.raises(ServiceError) as refused:
        sr.publish(s, parse_period("2025-12"), Actor.system(), now=NOW)
    assert refused.value.key == "stats.release_out_of_order"
    with Session(engine) as s, pytest.raises(ServiceError) as refused:
        sr.publish(s, sr.due_periods(s, NOW)[0], Actor.system(), now=NOW, time_limit=1e-6)
    assert refused.value.key == "stats.release_audit_timeout"
    assert _counts(engine) == before


def test_cli_publish_is_idempotent_dry_run_writes_nothing_and_export_lists_every_cell(
    engine, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("DPA_STATS_K", str(K))
    demo.seed_subjects(engine, 30, seed=5, now=datetime(2025, 9, 20, tzinfo=UTC))
    assert cli.main(["stats", "publish", "--period", "2025-05", "--dry-run"]) == 0
    assert _counts(engine) == (0, 0)
    assert cli.main(["stats", "publish", "--period", "2099-01"]) == 1
    assert "has not closed" in capsys.readouterr().err
    assert cli.main(["stats", "publish", "--period", "May"]) == 2
    assert cli.main(["stats", "publish"]) == 0
    published = _counts(engine)
    assert published[0] >= 4
    assert cli.main(["stats", "publish"]) == 0  # nothing due: no change
    assert _counts(engine) == published
    assert "nothing due" in capsys.readouterr().out
    with Session(engine) as s:
        release_id, period = s.execute(select(StatsRelease.id, StatsRelease.period)
                                       .order_by(StatsRelease.period)).first()  # fmt: skip
        cell = StatsReleaseCell
        shown = s.scalar(select(func.count()).select_from(cell).where(
            cell.release_id == release_id, cell.visible.is_(True)))  # fmt: skip
    capsys.readouterr()
    assert cli.main(["stats", "export", "--release", str(release_id), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["release"]["period"] == f"{period // 100}-{period % 100:02d}"
    assert len(document["cells"]) == shown
    assert set(document["cells"][0]) == {"table", "period", "row", "column", "value", "hidden"}
    assert all((c["value"] is None) == c["hidden"] for c in document["cells"])
    assert cli.main(["stats", "export", "--release", str(release_id), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    # Issue 18: the CSV is in words (kk by default), header first.
    assert rows[0] == ["Кесте", "Кезең", "Жол", "Баған", "Мәні", "Жасырылған"]
    assert len(rows) == shown + 1
    assert cli.main(["stats", "export", "--release", "999", "--format", "csv"]) == 1
    # With --out, the metadata goes beside the file: <name>.about.txt with its SHA-256.
    import hashlib
    import re

    from dpa_panel.services import tabular

    out = tmp_path / "release.csv"
    assert cli.main(["stats", "export", "--release", str(release_id), "--format", "csv",
                     "--language", "ru", "--out", str(out)]) == 0  # fmt: skip
    data = out.read_bytes()
    about = (tmp_path / "release.about.txt").read_text(encoding="utf-8-sig")
    assert hashlib.sha256(data).hexdigest() in about and "+05:00" in about
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0][0] == "Таблица" and tabular.table_digest(parsed) in about
    codes = re.compile(r"^[a-z]+(_[a-z]+)+$")
    assert not [c for r in parsed for c in r if codes.match(c)]


def test_a_release_records_its_choices_and_an_audit_event(published):
    from dpa_panel.models import AuditEvent

    with Session(published) as s:
        release = s.scalars(select(StatsRelease).order_by(StatsRelease.period.desc())).first()
        choices = json.loads(release.choices)
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "stats.release_published")).all()  # fmt: skip
    assert release.k == K
    assert set(choices["folding"]) == {"workplace_category", "position_level", "education_level"}
    assert choices["audit"]["rounds"] >= 1
    assert len(events) == len(board_documents(published))


def test_months_without_data_are_due_only_when_closed(engine):
    with Session(engine) as s:
        assert sr.due_periods(s, NOW) == []
    demo.seed_subjects(engine, 5, seed=1, now=datetime(2025, 7, 1, tzinfo=UTC))
    with Session(engine) as s:
        due = sr.due_periods(s, datetime(2025, 8, 1, 12, tzinfo=UTC))
    assert due and due[-1] == 202507 and due[0] <= 202506  # 2025-08 (open) is not due


def test_the_page_shows_the_hidden_mark_gaps_and_every_column():
    """The board page's view of stored cells: a hidden value is the "hidden" mark in the table
    (never "<k") and a gap (None) in the chart; a column the release does not have (a folded
    body type) is a dash; stock rows follow their vocabulary's order."""
    from dpa_panel.i18n import tr
    from dpa_panel.state.statistics_state import FOLDED, SERIES, release_view

    cells = [
        ("applications", "2026-01", "all", "submitted", 12),
        ("applications", "2026-01", "all", "approved", None),
        ("applications", "2026-01", "all", "rejected", None),
        ("applications", "2026-01", "all", "decisions", 9),
        ("disclosures", "2026-01", "all", "law_enforcement", 0),
        ("disclosures", "2026-01", "all", "total", 0),
        ("members_by_education_level", "2026-01", "other", "members", None),
        ("members_by_education_level", "2026-01", "bachelor", "members", 40),
        ("consents", "2026-01", "informing", "with_consent", 30),
        ("consents", "2026-01", "informing", "without_consent", None),
    ]
    shown, plotted = release_view(cells, "month", "2026-01", "kk")
    mark = tr("kk", "stats_rel.hidden_mark")
    assert shown["applications"] == [{"label": "2026-01", "submitted": "12", "approved": mark,
                                      "rejected": mark, "decisions": "9"}]  # fmt: skip
    assert plotted["applications"][0]["approved"] is None
    assert plotted["applications"][0]["submitted"] == 12
    row = shown["disclosures"][0]
    assert set(row) == {"label", *SERIES["disclosures"]}
    assert row["prosecutor"] == FOLDED and row["law_enforcement"] == "0"
    labels = [r["label"] for r in shown["members_by_education_level"]]
    assert labels == [tr("kk", "education_level.bachelor"), tr("kk", "education_level.other")]
    assert shown["consents"][0]["share_pct"] == mark  # a share of a hidden count is hidden
    assert "<" not in json.dumps(shown, ensure_ascii=False)


def _boundary_cells(april_joined: int, may_joined: int) -> dict:
    """Q2 after June's release: April's joins hidden, May shown, June and Q2 hidden. April
    and May approvals are 60 and 70; the quarter's approvals equal its joins."""
    from dpa_panel.services.stats_audit import AuditCell

    values = {
        ("applications", "2026-04", "all", "approved"): (60, False),
        ("memberships", "2026-04", "all", "joined"): (april_joined, True),
        ("applications", "2026-05", "all", "approved"): (70, False),
        ("memberships", "2026-05", "all", "joined"): (may_joined, False),
        ("applications", "2026-06", "all", "approved"): (63, True),
        ("memberships", "2026-06", "all", "joined"): (63, True),
    }
    q2 = sum(v for (t, *_), (v, _h) in values.items() if t == "memberships")
    values[("memberships", "2026-Q2", "all", "joined")] = (q2, True)
    values[("applications", "2026-Q2", "all", "approved")] = (q2, True)
    return {key: AuditCell(key, v, hidden, new=key[1] in ("2026-06", "2026-Q2"))
            for key, (v, hidden) in values.items()}  # fmt: skip


def test_a_quarter_identity_that_holds_only_by_cancelling_months_pins_nothing():
    """An approval on 30 April whose membership starts on 1 May (or an imported member) makes
    April's and May's "approvals = joins" false while the quarter's holds by cancelling.
    Kept, that quarter identity pinned April's hidden joins (60 + 70 − 71 = 59) whatever
    June hid, and every later month was refused as unprotectable."""
    from dpa_panel.services.stats_audit import audit

    april = ("memberships", "2026-04", "all", "joined")
    result = audit(_boundary_cells(april_joined=59, may_joined=71), K, only_new=False)
    assert "2026-Q2: an approval creates a member" in result.dropped
    assert april not in result.failing and result.bounds[april][1] - result.bounds[april][0] >= K


def test_a_quarter_identity_that_holds_month_by_month_still_pins():
    """The attacker's teeth: when April's and May's identities hold, the quarter's is kept
    and April's hidden joins equal its published approvals."""
    from dpa_panel.services.stats_audit import audit

    april = ("memberships", "2026-04", "all", "joined")
    result = audit(_boundary_cells(april_joined=60, may_joined=70), K, only_new=False)
    assert "2026-Q2: an approval creates a member" not in result.dropped
    assert april in result.failing and result.bounds[april] == (60, 60)
