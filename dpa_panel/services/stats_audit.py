"""The release audit: what could an insider with every release and the identities pin down?

The attacker (``docs/anonymisation.md``, threat model) holds every published cell of every
release and knows the identities of the association's data (``identities``): an approval
creates a member; decisions = approved + rejected; members in force = previous + joined −
left; every category table adds up to the members in force; with + without consent =
subjects; a quarter (year) is the sum of its months; one subject per application. Every
hidden cell and every *implied* cell (joins, leavers per category, consents granted: the
difference of two published stocks) is an unknown non-negative integer.

For every hidden cell (and every implied cell holding a small count) the audit solves its maximum
(and, unless the maximum alone proves protection, its minimum) subject to all of that with
HiGHS (``highspy``): first the LP relaxation; when the LP optimum is not attained at an
integral point, the integer program. An integral LP optimum is the integer optimum, so every
bound is exact. (``tests/test_stats_releases.py`` attacks the stored releases independently
with ``scipy.optimize.milp``.) A cell is **protected** when ``max − min ≥ k`` and, if its true value
is below ``k``, ``max ≥ k`` (``k``: the cell's ``threshold``, the ``k`` in force, or for an earlier
release's cell the smallest ``k`` it has been held to since; decision 14-stats-9).

An identity that the true values do not satisfy (history changed after an earlier release
was frozen) is dropped and named in the summary: an attacker who assumes it only deceives
themselves, and an infeasible system would prove nothing.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np

from dpa_panel.services.stats_release_data import (
    ALL,
    CONSENT_PURPOSES,
    DIMENSION_TABLES,
    FLOW_TABLES,
    GRANTED,
    JOINED_BY,
    LEFT_BY,
    NEW_SUBJECTS,
    STATISTIC_TABLES,
    month_label,
    parse_period,
    previous_month,
)

Key = tuple[str, str, str, str]
INF = math.inf


class AuditTimeout(Exception):
    """The audit did not finish within its time limit."""


@dataclass
class AuditCell:
    key: Key
    true: int
    hidden: bool
    visible: bool = True
    sensitive: bool = True
    #: Part of the release being audited (its constraints are the new ones).
    new: bool = False
    #: An earlier release's cell: the smallest threshold in force from its publication until
    #: the latest release (``None``: the audit's own ``k``). See ``threshold``.
    k: int | None = None

    @property
    def unknown(self) -> bool:
        """A variable of the attacker's program: hidden, or never shown at all."""
        return self.hidden or not self.visible

    def threshold(self, k: int) -> int:
        """The width this cell must keep: the audit's ``k``, or for an earlier release's cell
        the smaller of it and the threshold the cell has been protected at since it was
        published (decision 14-stats-9). A raised ``k`` protects every new cell at the new
        value, but cannot widen what the board already holds: asking it of old cells made
        every later release unprotectable, so the board would never have seen another month.
        A lowered ``k`` applies to old cells too (the association's new judgement)."""
        return k if self.k is None else min(self.k, k)

    def required(self, k: int) -> bool:
        """Must be protected: a hidden cell, or an implied sensitive one whose true value is
        a small count (``1 .. k-1``, ``k`` the cell's ``threshold``). An implied count of
        ``k`` or more that the attacker can pin tells what a published cell of that size
        would: nothing about one person."""
        if self.visible:
            return self.hidden
        return self.sensitive and 0 < self.true < self.threshold(k)


@dataclass
class Constraint:
    terms: dict[Key, int]
    #: ``"eq"``: Σ = 0; ``"ge"``: Σ ≥ 0.
    sense: str
    label: str

    def holds(self, cells: dict[Key, AuditCell]) -> bool:
        total = sum(coef * cells[key].true for key, coef in self.terms.items())
        return total == 0 if self.sense == "eq" else total >= 0


@dataclass
class AuditResult:
    bounds: dict[Key, tuple[float, float]] = field(default_factory=dict)
    failing: list[Key] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    constraints: int = 0
    programs: int = 0
    seconds: float = 0.0
    #: component of each failing cell: every key that shares an equation with it
    neighbourhood: dict[Key, set[Key]] = field(default_factory=dict)


def _period_kind(period: str) -> str:
    if "~" in period:
        return "rest"
    if "-Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


