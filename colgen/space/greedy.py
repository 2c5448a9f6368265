"""A quick placement without optimality claim: the first incumbent of branch-and-price and the
reference value of the ``bound`` pruning rule.

Bisection over the candidate values with a greedy test that builds the pipeline front to back, each
stage covering as many layers per GPU as it can with the GPUs left (only links to the previous
stage fast enough). :func:`greedy_at` with a random generator perturbs the class order (multi-start).
"""

from __future__ import annotations

import numpy as np

from colgen.result import Stage
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop


def greedy_placement(space: ClassSpace, stop: Stop | None = None) -> tuple[Stage, ...] | None:
    """A quick placement, no optimality claim: bisection over the candidate values with a greedy
    test that builds the pipeline front to back, each stage covering as many layers per GPU as it
    can with the GPUs left (only links to the previous stage fast enough)."""
    V = space.candidates()
    lo, hi, best = 0, len(V) - 1, None
    while lo <= hi:
        if stop is not None:
            stop.check()
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
