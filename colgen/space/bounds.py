"""Cheap valid bounds on the optimal throughput, used before any LP is solved."""

from __future__ import annotations

import numpy as np

from colgen.model.tables import Tables


def fluid_upper_bound(tab: Tables, type_counts: np.ndarray | None = None) -> float:
    """An upper bound on the optimum from a fluid relaxation (0.0 proves infeasibility).

    A stage of L layers and shape s (k GPUs) reaches throughput t only if every member g satisfies
    ``L / k <= min(c_g(s) / t, Lmax_g(s) / k)``, where ``c_g(s) = tau(1, s, g) / k`` is g's share of a
    one-layer stage and ``Lmax_g(s)`` the most layers g holds. Summing ``L / k`` over the members of
    every stage gives M, so ``M <= sum_g max_s min(c_g(s) / t, Lmax_g(s) / k)``; the largest t with
    this property bounds the optimum. It is also capped by the best one-layer stage. Tensor-parallel
    shapes count without their all-reduces (only faster) and without asking whether the GPUs can form
    groups: a relaxation, so still a bound.
    ``type_counts`` restricts the cluster to that many GPUs of each type (default: all of them).
    """
    counts = np.bincount(tab.gpu_type, minlength=tab.tau.shape[2]) if type_counts is None else type_counts
    M, K = tab.num_layers, min(tab.max_k, int(counts.sum()))
    if K == 0:
        return 0.0
    sel = np.nonzero((tab.shapes.k >= 1) & (tab.shapes.k <= K))[0]
    ks = tab.shapes.k[sel]
    fits = tab.fits[1:, sel, :]                                    # [L-1, shape, type]
    lmax = np.where(fits.any(axis=0), fits.shape[0] - np.argmax(fits[::-1], axis=0), 0)  # [shape, type]
    share = tab.tau[1, sel, :] / ks[:, None]                       # c(s) per type
    ok = (lmax > 0) & (counts[None, :] > 0)
    if not ok.any():
        return 0.0

    def coverage(t: float) -> float:
        per = np.where(ok, np.minimum(share / t, lmax / ks[:, None]), 0.0).max(axis=0)
        return float((per * counts).sum())

    hi = float(tab.tau[1, sel, :][ok].max())
    if coverage(hi) >= M:
        return hi
    lo = 0.0
    if coverage(hi * 1e-12) < M:
        return 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if coverage(mid) >= M:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return hi
