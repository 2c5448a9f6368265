"""The allocation space: (segment, GPU set) pairs that fit in memory.

A segment is a run of consecutive layers ``s..e``; an allocation gives it a specific set of at most
K GPUs, each of which must hold the segment's layers at per-GPU batch B/k. This module counts the
space without enumerating it (for ``colgen show`` and size estimates) and enumerates it for the
full ILP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
import scipy.sparse as sp

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
    """``n[L, k]``: how many GPUs can hold ``L`` layers of a stage of ``k`` GPUs."""
    type_counts = np.bincount(tab.gpu_type, minlength=len(tab.type_names))
    return (tab.fits * type_counts[None, None, :]).sum(axis=2)


def space_sizes(tab: Tables) -> list[SpaceSize]:
    """Segments with at least one allocation, and allocations, for every K' = 1..K (exact)."""
    M, K = tab.num_layers, tab.max_k
    n = fitting_gpu_counts(tab)
    out = []
    for kmax in range(1, K + 1):
        segments = allocations = 0
        for L in range(1, M + 1):
            per_segment = sum(comb(int(n[L, k]), k) for k in range(1, kmax + 1))
            if per_segment:
                segments += M - L + 1
                allocations += (M - L + 1) * per_segment
        out.append(SpaceSize(kmax, segments, allocations))
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
        """The stages of the chosen allocations, with specific GPUs taken from their units."""
        chosen = chosen[np.argsort(self.start[chosen])]
        counts = self.members[chosen].toarray().astype(np.int64)
        return self.units.assign(list(zip(self.start[chosen], self.end[chosen], counts, strict=True)))


def enumerate_allocations(tab: Tables) -> Allocations:
    """Every memory-feasible (segment, GPU set) pair, built in bulk per (L, k)."""
    M, K, N = tab.num_layers, tab.max_k, tab.num_gpus
    starts, ends, sets, taus = [], [], [], []
    for L in range(1, M + 1):
        for k in range(1, min(K, N) + 1):
            fitting = np.nonzero(tab.fits[L, k, tab.gpu_type])[0]
            if len(fitting) < k:
                continue
            combos = np.array(list(combinations(fitting, k)), dtype=np.int64).reshape(-1, k)
            tau = tab.tau[L, k, tab.gpu_type[combos]].min(axis=1)
            n_seg = M - L + 1
            s = np.repeat(np.arange(1, n_seg + 1), len(combos))
            starts.append(s)
            ends.append(s + L - 1)
            sets.append(np.tile(combos, (n_seg, 1)))
            taus.append(np.tile(tau, n_seg))
    units = singleton_classes(tab)
    if not starts:
        return Allocations(np.zeros(0, np.int64), np.zeros(0, np.int64), sp.csr_matrix((0, N)), np.zeros(0),
                           units)
    start, end, tau = np.concatenate(starts), np.concatenate(ends), np.concatenate(taus)
    sizes = np.concatenate([np.full(len(c), c.shape[1]) for c in sets])
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate([c.ravel() for c in sets])
    members = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(start), N))
    return Allocations(start=start, end=end, members=members, tau=tau, units=units)


def fitting_pairs(alloc: Allocations, M: int,
                  chunk: int = 256) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Consecutive allocation pairs whose GPU use fits together (disjoint sets at the GPU level;
    counts within the class sizes at the class level), in blocks: ``(a1s, a2s, ok)`` with
    ``ok[i, j]`` true when ``a1s[i]`` (ending at some l) and ``a2s[j]`` (starting at l+1) fit."""
    counts = alloc.members.toarray()
    sizes = alloc.units.sizes
    for l in range(1, M):
        E = np.nonzero(alloc.end == l)[0]
        S = np.nonzero(alloc.start == l + 1)[0]
        if not len(E) or not len(S):
            continue
        for first in range(0, len(E), chunk):
            part = E[first:first + chunk]
            yield part, S, ((counts[part][:, None, :] + counts[S][None, :, :]) <= sizes).all(axis=2)
