"""Primal heuristics for branch-and-price.

``pool_placement``: is there a placement reaching a target T that uses only columns already in the
master's pool? A small MIP over those columns (cover, capacity and the out-star network rows in
their integer form) answers it within a short time limit. Columns come from every threshold the
search has visited, so the pool often holds a placement the tree search has not reached yet.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from colgen.space.allocations import Allocations
from colgen.backends import MatrixModel
from colgen.backends.highs import solve_here
from colgen.bnp.master import ClassSpace, Pool
from colgen.result import Stage


def pool_placement(space: ClassSpace, pool: Pool, T: float, time_limit: float) -> tuple[Stage, ...] | None:
    """A placement with every stage and link >= T from pool columns, or None (none found in time)."""
    sel = np.nonzero(pool.view("tau") >= T)[0]
    if not len(sel):
        return None
    M, C = space.num_layers, space.num_classes
    start, end, counts = pool.start[sel], pool.end[sel], pool.counts[sel]
    used = counts > 0
    n = len(sel)
    rows, cols, vals, lo, up = [], [], [], [], []
    # cover: every layer exactly once
    length = end - start + 1
    cols.append(np.repeat(np.arange(n), length))
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    rows.append(np.repeat(start - 1, length) + offset)
    vals.append(np.ones(length.sum()))
    lo.append(np.ones(M))
    up.append(np.ones(M))
    # capacity per class
    r, c = np.nonzero(counts.T)
    rows.append(M + r)
    cols.append(c)
    vals.append(counts.T[r, c].astype(float))
    lo.append(np.full(C, -np.inf))
    up.append(space.classes.sizes.astype(float))
    # out-star rows: a stage ending at l that uses class c is followed by one inside reach[c]
    reach = space.classes.rho >= T
    outside = (used.astype(int) @ (~reach).T.astype(int)) > 0           # [column, c]
    nrow = M + C
    for l in range(1, M):
        ends, starts = end == l, start == l + 1
        for cl in np.nonzero((used & ends[:, None]).any(axis=0) & (outside & starts[:, None]).any(axis=0))[0]:
            members = np.nonzero((ends & used[:, cl]) | (starts & outside[:, cl]))[0]
            rows.append(np.full(len(members), nrow))
            cols.append(members)
            vals.append(np.ones(len(members)))
            lo.append(np.array([-np.inf]))
            up.append(np.array([1.0]))
            nrow += 1
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, n))
    model = MatrixModel(c=np.zeros(n), A=A, row_lower=np.concatenate(lo), row_upper=np.concatenate(up),
                        col_lower=np.zeros(n), col_upper=np.ones(n), integer=np.ones(n, dtype=bool),
                        maximize=False)
    out = solve_here(model, time_limit=time_limit, gap=0.0, verbose=False, relax=False)
    if out.x is None:
        return None
    alloc = Allocations(start=start, end=end, members=sp.csr_matrix(counts), tau=pool.tau[sel],
                        units=space.classes)
    return alloc.placement(np.nonzero(out.x > 0.5)[0])


def greedy_placement(space: ClassSpace) -> tuple[Stage, ...] | None:
    """A quick placement, no optimality claim: bisection over the candidate values with a greedy
    test that builds the pipeline front to back, each stage covering as many layers per GPU as it
    can with the GPUs left (only links to the previous stage fast enough)."""
    V = space.candidates()
    lo, hi, best = 0, len(V) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        found = greedy_at(space, float(V[mid]), space.eligible(float(V[mid])))
        if found:
            best, lo = found, mid + 1
        else:
            hi = mid - 1
    return best


def _longest(usable: np.ndarray, free: np.ndarray, k: int, most: int) -> int:
    """Longest L <= most whose usable classes (``usable[L]``, shrinking as L grows) hold k free
    GPUs; 0 if none (binary search)."""
    lo, hi = 0, most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if free[usable[mid]].sum() >= k else (lo, mid - 1)
    return lo


def greedy_at(space: ClassSpace, T: float, eligible: np.ndarray,
              rng: np.random.Generator | None = None) -> tuple[Stage, ...] | None:
    """One greedy attempt at target T; with ``rng`` the class order is perturbed (multi-start)."""
    M, K, cls = space.num_layers, space.max_k, space.classes
    reach = cls.rho >= T
    free = cls.sizes.copy()
    # Cheaper GPUs first: a class's value is its best one-layer throughput share.
    worth = space.class_tau()[1].max(axis=0)
    if rng is not None:
        worth = worth * rng.uniform(0.5, 1.5, size=len(worth))
    order = np.argsort(worth)
    prev: np.ndarray | None = None
    stages: list[tuple[int, int, np.ndarray]] = []
    start = 1
    while start <= M:
        ok_link = np.ones(space.num_classes, dtype=bool) if prev is None else reach[prev].all(axis=0)
        best = None
        for k in range(1, K + 1):
            L = _longest(eligible[:, k] & ok_link & (free > 0), free, k, M - start + 1)
            if L == 0:
                continue
            usable = eligible[L, k] & ok_link & (free > 0)
            counts = np.zeros(space.num_classes, dtype=np.int64)
            need = k
            for c in order:
                if usable[c] and need:
                    counts[c] = min(need, free[c])
                    need -= counts[c]
            if best is None or L / k > best[0] / best[1]:
                best = (L, k, counts)
        if best is None:
            return None
        L, _, counts = best
        free -= counts
        stages.append((start, start + L - 1, counts))
        prev = np.nonzero(counts)[0]
        start += L
    return cls.assign(stages)
