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
from colgen.ilp.size import _levels, estimate
from colgen.limits import memory_budget_bytes
from colgen.model.instance import Instance
from colgen.model.tables import Tables
from colgen.space.allocations import Allocations, enumerate_allocations, fitting_pairs
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import gpu_classes


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


def _pairs(alloc: Allocations, M: int) -> tuple[np.ndarray, np.ndarray]:
    """All (a1, a2) with a1 ending where a2 starts - 1 and GPU use that fits together."""
    first, second = [], []
    for part, S, ok in fitting_pairs(alloc, M):
        i, j = np.nonzero(ok)
        first.append(part[i])
        second.append(S[j])
    if not first:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(first).astype(np.int64), np.concatenate(second).astype(np.int64)


def _pair_throughput(alloc: Allocations, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Link throughput of every pair, in bulk: min over the units of a1 and a2 of their links."""
    if not len(p1):
        return np.zeros(0)
    R = alloc.units.rho
    used = alloc.members.toarray() > 0
    from_a = np.where(used[:, :, None], R[None, :, :], np.inf).min(axis=1)     # [a, unit]
    return np.where(used[p2], from_a[p1], np.inf).min(axis=1)


class _Rows:
    """Collects rows as COO triplets and bounds, then makes one CSR matrix."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.up: list[np.ndarray] = []
        self.n = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float, count: int,
            lo: float | np.ndarray, up: float | np.ndarray) -> None:
        self.r.append(np.asarray(rows, dtype=np.int64) + self.n)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), (len(rows),)))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.up.append(np.broadcast_to(np.asarray(up, dtype=float), (count,)))
        self.n += count

    def add_matrix(self, mat: sp.spmatrix, col_offset: int, lo: float | np.ndarray,
                   up: float | np.ndarray) -> None:
        coo = sp.coo_matrix(mat)
        self.add(coo.row, coo.col + col_offset, coo.data, mat.shape[0], lo, up)

    def build(self, ncols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        A = sp.csr_matrix((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                          shape=(self.n, ncols))
        return A, np.concatenate(self.lo), np.concatenate(self.up)


def build(instance: Instance, formulation: str, alloc: Allocations | None = None) -> IlpModel:
    if formulation not in FORMULATIONS:
        raise InputError("formulation", f"unknown formulation '{formulation}'",
                         f"use one of {', '.join(FORMULATIONS)}")
    tab = instance.tables
    M = tab.num_layers
    alloc = alloc if alloc is not None else enumerate_allocations(tab)
    nA = len(alloc)
    U = fluid_upper_bound(tab)
    scale = U if U > 0 else 1.0     # throughputs enter the model in units of U: well scaled
    cover = _layer_incidence(alloc, M)
    rows = _Rows()
    rows.add_matrix(cover, 0, 1.0, 1.0)                               # coverage
    rows.add_matrix(alloc.members.T, 0, -np.inf, alloc.units.sizes.astype(float))   # exclusivity
    if formulation == "compact":
        ncols = nA + 1
        t = nA
        _layer_throughput_rows(rows, cover, alloc, t, scale)
        _compact_network_rows(rows, tab, alloc, t, scale)
    else:
        p1, p2 = _pairs(alloc, M)
        nP = len(p1)
        ncols = nA + nP + 1
        t = nA + nP
        e = nA + np.arange(nP)
        out_pairs = sp.csr_matrix((np.ones(nP), (p1, e)), shape=(nA, ncols))
        in_pairs = sp.csr_matrix((np.ones(nP), (p2, e)), shape=(nA, ncols))
        not_last, not_first = np.nonzero(alloc.end < M)[0], np.nonzero(alloc.start > 1)[0]
        rho = _pair_throughput(alloc, p1, p2) / scale
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
    bandwidth level; an allocation's units map to those classes through any of their members."""
    M = tab.num_layers
    cls = gpu_classes(tab, U)
    unit_class = cls.of[[int(m[0]) for m in alloc.units.members]]
    to_class = sp.csr_matrix((np.ones(alloc.units.count), (np.arange(alloc.units.count), unit_class)),
                             shape=(alloc.units.count, cls.count))
    uses = (alloc.members @ to_class).toarray() > 0                                       # [a, class]
    for c, r, D in _levels(cls, U):
        ends_c = uses[:, c]
        starts_d = uses[:, D].any(axis=1)
        for l in range(1, M):
            u = np.nonzero(ends_c & (alloc.end == l))[0]
            w = np.nonzero(starts_d & (alloc.start == l + 1))[0]
            cols = np.concatenate([[t], u, w])
            vals = np.r_[1.0, np.full(len(u) + len(w), 1.0 - r / U)]
            rows.add(np.zeros(len(cols)), cols, vals, 1, -np.inf, 2.0 - r / U)


def guarded_build(instance: Instance, formulation: str, memory_limit_bytes: int | None = None,
                  log: Callable[[str], None] | None = None) -> IlpModel:
    """:func:`build`, after checking the size estimate against the memory available."""
    est = estimate(instance, formulation)
    limit = memory_limit_bytes if memory_limit_bytes is not None else memory_budget_bytes()
    if est.memory_bytes > limit:
        raise ModelTooLargeError(
            f"the {formulation} model would need about {est.memory_bytes / 1e9:.3g} GB, "
            f"{limit / 1e9:.3g} GB are available ({est.describe()}); use --method bnp, "
            f"--formulation compact, or a smaller max_gpus_per_segment")
    if log:
        log(f"ilp: building {est.describe()}")
    return build(instance, formulation)
