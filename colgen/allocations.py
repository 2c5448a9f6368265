"""The allocation space: (segment, GPU set) pairs that fit in memory.

A segment is a run of consecutive layers ``s..e``; an allocation gives it a specific set of at most
K GPUs, each of which must hold the segment's layers at per-GPU batch B/k. This module counts the
space without enumerating it (for ``colgen show`` and size estimates).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from colgen.performance import Tables


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
