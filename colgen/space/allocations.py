"""The allocation space: (segment, GPU set, shape) triples that fit in memory.

A segment is a run of consecutive layers ``s..e``; an allocation gives it a specific set of at most
K GPUs and a shape (replicas x tensor-parallel degree t, colgen/model/tables.py), each GPU holding
its share of the segment's layers. With t > 1 the set must split into t-way groups of one type in
one node. This module counts the space without enumerating it (for ``colgen show`` and size
estimates; exact without tensor parallelism, an upper bound with it) and enumerates it for the
full ILP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from math import comb

import numpy as np
import scipy.sparse as sp

from colgen.limits import CHUNK_BYTES, Budget
from colgen.model.spec import StageLimits
from colgen.model.tables import Tables
from colgen.result import Stage
from colgen.space.classes import GpuClasses, singleton_classes


@dataclass(frozen=True)
class SpaceSize:
    """Size of the allocation space when stages may use up to ``max_k`` GPUs."""

    max_k: int
    segments: int
    allocations: int


def fitting_gpu_counts(tab: Tables) -> np.ndarray:
    """``n[L, s]``: how many GPUs can hold ``L`` layers of a stage of shape ``s``."""
    type_counts = np.bincount(tab.gpu_type, minlength=len(tab.type_names))
    return (tab.fits * type_counts[None, None, :]).sum(axis=2)


def shapes_up_to(tab: Tables, max_k: int | None = None) -> list[tuple[int, int, int]]:
    """The shapes (index s, GPUs k, degree t) with k <= ``max_k`` (default: K, at most N)."""
    top = min(tab.max_k, tab.num_gpus) if max_k is None else max_k
    sh = tab.shapes
    return [(s, int(sh.k[s]), int(sh.t[s])) for s in range(1, sh.count + 1) if sh.k[s] <= top]


def length_allowed(limits: StageLimits | None, L: int) -> bool:
    return limits is None or limits.allows_length(L)


def space_sizes(tab: Tables) -> list[SpaceSize]:
    """Segments with at least one allocation, and allocations, for every K' = 1..K (exact).

    ``n[L, k]`` takes few distinct values (fits shrink with L), so each binomial is computed once,
    and the sums over K' are running sums: O(M K) big-integer additions in all."""
    M, K = tab.num_layers, tab.max_k
    n = fitting_gpu_counts(tab)
    binomial = cache(comb)
    allocations = [0] * (K + 1)        # per k, over all segments (then summed over k <= K')
    lmax = [0] * (K + 1)
    for s, k, _t in shapes_up_to(tab, K):
        for L in range(1, M + 1):
            c = binomial(int(n[L, s]), k)          # exact for t = 1, an upper bound for t > 1
            if c:
                allocations[k] += (M - L + 1) * c
        # A segment length L counts for K' when some shape with k <= K' has a fitting set; fits
        # shrink with L, so per shape the lengths with sets are 1..Lmax.
        lengths = np.nonzero(n[1:, s] >= k)[0]
        lmax[k] = max(lmax[k], int(lengths[-1]) + 1 if len(lengths) else 0)
    out, running, longest = [], 0, 0
    for kmax in range(1, K + 1):
        running += allocations[kmax]
        longest = max(longest, lmax[kmax])
        out.append(SpaceSize(kmax, longest * (2 * M - longest + 1) // 2, running))
    return out


@dataclass(frozen=True)
class Allocations:
    """An explicit list of allocations: ``start``/``end`` layers (1-based, inclusive), how many
    GPUs of each unit they use as CSR rows of ``members`` (allocation x unit), and throughput
    ``tau``. Units are GPU classes: single GPUs for the GPU-level ILP (then ``members`` is the 0/1
    GPU set), or classes of interchangeable GPUs."""

    start: np.ndarray
    end: np.ndarray
    members: sp.csr_matrix
    tau: np.ndarray
    units: GpuClasses
    tp: np.ndarray | None = None          #: tensor-parallel degree of each allocation (None: all 1)

    def degrees(self) -> np.ndarray:
        return np.ones(len(self), dtype=np.int64) if self.tp is None else self.tp

    def select(self, keep: np.ndarray) -> Allocations:
        return Allocations(self.start[keep], self.end[keep], self.members[keep], self.tau[keep], self.units,
                           None if self.tp is None else self.tp[keep])

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @property
    def size(self) -> np.ndarray:
        """k, the number of GPUs of each allocation."""
        return np.asarray(self.members.sum(axis=1)).ravel().astype(np.int64)

    @property
    def length(self) -> np.ndarray:
        return self.end - self.start + 1

    def placement(self, chosen: np.ndarray) -> tuple[Stage, ...]:
        """The stages of the chosen allocations, with specific GPUs taken from their units (single
        GPUs: the GPU sets themselves)."""
        chosen = chosen[np.argsort(self.start[chosen])]
        counts = self.members[chosen].toarray().astype(np.int64)
        tp = self.degrees()[chosen]
        if (self.units.sizes == 1).all():
            ids = [np.concatenate([self.units.members[u] for u in np.nonzero(row)[0]]) for row in counts]
            return tuple(Stage(int(a), int(b), tuple(sorted(int(g) for g in gs)), int(t))
                         for a, b, gs, t in zip(self.start[chosen], self.end[chosen], ids, tp, strict=True))
        return self.units.assign(list(zip(self.start[chosen], self.end[chosen], counts, tp, strict=True)))


def enumerate_allocations(tab: Tables, budget: Budget | None = None, limits: StageLimits | None = None
                          ) -> Allocations:
    """Every memory-feasible (segment, GPU set, shape) triple, built in bulk per (L, shape); with
    t > 1 only sets that split into t-way groups of one type in one node. ``budget``: the run's
    deadline and memory (booked before each block is built); ``limits``: layers per stage."""
    M, N = tab.num_layers, tab.num_gpus
    budget = budget or Budget(what="the allocations")
    starts, ends, sets, taus, degrees = [], [], [], [], []
    for L in range(1, M + 1):
        if not length_allowed(limits, L):
            continue
        for s, k, t in shapes_up_to(tab):
            fitting = np.nonzero(tab.fits[L, s, tab.gpu_type])[0]
            if len(fitting) < k:
                continue
            sets_here = comb(len(fitting), k)
            what = f"{sets_here:,} GPU sets of {k} GPUs for {L} layers"
            budget.peak(sets_here * (8 * k + 64), what)                     # the tuples, briefly
            budget.take(sets_here * (M - L + 1) * (k + 3) * 8, what)
            combos = np.array(list(combinations(fitting, k)), dtype=np.int64).reshape(-1, k)
            if t == 1:
                tau = tab.tau[L, s, tab.gpu_type[combos]].min(axis=1)
            else:
                tau = np.array([tab.stage_throughput(L, tuple(c), t) for c in combos])
                combos, tau = combos[tau > 0], tau[tau > 0]
            n_seg = M - L + 1
            first = np.repeat(np.arange(1, n_seg + 1), len(combos))
            starts.append(first)
            ends.append(first + L - 1)
            sets.append(np.tile(combos, (n_seg, 1)))
            taus.append(np.tile(tau, n_seg))
            degrees.append(np.full(n_seg * len(combos), t, dtype=np.int64))
    units = singleton_classes(tab)
    if not starts:
        return Allocations(np.zeros(0, np.int64), np.zeros(0, np.int64), sp.csr_matrix((0, N)), np.zeros(0),
                           units)
    start, end, tau = np.concatenate(starts), np.concatenate(ends), np.concatenate(taus)
    sizes = np.concatenate([np.full(len(c), c.shape[1]) for c in sets])
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate([c.ravel() for c in sets])
    members = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(start), N))
    tp = np.concatenate(degrees)
    return Allocations(start=start, end=end, members=members, tau=tau, units=units,
                       tp=None if (tp == 1).all() else tp)


