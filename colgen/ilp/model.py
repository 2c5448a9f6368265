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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np
import scipy.sparse as sp

from colgen.space.allocations import Allocations, enumerate_allocations, fitting_gpu_counts, fitting_pairs
from colgen.backends import MatrixModel, MipOutcome, get_backend
from colgen.backends.highs import HighsBackend
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import GpuClasses, gpu_classes
from colgen.errors import InputError, ModelTooLargeError
from colgen.model.instance import Instance
from colgen.model.performance import Tables
from colgen.result import Result, placement_throughput

FORMULATIONS = ("seed", "tight", "compact")

#: Bytes per nonzero and per row/column that building and solving a model costs, measured with
#: HiGHS on the benchmark models (our arrays, HiGHS' copies and presolve).
BYTES_PER_NNZ = 120
BYTES_PER_VECTOR = 400


@dataclass(frozen=True)
class SizeEstimate:
    formulation: str
    allocations: int
    pairs: int
    columns: int
    rows: int
    nnz: int

    @property
    def memory_bytes(self) -> int:
        return BYTES_PER_NNZ * self.nnz + BYTES_PER_VECTOR * (self.columns + self.rows)

    def describe(self) -> str:
        return (f"{self.formulation}: {self.allocations:,} allocations, {self.pairs:,} e-pairs, "
                f"{self.columns:,} columns, {self.rows:,} rows, {self.nnz:,} nonzeros, "
                f"about {self.memory_bytes / 1e9:.3g} GB")


