"""Suppression of one table with its totals (split from ``statistics.py``).

``suppress_block`` is the first pass inside one table; a published release is then proved by
the integer-programming audit of ``services.stats_audit`` over every release (issue 14).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

TOTAL = "total"
Cell = int | str


def marker(k: int) -> str:
    """What a suppressed cell shows."""
    return f"<{k}"

_GROUND = ("ground",)
_MARGIN_PENALTY = 1_000_000


@dataclass
class _Entry:
    key: tuple[Hashable, Hashable]
    value: int
    rv: Hashable  # the row line it belongs to (or ground: a line without a published total)
    cv: Hashable  # the column line
    sign: int  # +1 cell or grand total, -1 a row/column total (see docs/anonymisation.md)
    margin: bool


def _entries(
    rows: Sequence[Hashable],
    cols: Sequence[Hashable],
    cells: dict[tuple[Hashable, Hashable], int],
    row_totals: bool,
    col_totals: bool,
) -> list[_Entry]:
    both = row_totals and col_totals

    def rv(r):
        return ("r", r) if row_totals else _GROUND

    def cv(c):
        return ("c", c) if col_totals else _GROUND

    out = [_Entry((r, c), cells.get((r, c), 0), rv(r), cv(c), 1, False) for r in rows for c in cols]
    if row_totals:
        for r in rows:
            total = sum(cells.get((r, c), 0) for c in cols)
            out.append(
                _Entry((r, TOTAL), total, rv(r), ("c", TOTAL) if both else _GROUND, -1, True)
            )
    if col_totals:
        for c in cols:
            total = sum(cells.get((r, c), 0) for r in rows)
            out.append(
                _Entry((TOTAL, c), total, ("r", TOTAL) if both else _GROUND, cv(c), -1, True)
            )
    if both:
        grand = sum(cells.get((r, c), 0) for r in rows for c in cols)
        out.append(_Entry((TOTAL, TOTAL), grand, ("r", TOTAL), ("c", TOTAL), 1, True))
    return out


def _arcs(entry: _Entry, k: int, hidden: bool) -> list[tuple[Hashable, Hashable]]:
    """Directions in which an attacker could move a hidden entry by one and stay consistent.

    Moving "row line -> column line" changes the entry by ``sign``; the other way by
    ``-sign``. A small hidden value lies in ``1..k-1``; any other hidden value is ``>= k``
    (the attacker is assumed to know which is which — the worst case).
    """
    x = entry.value
    small = 0 < x < k
    if hidden and small:
        can_up, can_down = x <= k - 2, x >= 2
    else:  # a complementary (or candidate complementary) entry: x >= k
        can_up, can_down = True, x >= k + 1
    arcs = []
    if (entry.sign > 0 and can_up) or (entry.sign < 0 and can_down):
        arcs.append((entry.rv, entry.cv))
    if (entry.sign > 0 and can_down) or (entry.sign < 0 and can_up):
        arcs.append((entry.cv, entry.rv))
    return arcs


def _reachable(start: Hashable, goal: Hashable, adjacency: dict[Hashable, list[Hashable]]) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in adjacency.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _unprotected(entries: list[_Entry], hidden: set[int], k: int) -> list[int]:
    """Hidden entries whose value the published numbers (with the bounds) pin down."""
    arcs = {i: _arcs(entries[i], k, True) for i in hidden}
    out = []
    for i in sorted(hidden):
        e = entries[i]
        if e.rv == _GROUND and e.cv == _GROUND:
            continue  # in no published equation at all
        adjacency: dict[Hashable, list[Hashable]] = defaultdict(list)
        for j in hidden:
            if j != i:
                for a, b in arcs[j]:
                    adjacency[a].append(b)
        if not any(_reachable(b, a, adjacency) for a, b in arcs[i]):
            out.append(i)
    return out


def _cheapest_complement(
    entries: list[_Entry], hidden: set[int], i: int, k: int
) -> list[int] | None:
    """The cheapest published entries whose hiding puts entry ``i`` on a movable cycle."""
    edges: dict[Hashable, list[tuple[Hashable, int, int | None]]] = defaultdict(list)
    for j, e in enumerate(entries):
        if j == i:
            continue
        if j in hidden:
            cost, tag = 0, None
        elif e.value > 0:
            cost = e.value + (_MARGIN_PENALTY if e.margin else 0)
            tag = j
        else:
            continue  # a published zero is never hidden
        for a, b in _arcs(e, k, j in hidden):
            edges[a].append((b, cost, tag))
    best: tuple[int, list[int]] | None = None
    for a, b in _arcs(entries[i], k, True):
        # Dijkstra from b back to a.
        heap: list[tuple[int, int, Hashable, tuple[int, ...]]] = [(0, 0, b, ())]
        done: set = set()
        counter = 1
        while heap:
            cost, _, node, path = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node == a:
                if best is None or cost < best[0]:
                    best = (cost, list(path))
                break
            for nxt, step, tag in edges.get(node, ()):
                if nxt not in done:
                    heapq.heappush(
                        heap,
                        (cost + step, counter, nxt, path + ((tag,) if tag is not None else ())),
                    )
                    counter += 1
    return best[1] if best else None


def suppress_block(
    rows: Sequence[Hashable],
    cols: Sequence[Hashable],
    cells: dict[tuple[Hashable, Hashable], int],
    k: int,
    *,
    row_totals: bool = True,
    col_totals: bool = True,
) -> dict[tuple[Hashable, Hashable], Cell]:
    """Primary and complementary suppression of one table with its totals.

    Returns every published entry keyed ``(row, col)``; totals are keyed with ``TOTAL``
    (``(row, TOTAL)``, ``(TOTAL, col)``, ``(TOTAL, TOTAL)``). Values are ``int`` or
    ``marker(k)``.

    1. Primary: every entry (cell or total) with ``1 <= value <= k-1`` is hidden.
    2. Complementary, until stable: a hidden entry is *pinned* when the published totals and
       the bounds (small: ``1..k-1``; others: ``>= k``; zeros are published) leave it a single
       possible value. For each pinned entry the cheapest set of published non-zero entries
       (cells before totals, smallest first) that puts it on a cycle along which it can move
       is hidden too. In a single line this is "hide the next-smallest cell".
    3. If no such set exists, every non-zero entry of the table is hidden.
    """
    entries = _entries(rows, cols, cells, row_totals, col_totals)
    hidden = {i for i, e in enumerate(entries) if 0 < e.value < k}
    while hidden:
        pinned = _unprotected(entries, hidden, k)
        if not pinned:
            break
        extra = _cheapest_complement(entries, hidden, pinned[0], k)
        if not extra:
            everything = {i for i, e in enumerate(entries) if e.value > 0}
            if everything <= hidden:
                break
            hidden = everything
            continue
        hidden.update(extra)
    mark = marker(k)
    return {e.key: (mark if i in hidden else e.value) for i, e in enumerate(entries)}


def _sum_published(values: Iterable[Cell], k: int) -> Cell:
    """A coarser total: the sum of published parts, or the marker if any part is hidden."""
    total = 0
    for value in values:
        if isinstance(value, str):
            return marker(k)
        total += value
    return total


def _pct(numerator: Cell, denominator: Cell, k: int) -> Cell | None:
    """A whole percentage of two published counts; hidden if either is; None if 0/0."""
    if isinstance(numerator, str) or isinstance(denominator, str):
        return marker(k)
    if denominator == 0:
        return None
    return int(numerator * 100 / denominator + 0.5)


def _primary(value: int, k: int) -> Cell:
    return marker(k) if 0 < value < k else value
