"""The full joint ILP over every allocation: the reference baseline colgen is measured against.

Three formulations of the same feasible set (docs/ilp.md has the rows in full):

* ``seed``: the design document's model: binary z[a] per memory-feasible allocation, binary
  e[a1, a2] per pair of consecutive allocations with disjoint GPU sets, coverage, exclusivity,
  start/end, connectivity and linking rows, and big-M throughput rows with one generic constant
  (the document leaves it open; the largest allocation throughput is the smallest generic value that
  is valid, since t never exceeds it: a network M equal to the largest *link* throughput is not).
* ``tight``: the same variables with a stronger relaxation: one throughput row per layer
  ``t <= sum_{a covers l} tau_a z_a`` (exactly one allocation covers a layer), successor flows as
  equalities, one aggregated network row per stage boundary, and every big-M replaced by a proven
  upper bound U on the optimum.
* ``compact``: no pair variables. With ``u[l, c]`` = "the stage ending at layer l uses a GPU of class
  c" and ``w[l, D]`` = "the stage starting at l+1 uses a GPU of some class in D" (both sums of z),
  one row ``t <= r + (U - r)(2 - u[l, c] - w[l, D])`` per boundary, class c and link level r < U,
  where D holds the classes whose links from c are no faster than r. GPUs in one class
  (colgen/classes.py) have identical links, so this is exact and aggregates rows by node/level.

Models are built in bulk from index arrays; :func:`estimate` predicts their size combinatorially
before anything is enumerated, and :func:`solve_ilp` refuses a model that would not fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from colgen.backends import MatrixModel
from colgen.choices import FORMULATIONS
from colgen.errors import InputError, ModelTooLargeError
from colgen.ilp.size import BYTES_PER_NNZ, BYTES_PER_VECTOR, _levels, estimate
from colgen.limits import CHUNK_BYTES, Budget, memory_budget_bytes
from colgen.model.instance import Instance
from colgen.model.tables import Tables
from colgen.space.allocations import Allocations, enumerate_allocations, fitting_pairs
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import gpu_classes
from colgen.stop import Stop


@dataclass(frozen=True)
class IlpModel:
    formulation: str
    model: MatrixModel
    alloc: Allocations
    upper: float
    scale: float
    """Throughput unit inside the model (tokens/s per unit of t)."""


def _layer_incidence(alloc: Allocations, M: int) -> sp.csr_matrix:
    """Layer x allocation 0/1 matrix: which allocations cover each layer."""
    length = alloc.length
    cols = np.repeat(np.arange(len(alloc)), length)
    offsets = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    rows = np.repeat(alloc.start - 1, length) + offsets
    return sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(M, len(alloc)))


def _pairs(alloc: Allocations, M: int, budget: Budget) -> tuple[np.ndarray, np.ndarray]:
    """All (a1, a2) with a1 ending where a2 starts - 1 and GPU use that fits together."""
    first, second = [], []
    for part, S, ok in fitting_pairs(alloc, M, budget=budget):
        i, j = np.nonzero(ok)
        budget.take(16 * len(i), "pairs of consecutive allocations")
        first.append(part[i])
        second.append(S[j])
    if not first:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(first).astype(np.int64), np.concatenate(second).astype(np.int64)


def _pair_throughput(alloc: Allocations, p1: np.ndarray, p2: np.ndarray, budget: Budget) -> np.ndarray:
    """Link throughput of every pair, in bulk: min over the units of a1 and a2 of their links
    (in blocks whose temporaries stay below :data:`~colgen.limits.CHUNK_BYTES`)."""
    if not len(p1):
        return np.zeros(0)
    R = alloc.units.rho
    U = alloc.units.count
    budget.take(len(alloc) * U * 9 + len(p1) * 8, "link throughputs of the pairs")
    used = alloc.members.toarray() > 0
    from_a = np.empty((len(alloc), U))                                            # [a, unit]
    step = max(1, CHUNK_BYTES // (9 * U * U + 1))
    for first in range(0, len(alloc), step):
        budget.check()
        block = used[first:first + step]
        from_a[first:first + step] = np.where(block[:, :, None], R[None, :, :], np.inf).min(axis=1)
    out = np.empty(len(p1))
    step = max(1, CHUNK_BYTES // (9 * U + 1))
    for first in range(0, len(p1), step):
        budget.check()
        a, b = p1[first:first + step], p2[first:first + step]
        out[first:first + step] = np.where(used[b], from_a[a], np.inf).min(axis=1)
    return out


class _Rows:
    """Collects blocks of rows as COO triplets and bounds, then makes one CSR matrix block by
    block (the run's deadline is checked between blocks; memory is booked as rows arrive)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self.lo: list[np.ndarray] = []
        self.up: list[np.ndarray] = []
        self.n = 0
        self.nnz = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float, count: int,
            lo: float | np.ndarray, up: float | np.ndarray) -> None:
        self.nnz += len(rows)
        self.budget.take(BYTES_PER_NNZ * len(rows) + BYTES_PER_VECTOR * count, f"{self.nnz:,} nonzeros so far")
        self.blocks.append((np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                            np.broadcast_to(np.asarray(vals, dtype=float), (len(rows),)), count))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.up.append(np.broadcast_to(np.asarray(up, dtype=float), (count,)))
        self.n += count

    def add_matrix(self, mat: sp.spmatrix, col_offset: int, lo: float | np.ndarray,
                   up: float | np.ndarray) -> None:
        coo = sp.coo_matrix(mat)
        self.add(coo.row, coo.col + col_offset, coo.data, mat.shape[0], lo, up)

    def build(self, ncols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        parts = []
        for r, c, v, count in self.blocks:
            self.budget.check()
            parts.append(sp.csr_matrix((v, (r, c)), shape=(count, ncols)))
        self.budget.check()
        A = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, ncols))
        return A, np.concatenate(self.lo), np.concatenate(self.up)