def available_memory_bytes() -> int:
    """MemAvailable of this machine (the kernel's estimate), or physical memory as a fallback."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# --------------------------------------------------------------------------------------------
# Counting (no enumeration)


def _fit_patterns(tab: Tables) -> tuple[np.ndarray, int]:
    """Per (L, k): which types fit, encoded as a bitmask over types."""
    weights = 1 << np.arange(tab.fits.shape[2], dtype=np.int64)
    return (tab.fits.astype(np.int64) * weights).sum(axis=2), tab.fits.shape[2]


def count_pairs(tab: Tables) -> int:
    """Consecutive allocation pairs with disjoint GPU sets, summed over all stage boundaries."""
    M, K = tab.num_layers, min(tab.max_k, tab.num_gpus)
    pattern, T = _fit_patterns(tab)
    type_counts = np.bincount(tab.gpu_type, minlength=T)

    @cache
    def size(p: int) -> int:
        return int(sum(type_counts[t] for t in range(T) if p >> t & 1))

    @cache
    def disjoint(p1: int, k1: int, p2: int, k2: int) -> int:
        a, b, c = size(p1), size(p2), size(p1 & p2)
        return sum(comb(c, j) * comb(a - c, k1 - j) * comb(b - j, k2) for j in range(0, min(c, k1) + 1))

    total = 0
    for L1 in range(1, M):
        for L2 in range(1, M - L1 + 1):
            boundaries = M - L1 - L2 + 1
            d = sum(disjoint(int(pattern[L1, k1]), k1, int(pattern[L2, k2]), k2)
                    for k1 in range(1, K + 1) for k2 in range(1, K + 1))
            total += boundaries * d
    return total


def _slow_pair_fraction(tab: Tables, U: float, samples: int = 4000) -> float:
    """Share of consecutive disjoint allocation pairs whose link is slower than U (these get a
    coefficient in the tight model's network rows). Exact when no link or every link is slower;
    otherwise estimated from a fixed-seed sample of pairs drawn in proportion to their number."""
    off = tab.rho[~np.eye(tab.num_gpus, dtype=bool)]
    if off.size == 0 or off.min() >= U:
        return 0.0
    if off.max() < U:
        return 1.0
    M, K = tab.num_layers, min(tab.max_k, tab.num_gpus)
    fit = [[np.nonzero(tab.fits[L, k, tab.gpu_type])[0] for k in range(K + 1)] for L in range(M + 1)]
    combos, weights = [], []
    for L1 in range(1, M):
        for L2 in range(1, M - L1 + 1):
            for k1 in range(1, K + 1):
                for k2 in range(1, K + 1):
                    a, b = fit[L1][k1], fit[L2][k2]
                    if len(a) >= k1 and len(b) >= k2:
                        combos.append((L1, k1, L2, k2))
                        weights.append((M - L1 - L2 + 1) * comb(len(a), k1) * comb(len(b), k2))
    if not combos:
        return 0.0
    rng = np.random.default_rng(0)
    w = np.array(weights, dtype=float)
    picks = rng.choice(len(combos), size=samples, p=w / w.sum())
    slow = total = 0
    for i in picks:
        L1, k1, L2, k2 = combos[i]
        s1 = rng.choice(fit[L1][k1], size=k1, replace=False)
        rest = np.setdiff1d(fit[L2][k2], s1)
        if len(rest) < k2:
            continue
        s2 = rng.choice(rest, size=k2, replace=False)
        total += 1
        slow += tab.rho[np.ix_(s1, s2)].min() < U
    return slow / total if total else 0.0


def _touching(tab: Tables, cls: GpuClasses, class_mask: np.ndarray) -> np.ndarray:
    """``[L, k]``: allocations of one segment of length L with k GPUs using some GPU of the classes
    in ``class_mask``."""
    n_fit = fitting_gpu_counts(tab)
    gpu_in = class_mask[cls.of]
    per_type_in = np.bincount(tab.gpu_type[gpu_in], minlength=tab.fits.shape[2])
    n_in = (tab.fits * per_type_in[None, None, :]).sum(axis=2)
    out = np.zeros_like(n_fit, dtype=object)
    for L in range(1, tab.num_layers + 1):
        for k in range(1, tab.max_k + 1):
            out[L, k] = comb(int(n_fit[L, k]), k) - comb(int(n_fit[L, k] - n_in[L, k]), k)
    return out


def _levels(cls: GpuClasses, U: float) -> list[tuple[int, float, np.ndarray]]:
    """Network rows of the compact model per boundary: (class c, level r, classes D as a mask)."""
    out = []
    for c in range(cls.count):
        row = cls.rho[c].copy()
        if len(cls.members[c]) < 2:
            row[c] = np.inf
        for r in np.unique(row[row < U]):
            out.append((c, float(r), row <= r))
    return out


def estimate(instance: Instance, formulation: str) -> SizeEstimate:
    """Columns, rows and nonzeros of a formulation, counted without enumerating it."""
    tab = instance.tables
    M, N, K = tab.num_layers, tab.num_gpus, min(tab.max_k, tab.num_gpus)
    n_fit = fitting_gpu_counts(tab)
    A = sum_L = sum_k = first = last = 0
    for L in range(1, M + 1):
        for k in range(1, K + 1):
            sets = comb(int(n_fit[L, k]), k)
            A += (M - L + 1) * sets
            sum_L += (M - L + 1) * sets * L
            sum_k += (M - L + 1) * sets * k
            first += sets
            last += sets
    not_last, not_first = A - last, A - first
    if formulation == "compact":
        U = fluid_upper_bound(tab)
        cls = gpu_classes(tab, U)
        rows_net = nnz_net = 0
        for c, _r, D in _levels(cls, U):
            one = np.zeros(cls.count, dtype=bool)
            one[c] = True
            tc, td = _touching(tab, cls, one), _touching(tab, cls, D)
            rows_net += M - 1
            nnz_net += M - 1 + sum((M - L) * (tc[L, k] + td[L, k])
                                   for L in range(1, M) for k in range(1, K + 1))
        return SizeEstimate(formulation, A, 0, A + 1, 2 * M + N + rows_net,
                            2 * sum_L + sum_k + M + nnz_net)
    P = count_pairs(tab)
    if formulation == "seed":
        rows = M + N + 2 + not_last + not_first + 2 * P + A + P
        nnz = sum_L + sum_k + first + last + (P + not_last) + (P + not_first) + 4 * P + 2 * A + 2 * P
        return SizeEstimate(formulation, A, P, A + P + 1, rows, nnz)
    if formulation == "tight":
        rows = 2 * M + N + not_last + not_first + max(M - 1, 0)
        slow = round(P * _slow_pair_fraction(tab, fluid_upper_bound(tab)))
        nnz = 2 * sum_L + sum_k + M + (P + not_last) + (P + not_first) + max(M - 1, 0) + slow
        return SizeEstimate(formulation, A, P, A + P + 1, rows, nnz)
    raise InputError("formulation", f"unknown formulation '{formulation}'",
                     f"use one of {', '.join(FORMULATIONS)}")


# --------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True)
class IlpModel:
    formulation: str
    model: MatrixModel
    alloc: Allocations
    upper: float
    scale: float
    """Throughput unit inside the model (tokens/s per unit of t)."""

    @property
    def t_index(self) -> int:
        return self.model.num_cols - 1


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


# --------------------------------------------------------------------------------------------
# Solving


def guarded_build(instance: Instance, formulation: str, memory_limit_bytes: int | None = None,
                  log: Callable[[str], None] | None = None) -> IlpModel:
    """:func:`build`, after checking the size estimate against the memory available."""
    est = estimate(instance, formulation)
    limit = memory_limit_bytes if memory_limit_bytes is not None else int(0.8 * available_memory_bytes())
    if est.memory_bytes > limit:
        raise ModelTooLargeError(
            f"the {formulation} model would need about {est.memory_bytes / 1e9:.3g} GB, "
            f"{limit / 1e9:.3g} GB are available ({est.describe()}); use --method bnp, "
            f"--formulation compact, or a smaller max_gpus_per_segment")
    if log:
        log(f"ilp: building {est.describe()}")
    return build(instance, formulation)


def lp_relaxation_bound(instance: Instance, formulation: str, *, time_limit: float | None = None,
                        memory_limit_bytes: int | None = None) -> float | None:
    """The LP relaxation's optimum in tokens/s (None when not solved in time)."""
    model = guarded_build(instance, formulation, memory_limit_bytes)
    out = HighsBackend().solve(model.model, time_limit=time_limit, relax=True)
    return None if out.status != "optimal" or out.objective is None else out.objective * model.scale


def solve_ilp(instance: Instance, formulation: str = "compact", *, backend: str = "auto",
              time_limit: float | None = None, gap: float = 0.0, verbose: bool = False,
              memory_limit_bytes: int | None = None, log: Callable[[str], None] | None = None,
              prune: list[str] | None = None) -> Result:
    """Build and solve the full ILP over the allocations the ``prune`` rules leave (colgen/pruning.py;
    none: every memory-feasible allocation). A model that would not fit in memory raises
    :class:`ModelTooLargeError` with the size estimate."""
    from colgen.space.pruning import prune as apply_rules

    say = log or (lambda _m: None)
    t0 = time.perf_counter()
    stats: dict = {"formulation": formulation, "prune": list(prune or [])}
    incumbent: tuple = ()
    incumbent_value = 0.0
    if prune:
        space = apply_rules(instance, prune, log=say)
        incumbent, incumbent_value = space.incumbent, space.incumbent_value
        stats["prune_steps"] = [s.__dict__ for s in space.steps]
        model = build(space.instance, formulation, space.alloc)
        est = None
    else:
        est = estimate(instance, formulation)
        stats["estimate"] = est.__dict__ | {"memory_bytes": est.memory_bytes}
        model = guarded_build(instance, formulation, memory_limit_bytes, say)
    t_build = time.perf_counter() - t0
    mm = model.model
    stats.update(columns=mm.num_cols, rows=mm.num_rows, nonzeros=mm.nnz, allocations=len(model.alloc))
    engine = get_backend(backend, mm.num_cols, mm.num_rows, say)
    stats["backend"] = engine.name
    remaining = None if time_limit is None else max(0.1, time_limit - t_build)
    if len(model.alloc) == 0:        # everything pruned: nothing beats the incumbent (or infeasible)
        out = MipOutcome("infeasible", None, None, None)
    else:
        out = engine.solve(mm, time_limit=remaining, gap=gap, verbose=verbose)
    placement: tuple = ()
    objective = None
    if out.x is not None:
        placement = model.alloc.placement(np.nonzero(out.x[: len(model.alloc)] > 0.5)[0])
        objective = placement_throughput(instance, placement)
    bound = None if out.bound is None else out.bound * model.scale
    if bound is not None:
        bound = min(bound, model.upper)
    status = out.status
    if incumbent and (objective is None or objective < incumbent_value):
        # The bound rule removed everything no better than the incumbent: when the search below
        # it is infeasible (or ends early), the incumbent stands.
        placement, objective = incumbent, incumbent_value
        if status == "infeasible":
            status, bound = "optimal", incumbent_value
    if bound is not None and objective is not None:
        bound = max(bound, objective)
    if status == "infeasible":
        bound = None
    stats.update(nodes=out.nodes, engine_message=out.message)
    return Result(instance=instance.name, method=f"ilp-{formulation}", status=status, placement=placement,
                  objective=objective, bound=bound,
                  timings={"build": t_build, "solve": out.seconds}, statistics=stats)
