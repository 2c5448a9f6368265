"""Stage configurations: the exact decision at thresholds where no link can bind.

At a target T, suppose every pair of GPU classes that can serve a stage of a multi-stage pipeline
is joined by links of throughput >= T (both directions). Then the order of the stages is
irrelevant and a GPU's identity beyond its type is too, so the decision "is there a placement with
every stage >= T?" is a cutting-stock problem over *configurations* (GPU counts per type, at most K
GPUs):

    find integers y_n >= 0  with  sum_n y_n Lmax(n) >= M  and  sum_n y_n n_t <= available_t,

where ``Lmax(n)`` is the longest segment shorter than the model that a stage of configuration n
serves at throughput >= T with memory to spare (both shrink monotonically with the segment
length, so any shorter segment works too). A solution orders its stages arbitrarily and trims
segments until they cover exactly M layers. A pipeline of one stage is checked on its own.

The configurations are enumerated (at most C(types + K, K)); the integer program has one row per
type plus one, and HiGHS answers it in milliseconds. When there are too many configurations the
caller falls back to the positional branch-and-price.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np
import scipy.sparse as sp

from colgen.backends import MatrixModel, get_backend
from colgen.result import Stage
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop

MAX_CONFIGURATIONS = 200_000


def usable_classes(space: ClassSpace, eligible: np.ndarray) -> np.ndarray:
    """Classes that may serve a stage of a pipeline with two or more stages (a segment < M)."""
    return eligible[1:space.num_layers].any(axis=(0, 1))


def network_free(space: ClassSpace, T: float, eligible: np.ndarray) -> bool:
    """True when no link among classes usable in a multi-stage pipeline is slower than T."""
    usable = usable_classes(space, eligible)
    rho = space.classes.rho[np.ix_(usable, usable)]
    return bool((rho >= T).all())


def single_stage(space: ClassSpace, eligible: np.ndarray) -> tuple[Stage, ...] | None:
    """One stage over the whole model reaching T, if there is one."""
    M = space.num_layers
    for k in range(1, space.max_k + 1):
        for group in space.type_groups():
            ok = np.nonzero(eligible[M, k] & group)[0]
            members = np.concatenate([space.classes.members[c] for c in ok]) if len(ok) else []
            if len(members) >= k:
                return (Stage(1, M, tuple(sorted(int(g) for g in members[:k]))),)
    return None


def decide(space: ClassSpace, eligible: np.ndarray, *, backend: str = "auto",
           stop: Stop | None = None) -> tuple[Stage, ...] | bool | None:
    """At a network-free threshold: a placement, False (proven infeasible), or None when there
    are too many configurations to enumerate."""
    if stop is not None:
        stop.check()
    one = single_stage(space, eligible)
    if one is not None:
        return one
    M, K = space.num_layers, space.max_k
    if M == 1:
        return False
    cls = space.classes
    usable = np.nonzero(usable_classes(space, eligible))[0]
    types = np.unique(cls.type[usable])
    if not len(types):
        return False
    avail = np.array([cls.sizes[usable][cls.type[usable] == t].sum() for t in types])
    rep = np.array([usable[cls.type[usable] == t][0] for t in types])     # eligibility per type
    el = eligible[1:M][:, :, rep]                                          # [L-1, k, type]
    configs, lmax = [], []
    total = 0
    for k in range(1, min(K, int(avail.sum())) + 1):
        for combo in combinations_with_replacement(range(len(types)), k):
            total += 1
            if stop is not None and total % 4096 == 0:
                stop.check()
            if total > MAX_CONFIGURATIONS:
                return None
            n = np.bincount(combo, minlength=len(types))
            if (n > avail).any() or (space.single_type and (n > 0).sum() > 1):
                continue
            ok = el[:, k, n > 0].all(axis=1)
            if not ok[0]:
                continue
            configs.append(n)
            lmax.append(int(np.argmin(ok)) if not ok.all() else M - 1)
    if not configs:
        return False
    n = np.array(configs)
    L = np.array(lmax, dtype=float)
    A = sp.csr_matrix(np.vstack([L[None, :], n.T]))
    most = np.floor(np.where(n > 0, avail[None, :] / np.maximum(n, 1), np.inf).min(axis=1))
    model = MatrixModel(c=np.zeros(len(L)), A=A, row_lower=np.r_[M, np.full(len(types), -np.inf)],
                        row_upper=np.r_[np.inf, avail.astype(float)], col_lower=np.zeros(len(L)),
                        col_upper=most,
                        integer=np.ones(len(L), dtype=bool), maximize=False)
    out = get_backend(backend, model.num_cols, model.num_rows, in_process=True).solve(model, stop=stop)
    if out.status == "infeasible":
        return False
    if stop is not None:
        stop.check()                       # an engine stopped by the deadline or an interrupt
    if out.status != "optimal" or out.x is None:
        return None
    y = np.round(out.x).astype(int)
    stages, start = [], 1
    free = {t: list(np.concatenate([cls.members[c] for c in usable if cls.type[c] == t])) for t in types}
    for j in np.argsort(-L):                      # longest segments first, trim the tail
        for _ in range(y[j]):
            if start > M:
                break
            end = min(M, start + int(L[j]) - 1)
            gpus = []
            for i, t in enumerate(types):
                gpus += free[t][: n[j, i]]
                del free[t][: n[j, i]]
            stages.append(Stage(start, end, tuple(sorted(int(g) for g in gpus))))
            start = end + 1
    return tuple(stages)