def build(instance: Instance, formulation: str, alloc: Allocations | None = None, *, stop: Stop | None = None,
          memory_limit_bytes: int | None = None) -> IlpModel:
    """The full ILP over ``alloc`` (default: every memory-feasible allocation). The build checks
    ``stop`` (deadline, interrupts) between its steps and books the memory of what it creates,
    raising :class:`ModelTooLargeError` before it passes ``memory_limit_bytes`` (default 80 % of
    the available memory): the size of a pruned space is not known before it is built."""
    if formulation not in FORMULATIONS:
        raise InputError("formulation", f"unknown formulation '{formulation}'",
                         f"use one of {', '.join(FORMULATIONS)}")
    budget = Budget(stop, memory_limit_bytes, f"the {formulation} model")
    tab = instance.tables
    M = tab.num_layers
    alloc = alloc if alloc is not None else enumerate_allocations(tab, budget, instance.stage_limits)
    nA = len(alloc)
    U = fluid_upper_bound(tab)
    scale = U if U > 0 else 1.0     # throughputs enter the model in units of U: well scaled
    cover = _layer_incidence(alloc, M)
    rows = _Rows(budget)
    rows.add_matrix(cover, 0, 1.0, 1.0)                               # coverage
    rows.add_matrix(alloc.members.T, 0, -np.inf, alloc.units.sizes.astype(float))   # exclusivity
    if instance.stage_limits.max_stages is not None:                                   # number of stages
        rows.add(np.zeros(nA), np.arange(nA), 1.0, 1, -np.inf, float(instance.stage_limits.max_stages))
    if formulation == "compact":
        ncols = nA + 1
        t = nA
        _layer_throughput_rows(rows, cover, alloc, t, scale)
        _compact_network_rows(rows, tab, alloc, t, scale)
    else:
        p1, p2 = _pairs(alloc, M, budget)
        nP = len(p1)
        ncols = nA + nP + 1
        t = nA + nP
        e = nA + np.arange(nP)
        out_pairs = sp.csr_matrix((np.ones(nP), (p1, e)), shape=(nA, ncols))
        in_pairs = sp.csr_matrix((np.ones(nP), (p2, e)), shape=(nA, ncols))
        not_last, not_first = np.nonzero(alloc.end < M)[0], np.nonzero(alloc.start > 1)[0]
        rho = _pair_throughput(alloc, p1, p2, budget) / scale
        tau = alloc.tau / scale
        if formulation == "seed":
            # One generic constant for both kinds of row: t never exceeds the largest allocation
            # throughput, so M = max tau keeps every inactive row slack.
            m_alloc = m_net = float(tau.max()) if nA else 0.0
            for sel, lo in ((alloc.start == 1, 1.0), (alloc.end == M, 1.0)):   # pipeline start / end
                idx = np.nonzero(sel)[0]
                rows.add(np.zeros(len(idx)), idx, 1.0, 1, lo, np.inf)
            for mat, sel in ((out_pairs, not_last), (in_pairs, not_first)):      # connectivity
                _flow_rows(rows, mat, sel, lo=0.0, up=np.inf)
            k = np.arange(nP)
            rows.add(np.concatenate([k, k]), np.concatenate([e, p1]), np.r_[np.ones(nP), -np.ones(nP)],
                     nP, -np.inf, 0.0)                                             # e <= z[a1]
            rows.add(np.concatenate([k, k]), np.concatenate([e, p2]), np.r_[np.ones(nP), -np.ones(nP)],
                     nP, -np.inf, 0.0)                                             # e <= z[a2]
            a = np.arange(nA)
            rows.add(np.concatenate([a, a]), np.concatenate([np.full(nA, t), a]),
                     np.r_[np.ones(nA), m_alloc - tau], nA, -np.inf, m_alloc)  # t <= tau + M(1-z)
            rows.add(np.concatenate([k, k]), np.concatenate([np.full(nP, t), e]),
                     np.r_[np.ones(nP), m_net - rho], nP, -np.inf, m_net)          # t <= rho + M(1-e)
        else:
            _layer_throughput_rows(rows, cover, alloc, t, scale)
            for mat, sel in ((out_pairs, not_last), (in_pairs, not_first)):      # one successor
                _flow_rows(rows, mat, sel, lo=0.0, up=0.0)
            slow = np.nonzero(rho < 1.0)[0]
            boundary = alloc.end[p1[slow]] - 1
            rows.add(np.concatenate([np.arange(M - 1), boundary]),
                     np.concatenate([np.full(M - 1, t), e[slow]]),
                     np.r_[np.ones(M - 1), 1.0 - rho[slow]], M - 1, -np.inf, 1.0)  # network per boundary
    budget.check()
    A, lo, up = rows.build(ncols)
    c = np.zeros(ncols)
    c[t] = 1.0
    col_upper = np.ones(ncols)
    col_upper[t] = np.inf if formulation == "seed" else 1.0
    integer = np.ones(ncols, dtype=bool)
    integer[t] = False
    model = MatrixModel(c=c, A=A, row_lower=lo, row_upper=up, col_lower=np.zeros(ncols),
                        col_upper=col_upper, integer=integer, maximize=True)
    return IlpModel(formulation, model, alloc, U, scale)


