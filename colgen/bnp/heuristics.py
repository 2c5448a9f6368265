"""Primal heuristics of branch-and-price that need more than the class space.

* :class:`PoolMip`: is there a placement reaching a target T among the columns already in the
  master's pool? A small MIP over those columns (cover, capacity and the out-star network rows in
  integer form) answers it within a node budget. Columns come from every threshold the search has
  visited, so the pool often holds a placement the tree has not reached yet.
* :func:`multistart`: randomized greedy attempts at T (milliseconds each; deterministic seed).

When and with which budgets they run is decided by :class:`colgen.bnp.primal.PrimalSchedule`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from colgen.backends import MatrixModel, get_backend
from colgen.bnp.master import Pool
from colgen.result import Placement
from colgen.space.allocations import Allocations
from colgen.space.class_space import ClassSpace
from colgen.space.greedy import greedy_at
from colgen.stop import Stop


class PoolMip:
    """The pool heuristic: a MIP over the pool's columns, on the run's backend and stop."""

    def __init__(self, space: ClassSpace, backend: str, stop: Stop):
        self.space, self.backend, self.stop = space, backend, stop
        self.runs = 0

    def __call__(self, pool: Pool, T: float, node_limit: int, cheapest: bool = False,
                 cutoff: float = np.inf) -> Placement | None:
        """A placement with every stage and link >= T from pool columns (within the class space's
        budget), or None (none found within ``node_limit`` branch-and-bound nodes). ``cheapest``:
        the cheapest such placement the MIP finds, costing less than ``cutoff``."""
        self.runs += 1
        sel = np.nonzero(pool.view("tau") >= T)[0]
        if not len(sel):
            return None
        M, C = self.space.num_layers, self.space.num_classes
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
        up.append(self.space.classes.sizes.astype(float))
        nrow = M + C
        cost = self.space.cost(counts) if self.space.price is not None else np.zeros(n)
        cap = min(self.space.budget if self.space.budget is not None else np.inf,
                  cutoff * (1 - 1e-9) if np.isfinite(cutoff) else np.inf)
        if np.isfinite(cap):                                # the budget (and what a cheaper one must beat)
            rows.append(np.full(n, nrow))
            cols.append(np.arange(n))
            vals.append(cost)
            lo.append(np.array([-np.inf]))
            up.append(np.array([cap]))
            nrow += 1
        if self.space.limits.max_stages is not None:      # at most max_stages stages
            rows.append(np.full(n, nrow))
            cols.append(np.arange(n))
            vals.append(np.ones(n))
            lo.append(np.array([-np.inf]))
            up.append(np.array([float(self.space.limits.max_stages)]))
            nrow += 1
        # out-star rows: a stage ending at l that uses class c is followed by one inside reach[c]
        reach = self.space.classes.rho >= T
        outside = (used.astype(int) @ (~reach).T.astype(int)) > 0           # [column, c]
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
        model = MatrixModel(c=cost if cheapest else np.zeros(n), A=A, row_lower=np.concatenate(lo),
                            row_upper=np.concatenate(up),
                            col_lower=np.zeros(n), col_upper=np.ones(n), integer=np.ones(n, dtype=bool),
                            maximize=False)
        engine = get_backend(self.backend, model.num_cols, model.num_rows)
        # No presolve: on pool models with thousands of star rows HiGHS spends minutes in it, deaf
        # to the clock (a child process bounds the damage for large models, see backends/highs.py).
        out = engine.solve(model, stop=self.stop, node_limit=node_limit, presolve=False)
        self.stop.check()                      # the MIP may have ended at the deadline
        if out.x is None:
            return None
        alloc = Allocations(start=start, end=end, members=sp.csr_matrix(counts), tau=pool.tau[sel],
                            units=self.space.classes, tp=self.space.shapes.t[pool.shape[sel]])
        return alloc.placement(np.nonzero(out.x > 0.5)[0])


def multistart(space: ClassSpace, T: float, attempts: int, rng: np.random.Generator,
               stop: Stop | None = None) -> Placement | None:
    """Randomized greedy attempts at T; None under the same-type rule (the greedy mixes types)."""
    if space.single_type:
        return None
    eligible = space.eligible(T)
    for _ in range(attempts):
        if stop is not None:
            stop.check()
        found = greedy_at(space, T, eligible, rng)
        if found:
            return found
    return None
