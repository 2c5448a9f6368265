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


def _longest(usable: np.ndarray, groups: np.ndarray, r: int, lo: int, most: int) -> int:
    """Longest L in [lo, most] whose usable classes (``usable[L]``, shrinking as L grows) hold r
    free groups (``groups[c]`` each); 0 if none (binary search)."""
    if most < lo or groups[usable[lo]].sum() < r:
        return 0
    a, b = lo, most
    while a < b:
        mid = (a + b + 1) // 2
        a, b = (mid, b) if groups[usable[mid]].sum() >= r else (a, mid - 1)
    return a


def greedy_at(space: ClassSpace, T: float, eligible: np.ndarray,
              rng: np.random.Generator | None = None) -> tuple[Stage, ...] | None:
    """One greedy attempt at target T; with ``rng`` the class order is perturbed (multi-start)."""
    M, cls, sh = space.num_layers, space.classes, space.shapes
    lo = space.limits.min_layers
    reach = cls.rho >= T
    free = cls.sizes.copy()
    # Cheaper GPUs first: a class's value is its best one-layer throughput share.
    worth = space.class_tau()[min(max(1, lo), M)].max(axis=0)
    if rng is not None:
        worth = worth * rng.uniform(0.5, 1.5, size=len(worth))
    order = np.argsort(worth)
    prev: np.ndarray | None = None
    stages: list[tuple[int, int, np.ndarray, int]] = []
    start = 1
    while start <= M:
        if space.limits.max_stages is not None and len(stages) >= space.limits.max_stages:
            return None
        ok_link = np.ones(space.num_classes, dtype=bool) if prev is None else reach[prev].all(axis=0)
        best = None
        for s in range(1, space.num_shapes + 1):
            r, t, k = int(sh.r[s]), int(sh.t[s]), int(sh.k[s])
            if k > space.max_k:
                continue
            groups = free // t
            L = _longest(eligible[:, s] & ok_link & (groups > 0), groups, r, lo, M - start + 1)
            if L == 0:
                continue
            usable = eligible[L, s] & ok_link & (groups > 0)
            counts = np.zeros(space.num_classes, dtype=np.int64)
            need = r
            for c in order:
                if usable[c] and need:
                    take = min(need, int(groups[c]))
                    counts[c] = take * t
                    need -= take
            if best is None or L / k > best[0] / best[1]:
                best = (L, k, counts, t)
        if best is None:
            return None
        L, _, counts, t = best
        free -= counts
        stages.append((start, start + L - 1, counts, t))
        prev = np.nonzero(counts)[0]
        start += L
    return cls.assign(stages)