def _months_of(period: str) -> list[str]:
    if "-Q" in period:
        year, q = int(period[:4]), int(period[-1])
        return [f"{year:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    return [f"{int(period):04d}-{m:02d}" for m in range(1, 13)]


def identities(cells: dict[Key, AuditCell]) -> list[Constraint]:
    """Every identity the attacker knows, over ``cells``; adds the residual unknowns it needs
    (a month never released, consents granted, new subjects) to ``cells``."""
    out: list[Constraint] = []
    tables: dict[tuple[str, str], dict[tuple[str, str], Key]] = defaultdict(dict)
    for key in list(cells):
        tables[(key[0], key[1])][(key[2], key[3])] = key
    periods = {key[1] for key in cells if _period_kind(key[1]) != "rest"}

    def get(table: str, period: str, row: str, col: str) -> Key | None:
        key = (table, period, row, col)
        return key if key in cells else None

    def residual(key: Key, value: int, sensitive: bool, source: Key) -> Key | None:
        """An implied unknown derived from ``source``'s period: new, and held to a threshold,
        as that period's cells are."""
        if value < 0:
            return None
        cells[key] = AuditCell(key, value, hidden=True, visible=False, sensitive=sensitive,
                               new=cells[source].new, k=cells[source].k)  # fmt: skip
        return key

    def add(terms: dict[Key | None, int], label: str, sense: str = "eq") -> None:
        if None not in terms:
            out.append(Constraint(dict(terms), sense, label))  # type: ignore[arg-type]

    for p in sorted(periods):
        dec, ap, rj = (get("applications", p, ALL, c)
                       for c in ("decisions", "approved", "rejected"))  # fmt: skip
        add({dec: 1, ap: -1, rj: -1}, f"{p}: decisions = approved + rejected")
        add({get("memberships", p, ALL, "joined"): 1, ap: -1}, f"{p}: an approval creates a member")
        for table in ("withdrawals", "disclosures"):
            parts = {key: -1 for (row, col), key in tables[(table, p)].items() if col != "total"}
            total = get(table, p, ALL, "total")
            if total and parts:
                add({total: 1, **parts}, f"{p}: {table} total = sum of its columns")
        in_force = get("members", p, ALL, "in_force")
        if in_force:
            for dim, table in DIMENSION_TABLES.items():
                parts = {key: -1 for key in tables[(table, p)].values()}
                add({in_force: 1, **parts}, f"{p}: members by {dim} add up to members in force")
                for flow, total_col in ((JOINED_BY[dim], "joined"), (LEFT_BY[dim], "left")):
                    parts = {key: -1 for key in tables[(flow, p)].values()}
                    total = get("memberships", p, ALL, total_col)
                    if parts and total:
                        add({total: 1, **parts}, f"{p}: {flow} add up to {total_col}")
        subjects = get("subjects", p, ALL, "subjects")
        for purpose in CONSENT_PURPOSES:
            with_c = get("consents", p, purpose, "with_consent")
            without = get("consents", p, purpose, "without_consent")
            if subjects and with_c and without:
                add({subjects: 1, with_c: -1, without: -1}, f"{p}: {purpose} with + without")

    # Stocks of consecutive months.
    for p in sorted(periods):
        if _period_kind(p) != "month" or not get("members", p, ALL, "in_force"):
            continue
        prev = month_label(previous_month(parse_period(p)))
        if get("members", prev, ALL, "in_force"):
            add({("members", p, ALL, "in_force"): 1, ("members", prev, ALL, "in_force"): -1,
                 get("memberships", p, ALL, "joined"): -1, get("memberships", p, ALL, "left"): 1},
                f"{p}: in force = previous + joined − left")  # fmt: skip
            for dim, table in DIMENSION_TABLES.items():
                for (row, _col), key in tables[(table, p)].items():
                    before = get(table, prev, row, "members")
                    add({key: 1, before: -1, get(JOINED_BY[dim], p, row, "n"): -1,
                         get(LEFT_BY[dim], p, row, "n"): 1},
                        f"{p}: {table} {row} = previous + joined − left")  # fmt: skip
            for purpose in CONSENT_PURPOSES:
                now_c = get("consents", p, purpose, "with_consent")
                before = get("consents", prev, purpose, "with_consent")
                withdrawn = get("withdrawals", p, ALL, purpose)
                if now_c and before and withdrawn:
                    value = cells[now_c].true - cells[before].true + cells[withdrawn].true
                    granted = residual((GRANTED, p, purpose, "n"), value, True, now_c)
                    add({now_c: 1, before: -1, granted: -1, withdrawn: 1},
                        f"{p}: {purpose} consents = previous + granted − withdrawn")  # fmt: skip
            now_s, before_s = get("subjects", p, ALL, "subjects"), get("subjects", prev, ALL,
                                                                        "subjects")  # fmt: skip
            if now_s and before_s:
                value = cells[now_s].true - cells[before_s].true
                new = residual((NEW_SUBJECTS, p, ALL, "n"), value, False, now_s)
                add({now_s: 1, before_s: -1, new: -1}, f"{p}: subjects = previous + new")
                add({new: 1, get("applications", p, ALL, "submitted"): -1},
                    f"{p}: one subject per application", "ge")  # fmt: skip

    # A quarter (year) is the sum of its months; months never released are one unknown.
    for p in sorted(periods):
        kind = _period_kind(p)
        if kind not in ("quarter", "year"):
            continue
        months = _months_of(p)
        for table in FLOW_TABLES:
            for (row, col), key in tables[(table, p)].items():
                if table == "disclosures" and col != "total":
                    continue  # folding may differ between months: only the total is linked
                parts = {get(table, m, row, col): -1 for m in months}
                present = {k_: v for k_, v in parts.items() if k_ is not None}
                terms: dict[Key | None, int] = {key: 1, **present}
                if len(present) < len(months):
                    value = cells[key].true - sum(cells[k_].true for k_ in present)
                    rest = residual((table, f"{p}~rest", row, col), value, True, key)
                    terms[rest] = -1
                add(terms, f"{p}: {table} {col} = sum of its months")
    return out


def _split_label(label: str) -> tuple[str, str]:
    period, _, family = label.partition(": ")
    return period, family


def _without_coincidences(kept: list[Constraint], dropped: list[str]) -> list[Constraint]:
    """Drop (and name in ``dropped``) a quarter's or year's identity whose same identity fails
    in one of its months: it holds only because the months' errors cancel (an approval on
    30 April whose membership starts on 1 May), which nobody can know without the hidden
    values. Kept, it let a quarter's end pin a cell hidden months earlier (April's joined =
    April's approved + May's approved − May's joined) whatever the new month hid, and every
    later release was refused. Dropping a constraint only widens the attacker's intervals of
    an attacker who does not know the coincidence."""
    failing = {_split_label(label) for label in dropped}
    if not failing:
        return kept
    out = []
    for con in kept:
        period, family = _split_label(con.label)
        if _period_kind(period) in ("quarter", "year") and any(
            (month, family) in failing for month in _months_of(period)
        ):
            dropped.append(con.label)
            continue
        out.append(con)
    return out


def _components(variables: list[Key], constraints: list[Constraint], unknown) -> dict[Key, Key]:
    parent = {v: v for v in variables}

    def find(v):
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for con in constraints:
        members = [key for key in con.terms if unknown(key)]
        for other in members[1:]:
            ra, rb = find(members[0]), find(other)
            if ra != rb:
                parent[ra] = rb
    return {v: find(v) for v in variables}


class _Program:
    """One component's program in HiGHS (``highspy``): the model is built once and only the
    objective changes between solves, so each bound is a warm-started re-solve. The LP
    relaxation comes first; if its optimum is not integral, the integer program decides."""

    def __init__(self, n: int, rows: list[tuple[dict[int, float], float, float]], deadline):
        self.n, self.rows, self.deadline = n, rows, deadline
        self.lp = self._model(integral=False)
        self.mip = None
        #: id(model) -> the column whose cost is set
        self.costs: dict[int, int] = {}
        self.mip_solves = 0

    def _model(self, *, integral: bool):
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        if not integral:  # re-solves start from the previous basis (presolve would drop it)
            highs.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, len(self.rows)
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n)
        lp.col_upper_ = np.full(self.n, highspy.kHighsInf)
        lp.row_lower_ = np.array([lo for _t, lo, _hi in self.rows], dtype=float)
        lp.row_upper_ = np.array([hi for _t, _lo, hi in self.rows], dtype=float)
        starts, index, value = [0], [], []
        for terms, _lo, _hi in self.rows:
            for col, coef in terms.items():
                index.append(col)
                value.append(coef)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        if integral:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * self.n
        highs.passModel(lp)
        return highs

    def _run(self, highs, col: int, sign: float) -> tuple[float, np.ndarray | None]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise AuditTimeout
        highs.setOptionValue("time_limit", remaining)
        previous = self.costs.get(id(highs))
        if previous is not None and previous != col:
            highs.changeColCost(previous, 0.0)
        highs.changeColCost(col, sign)
        self.costs[id(highs)] = col
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            value = highs.getInfo().objective_function_value
            return value, np.array(highs.getSolution().col_value)
        if status in (highspy.HighsModelStatus.kUnbounded,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible):  # fmt: skip
            return -INF, None
        if status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt):
            raise AuditTimeout
        raise RuntimeError(f"audit program failed: {status}")

    def minimum(self, col: int, sign: float = 1.0) -> float:
        """min of ``sign · x[col]`` over the non-negative integer points."""
        value, x = self._run(self.lp, col, sign)
        if x is None or np.all(np.abs(x - np.round(x)) < 1e-7):
            return value if x is None else float(round(value))
        if self.mip is None:
            self.mip = self._model(integral=True)
        self.mip_solves += 1
        value, _x = self._run(self.mip, col, sign)
        return float(round(value)) if value != -INF else value


