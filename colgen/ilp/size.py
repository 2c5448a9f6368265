"""Size of the full ILP, predicted combinatorially before anything is enumerated.

:func:`estimate` counts columns, rows and nonzeros of a formulation; its memory figure comes from
bytes per nonzero and per row/column measured with HiGHS on the benchmark models. The memory guard
(colgen/ilp/model.py) refuses a model whose estimate exceeds the machine's available memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np

from colgen.choices import FORMULATIONS
from colgen.errors import InputError, ModelTooLargeError
from colgen.model.instance import Instance
from colgen.model.tables import Tables
from colgen.space.allocations import fitting_gpu_counts, shapes_up_to
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import GpuClasses, gpu_classes
from colgen.stop import Stop

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


# --------------------------------------------------------------------------------------------
# Counting (no enumeration)


def _fit_patterns(tab: Tables) -> tuple[np.ndarray, int]:
    """Per (L, shape): which types fit, encoded as a bitmask over types."""
    weights = 1 << np.arange(tab.fits.shape[2], dtype=np.int64)
    return (tab.fits.astype(np.int64) * weights).sum(axis=2), tab.fits.shape[2]


#: Most (segment length, GPU count) combinations :func:`count_pairs` goes through (a second or so per
#: million); beyond them the pair formulations are far too large to build anyway.
MAX_PAIR_COUNTING = 20_000_000


def count_pairs(tab: Tables, stop: Stop | None = None) -> int:
    """Consecutive allocation pairs with disjoint GPU sets, summed over all stage boundaries.
    Refuses (:class:`ModelTooLargeError`) when counting alone would take minutes."""
    M, K = tab.num_layers, min(tab.max_k, tab.num_gpus)
    shapes = shapes_up_to(tab, K)
    work = M * (M - 1) // 2 * len(shapes) ** 2
    if work > MAX_PAIR_COUNTING:
        raise ModelTooLargeError(
            f"counting the e-pairs over {M} layers with up to {K} GPUs per stage goes through {work:,} "
            f"combinations, more than {MAX_PAIR_COUNTING:,}: the seed and tight formulations are for small "
            "instances; use --formulation compact or --method bnp")
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
        if stop is not None:
            stop.check()
        for L2 in range(1, M - L1 + 1):
            boundaries = M - L1 - L2 + 1
            d = sum(disjoint(int(pattern[L1, s1]), k1, int(pattern[L2, s2]), k2)
                    for s1, k1, _ in shapes for s2, k2, _ in shapes)
            total += boundaries * d
    return total


def _slow_pair_fraction(tab: Tables, U: float, samples: int = 4000, stop: Stop | None = None) -> float:
    """Share of consecutive disjoint allocation pairs whose link is slower than U (these get a
    coefficient in the tight model's network rows). Exact when no link or every link is slower;
    otherwise estimated from a fixed-seed sample of pairs drawn in proportion to their number."""
    levels = tab.network.levels() * tab.link_scale          # every link throughput present
    if levels.size == 0 or levels.min() >= U:
        return 0.0
    if levels.max() < U:
        return 1.0
    M = tab.num_layers
    shapes = shapes_up_to(tab)
    fit = [{s: np.nonzero(tab.fits[L, s, tab.gpu_type])[0] for s, _, _ in shapes} for L in range(M + 1)]
    combos, weights = [], []
    for L1 in range(1, M):
        if stop is not None:
            stop.check()
        for L2 in range(1, M - L1 + 1):
            for s1, k1, _ in shapes:
                for s2, k2, _ in shapes:
                    a, b = fit[L1][s1], fit[L2][s2]
                    if len(a) >= k1 and len(b) >= k2:
                        combos.append((L1, s1, k1, L2, s2, k2))
                        weights.append((M - L1 - L2 + 1) * comb(len(a), k1) * comb(len(b), k2))
    if not combos:
        return 0.0
    rng = np.random.default_rng(0)
    w = np.array(weights, dtype=float)
    picks = rng.choice(len(combos), size=samples, p=w / w.sum())
    slow = total = 0
    for i in picks:
        L1, sh1, k1, L2, sh2, k2 = combos[i]
        g1 = rng.choice(fit[L1][sh1], size=k1, replace=False)
        rest = np.setdiff1d(fit[L2][sh2], g1)
        if len(rest) < k2:
            continue
        g2 = rng.choice(rest, size=k2, replace=False)
        total += 1
        slow += tab.link_throughput(g1, g2) < U
    return slow / total if total else 0.0


def _touching(tab: Tables, cls: GpuClasses, class_mask: np.ndarray) -> np.ndarray:
    """``[L, s]``: allocations of one segment of length L and shape s using some GPU of the classes
    in ``class_mask`` (exact for t = 1, an upper bound for t > 1)."""
    n_fit = fitting_gpu_counts(tab)
    gpu_in = class_mask[cls.of]
    per_type_in = np.bincount(tab.gpu_type[gpu_in], minlength=tab.fits.shape[2])
    n_in = (tab.fits * per_type_in[None, None, :]).sum(axis=2)
    out = np.zeros_like(n_fit, dtype=object)
    for L in range(1, tab.num_layers + 1):
        for s, k, _ in shapes_up_to(tab, tab.max_k):
            out[L, s] = comb(int(n_fit[L, s]), k) - comb(int(n_fit[L, s] - n_in[L, s]), k)
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


def estimate(instance: Instance, formulation: str, stop: Stop | None = None) -> SizeEstimate:
    """Columns, rows and nonzeros of a formulation, counted without enumerating it (``stop``: the
    run's deadline and interrupts, checked as the counts go)."""
    tab = instance.tables
    M, N, K = tab.num_layers, tab.num_gpus, min(tab.max_k, tab.num_gpus)
    n_fit = fitting_gpu_counts(tab)
    A = sum_L = sum_k = first = last = 0
    shapes = shapes_up_to(tab, K)
    for L in range(1, M + 1):
        for s, k, _ in shapes:
            sets = comb(int(n_fit[L, s]), k)          # exact for t = 1, an upper bound for t > 1
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
            if stop is not None:
                stop.check()
            one = np.zeros(cls.count, dtype=bool)
            one[c] = True
            tc, td = _touching(tab, cls, one), _touching(tab, cls, D)
            rows_net += M - 1
            nnz_net += M - 1 + sum((M - L) * (tc[L, s] + td[L, s])
                                   for L in range(1, M) for s, _, _ in shapes)
        return SizeEstimate(formulation, A, 0, A + 1, 2 * M + N + rows_net,
                            2 * sum_L + sum_k + M + nnz_net)
    P = count_pairs(tab, stop)
    if formulation == "seed":
        rows = M + N + 2 + not_last + not_first + 2 * P + A + P
        nnz = sum_L + sum_k + first + last + (P + not_last) + (P + not_first) + 4 * P + 2 * A + 2 * P
        return SizeEstimate(formulation, A, P, A + P + 1, rows, nnz)
    if formulation == "tight":
        rows = 2 * M + N + not_last + not_first + max(M - 1, 0)
        slow = round(P * _slow_pair_fraction(tab, fluid_upper_bound(tab), stop=stop))
        nnz = 2 * sum_L + sum_k + M + (P + not_last) + (P + not_first) + max(M - 1, 0) + slow
        return SizeEstimate(formulation, A, P, A + P + 1, rows, nnz)
    raise InputError("formulation", f"unknown formulation '{formulation}'",
                     f"use one of {', '.join(FORMULATIONS)}")
