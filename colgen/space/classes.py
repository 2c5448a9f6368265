"""GPU classes: GPUs that are interchangeable in every placement.

Two GPUs are interchangeable when they have the same type and the same link throughput to and
from every other GPU, once throughputs above ``cap`` (an upper bound on the optimum, so such links
can never bind) are treated as equal. Swapping two interchangeable GPUs maps any placement to one of
the same value, so solvers may count GPUs per class instead of naming them, and map the final
counts back to specific ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colgen.model.tables import Tables
from colgen.result import Stage


@dataclass(frozen=True)
class GpuClasses:
    """``of[g]`` is the class of GPU g; ``rho[c, d]`` the link throughput from any GPU of c to any
    GPU of d (clipped at ``cap``); ``rho[c, c]`` is between two members of c (``inf`` for a
    class of one GPU)."""

    of: np.ndarray
    members: tuple[np.ndarray, ...]
    type: np.ndarray
    rho: np.ndarray
    cap: float

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(m) for m in self.members], dtype=np.int64)

    def assign(self, stages: list[tuple[int, int, np.ndarray]]) -> tuple[Stage, ...]:
        """Stages given as (first layer, last layer, GPU count per class) -> stages with specific
        GPU ids, taking each class's members in order (any members of a class are equivalent)."""
        free = [list(m) for m in self.members]
        out = []
        for first, last, counts in stages:
            gpus: list[int] = []
            for c in np.nonzero(counts)[0]:
                gpus += free[c][: int(counts[c])]
                del free[c][: int(counts[c])]
            out.append(Stage(int(first), int(last), tuple(sorted(int(g) for g in gpus))))
        return tuple(out)


def gpu_classes(tab: Tables, cap: float = np.inf) -> GpuClasses:
    N = tab.num_gpus
    R = np.minimum(tab.network.dense_gbps() * tab.link_scale, cap)     # N x N (for now)
    reps: list[int] = []
    members: list[list[int]] = []
    internal: list[float | None] = []
    for i in range(N):
        for c, r in enumerate(reps):
            if tab.gpu_type[i] != tab.gpu_type[r]:
                continue
            others = np.ones(N, dtype=bool)
            others[[i, r]] = False
            same_out = np.array_equal(R[i, others], R[r, others])
            if not (same_out and np.array_equal(R[others, i], R[others, r])):
                continue
            inner = np.concatenate([R[i, members[c]], R[members[c], i]])
            value = internal[c] if internal[c] is not None else inner[0]
            if np.all(inner == value):
                members[c].append(i)
                internal[c] = float(value)
                break
        else:
            reps.append(i)
            members.append([i])
            internal.append(None)
    C = len(reps)
    of = np.empty(N, dtype=np.int64)
    for c, ms in enumerate(members):
        of[ms] = c
    rho = R[np.ix_(reps, reps)].copy()
    for c in range(C):
        rho[c, c] = np.inf if internal[c] is None else internal[c]
    # The definition, checked in full: every off-diagonal pair matches its class pair.
    off = ~np.eye(N, dtype=bool)
    if not np.array_equal(rho[np.ix_(of, of)][off], R[off]):
        raise AssertionError("GPU classes are not interchangeable (internal error)")
    return GpuClasses(of=of, members=tuple(np.array(m, dtype=np.int64) for m in members),
                      type=tab.gpu_type[reps].copy(), rho=rho, cap=float(cap))


def singleton_classes(tab: Tables) -> GpuClasses:
    """Every GPU its own class (no aggregation): the units of the GPU-level full ILP. Its class
    matrix is the dense N x N link matrix: for small instances only (the GPU-level ILP enumerates
    every GPU set anyway)."""
    N = tab.num_gpus
    rho = tab.network.dense_gbps() * tab.link_scale
    np.fill_diagonal(rho, np.inf)
    return GpuClasses(of=np.arange(N), members=tuple(np.array([g]) for g in range(N)),
                      type=tab.gpu_type.copy(), rho=rho, cap=np.inf)