def _flow_rows(rows: _Rows, pairs: sp.csr_matrix, sel: np.ndarray, lo: float, up: float) -> None:
    """``sum_pairs e - z[a] (>= or =) 0`` for the allocations in ``sel``."""
    own = sp.csr_matrix((np.ones(len(sel)), (np.arange(len(sel)), sel)), shape=(len(sel), pairs.shape[1]))
    rows.add_matrix(pairs[sel] - own, 0, lo, up)


def _layer_throughput_rows(rows: _Rows, cover: sp.csr_matrix, alloc: Allocations, t: int, U: float) -> None:
    """``t - sum_{a covers l} min(tau_a / U, 1) z_a <= 0`` per layer (throughput in units of U)."""
    M = cover.shape[0]
    weighted = cover.multiply(np.minimum(alloc.tau / U, 1.0)[None, :]).tocoo()
    rows.add(np.concatenate([np.arange(M), weighted.row]), np.concatenate([np.full(M, t), weighted.col]),
             np.r_[np.ones(M), -weighted.data], M, -np.inf, 0.0)


def _compact_network_rows(rows: _Rows, tab: Tables, alloc: Allocations, t: int, U: float) -> None:
    """``t <= r + (1 - r)(2 - u - w)`` in units of U, per boundary, class and level r.

    Rows are per class of GPUs with identical links (clipped at U), so they aggregate by node and
    bandwidth level; an allocation's units map to those classes through any of their members.
    For class c, an allocation uses a class of D (the classes whose links from c are no faster
    than r) exactly when its slowest link from c is <= r, so one pass per class finds it for
    every level; allocations are sorted by end and by start, so a boundary reads only its own."""
    M = tab.num_layers
    cls = gpu_classes(tab, U)
    unit_class = cls.of[[int(m[0]) for m in alloc.units.members]]
    to_class = sp.csr_matrix((np.ones(alloc.units.count), (np.arange(alloc.units.count), unit_class)),
                             shape=(alloc.units.count, cls.count))
    uses = (alloc.members @ to_class).tocsr()                                             # [a, class]
    uses.sort_indices()
    first_of_row = uses.indptr[:-1]
    row_of = np.repeat(np.arange(len(alloc)), np.diff(uses.indptr))
    by_end, by_start = np.argsort(alloc.end, kind="stable"), np.argsort(alloc.start, kind="stable")
    end_at = np.searchsorted(alloc.end[by_end], np.arange(M + 2))
    start_at = np.searchsorted(alloc.start[by_start], np.arange(M + 2))
    levels = _levels(cls, U)
    for c in range(cls.count):
        mine = [(r, D) for cc, r, D in levels if cc == c]
        if not mine:
            continue
        rows.budget.check()
        uses_c = np.zeros(len(alloc), dtype=bool)
        uses_c[row_of[uses.indices == c]] = True
        row_c = cls.rho[c].copy()
        if len(cls.members[c]) < 2:
            row_c[c] = np.inf
        slowest = np.minimum.reduceat(row_c[uses.indices], first_of_row) if len(alloc) else np.zeros(0)
        for r, _D in mine:
            starts_d = slowest <= r
            for l in range(1, M):
                ending = by_end[end_at[l]:end_at[l + 1]]
                starting = by_start[start_at[l + 1]:start_at[l + 2]]
                u = np.sort(ending[uses_c[ending]])
                w = np.sort(starting[starts_d[starting]])
                cols = np.concatenate([[t], u, w])
                vals = np.r_[1.0, np.full(len(u) + len(w), 1.0 - r / U)]
                rows.add(np.zeros(len(cols)), cols, vals, 1, -np.inf, 2.0 - r / U)


def guarded_build(instance: Instance, formulation: str, memory_limit_bytes: int | None = None,
                  log: Callable[[str], None] | None = None, stop: Stop | None = None) -> IlpModel:
    """:func:`build`, after checking the size estimate against the memory available."""
    est = estimate(instance, formulation, stop)
    limit = memory_limit_bytes if memory_limit_bytes is not None else memory_budget_bytes()
    if est.memory_bytes > limit:
        raise ModelTooLargeError(
            f"the {formulation} model would need about {est.memory_bytes / 1e9:.3g} GB, "
            f"{limit / 1e9:.3g} GB are available ({est.describe()}); use --method bnp"
            + (", --formulation compact," if formulation != "compact" else "") + " or a smaller max_gpus_per_segment")
    if log:
        log(f"ilp: building {est.describe()}")
    return build(instance, formulation, stop=stop, memory_limit_bytes=limit)