def fitting_pairs(alloc: Allocations, M: int, chunk: int | None = None,
                  budget: Budget | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Consecutive allocation pairs whose GPU use fits together (disjoint sets at the GPU level;
    counts within the class sizes at the class level), in blocks: ``(a1s, a2s, ok)`` with
    ``ok[i, j]`` true when ``a1s[i]`` (ending at some l) and ``a2s[j]`` (starting at l+1) fit.
    Blocks are sized so that their temporaries stay below :data:`~colgen.limits.CHUNK_BYTES`;
    ``budget`` is checked between blocks (deadline, interrupts)."""
    sizes = alloc.units.sizes
    dtype = np.int16 if int(sizes.max(initial=0)) < 16_000 else np.int32
    U = alloc.units.count
    if budget is not None:
        budget.take(len(alloc) * U * np.dtype(dtype).itemsize, "GPU counts of every allocation")
    counts = alloc.members.astype(dtype).toarray()
    for l in range(1, M):
        E = np.nonzero(alloc.end == l)[0]
        S = np.nonzero(alloc.start == l + 1)[0]
        if not len(E) or not len(S):
            continue
        step = chunk or max(1, CHUNK_BYTES // (len(S) * U * (np.dtype(dtype).itemsize + 1) + 1))
        later = counts[S][None, :, :]
        for first in range(0, len(E), step):
            if budget is not None:
                budget.check()
            part = E[first:first + step]
            yield part, S, ((counts[part][:, None, :] + later) <= sizes).all(axis=2)