def protected(lo: float, hi: float, true: int, k: int) -> bool:
    return hi - lo >= k and (true >= k or hi >= k)


def audit(
    cells: dict[Key, AuditCell],
    k: int,
    *,
    time_limit: float = 60.0,
    only_new: bool = True,
    constraints: list[Constraint] | None = None,
    only_keys: set[Key] | None = None,
) -> AuditResult:
    """Bounds of every required cell that the new release can affect (all, with
    ``only_new=False``; only ``only_keys`` when given), and which are not protected.

    Hiding one more cell turns a constant into an unknown, which can only widen every
    interval: after a round of hiding, only the cells that failed and the newly hidden ones
    need solving again (``only_keys``)."""
    started = time.monotonic()
    deadline = started + time_limit
    result = AuditResult()
    if constraints is None:
        constraints = identities(cells)
    kept = []
    for con in constraints:
        if any(key[0] in STATISTIC_TABLES for key in con.terms):
            continue
        if con.holds(cells):
            kept.append(con)
        else:
            result.dropped.append(con.label)
    kept = _without_coincidences(kept, result.dropped)
    result.constraints = len(kept)

    def unknown(key: Key) -> bool:
        return cells[key].unknown

    variables = [key for key, cell in cells.items() if cell.unknown]
    root = _components(variables, kept, unknown)
    touched: set[Key] = set()
    for con in kept:
        if not only_new or any(cells[key].new for key in con.terms):
            touched.update(root[key] for key in con.terms if unknown(key))
    if not only_new:
        touched.update(root.values())
    members: dict[Key, list[Key]] = defaultdict(list)
    for var in variables:
        members[root[var]].append(var)
    by_component: dict[Key, list[Constraint]] = defaultdict(list)
    for con in kept:
        roots = {root[key] for key in con.terms if unknown(key)}
        if roots:
            by_component[next(iter(roots))].append(con)
    for comp in touched:
        variables_c = members[comp]
        required = [key for key in variables_c if cells[key].required(k)
                    and (only_keys is None or key in only_keys)]  # fmt: skip
        if not required:
            continue
        index = {key: i for i, key in enumerate(variables_c)}
        rows: list[tuple[dict[int, float], float, float]] = []
        neighbourhood: set[Key] = set()
        for con in by_component[comp]:
            terms: dict[int, float] = defaultdict(float)
            constant = 0.0
            for key, coef in con.terms.items():
                neighbourhood.add(key)
                if unknown(key):
                    terms[index[key]] += coef
                else:
                    constant += coef * cells[key].true
            upper = -constant if con.sense == "eq" else highspy.kHighsInf
            rows.append((dict(terms), -constant, upper))
        program = _Program(len(variables_c), rows, deadline)
        for key in required:
            col, true, ck = index[key], cells[key].true, cells[key].threshold(k)
            hi = -program.minimum(col, -1.0)
            result.programs += 1
            if hi - true >= ck and (true >= ck or hi >= ck):
                lo = None  # already protected whatever the minimum: skip that program
            else:
                lo = max(program.minimum(col), 0.0)
                result.programs += 1
            result.bounds[key] = (lo if lo is not None else -INF, hi)
            if lo is not None and not protected(lo, hi, true, ck):
                result.failing.append(key)
                result.neighbourhood[key] = neighbourhood
    result.seconds = time.monotonic() - started
    return result
