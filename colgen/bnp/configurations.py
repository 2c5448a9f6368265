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

With prices (the class space's ``price``), a configuration costs the prices of its GPUs (kinds are
then split by price too), a budget adds the row ``sum_n y_n cost(n) <= B``, and ``cheapest=True``
minimizes ``sum_n y_n cost(n)`` instead: the least cost at T, exact by the same argument (a
placement's cost is the sum of its stages' costs, whatever their order and segments).
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


def _kinds(space: ClassSpace, classes: np.ndarray) -> np.ndarray:
    """``kind[i]`` of each class in ``classes``: classes interchangeable where no link binds (one
    GPU type; with tensor parallelism also the same GPUs per node and the same link inside a node)."""
    cls = space.classes
    keys = [(int(cls.type[c]), int(cls.per_node[c]) if cls.per_node is not None else 1,
             float(cls.tp_gbps[c]) if cls.tp_gbps is not None else np.inf,
             float(space.price[c]) if space.price is not None else 0.0) for c in classes]
    index: dict[tuple, int] = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def single_stage(space: ClassSpace, eligible: np.ndarray) -> tuple[Stage, ...] | None:
    """One stage over the whole model reaching T, if there is one; with prices the cheapest (the
    cheapest eligible groups of each shape), and None when even that breaks the budget."""
    M, sh, cls = space.num_layers, space.shapes, space.classes
    order = np.argsort(space.price, kind="stable") if space.price is not None else np.arange(cls.count)
    best, best_cost = None, np.inf
    for s in range(1, space.num_shapes + 1):
        r, t = int(sh.r[s]), int(sh.t[s])
        if sh.k[s] > space.max_k:
            continue
        for group in space.type_groups():
            counts = np.zeros(cls.count, dtype=np.int64)
            need = r
            for c in order[(eligible[M, s] & group)[order]]:
                take = min(need, int(cls.sizes[c]) // t)
                counts[c] = take * t
                need -= take
            if need:
                continue
            if space.price is None:
                return cls.assign([(1, M, counts, t)])
            cost = float(space.cost(counts))
            if cost < best_cost:
                best, best_cost = (counts, t), cost
    if best is None or not space.within_budget(best_cost):
        return None
    return cls.assign([(1, M, best[0], best[1])])


def decide(space: ClassSpace, eligible: np.ndarray, *, backend: str = "auto",
           stop: Stop | None = None, cheapest: bool = False) -> tuple[Stage, ...] | bool | None:
    """At a network-free threshold: a placement (within the space's budget; with ``cheapest`` the
    cheapest one), False (proven infeasible), or None when there are too many configurations to
    enumerate (or the engine stopped short of a proof).

    A configuration is a shape and a GPU count per kind (:func:`_kinds`); it serves segments of
    ``min_layers`` to ``Lmax`` layers (eligibility holds on that whole range: memory and throughput
    only fall as segments grow). Stages of lengths in their ranges can add up to exactly M iff
    ``sum y min_layers <= M <= sum y Lmax``; with ``max_stages``, ``sum y <= max_stages``."""
    if stop is not None:
        stop.check()
    one = single_stage(space, eligible)
    if one is not None and not cheapest:
        return one
    fallback = one if one is not None else False
    M, sh, cls, limits = space.num_layers, space.shapes, space.classes, space.limits
    if M == 1:
        return fallback
    usable = np.nonzero(usable_classes(space, eligible))[0]
    if not len(usable):
        return fallback
    kind = _kinds(space, usable)
    Q = int(kind.max()) + 1
    avail = np.bincount(kind, weights=cls.sizes[usable], minlength=Q).astype(np.int64)
    rep = np.array([usable[kind == q][0] for q in range(Q)])                 # eligibility per kind
    types = cls.type[rep]
    el = eligible[1:M][:, :, rep]                                            # [L-1, shape, kind]
    configs, shapes_of, lmax = [], [], []
    total = 0
    for s in range(1, space.num_shapes + 1):
        r, t, k = int(sh.r[s]), int(sh.t[s]), int(sh.k[s])
        if k > space.max_k or k > avail.sum():
            continue
        for combo in combinations_with_replacement(range(Q), r):
            total += 1
            if stop is not None and total % 4096 == 0:
                stop.check()
            if total > MAX_CONFIGURATIONS:
                return None
            n = np.bincount(combo, minlength=Q) * t
            if (n > avail).any() or (space.single_type and len(set(types[n > 0].tolist())) > 1):
                continue
            ok = el[:, s, n > 0].all(axis=1)
            if not ok.any():
                continue
            configs.append(n)
            shapes_of.append(s)
            lmax.append(int(np.nonzero(ok)[0][-1]) + 1)
    if not configs:
        return fallback
    n = np.array(configs)
    L = np.array(lmax, dtype=float)
    rows = [L[None, :], n.T]
    lower, upper = [M], [np.inf]
    lower += [-np.inf] * Q
    upper += avail.astype(float).tolist()
    cost = n @ space.price[rep] if space.price is not None else np.zeros(len(L))
    if space.budget is not None:
        rows.append(cost[None, :])
        lower.append(-np.inf)
        upper.append(float(space.budget))
    if limits.min_layers > 1:
        rows.append(np.full((1, len(L)), float(limits.min_layers)))
        lower.append(-np.inf)
        upper.append(float(M))
    if limits.max_stages is not None:
        rows.append(np.ones((1, len(L))))
        lower.append(-np.inf)
        upper.append(float(limits.max_stages))
    most = np.floor(np.where(n > 0, avail[None, :] / np.maximum(n, 1), np.inf).min(axis=1))
    model = MatrixModel(c=cost if cheapest else np.zeros(len(L)), A=sp.csr_matrix(np.vstack(rows)),
                        row_lower=np.array(lower, dtype=float),
                        row_upper=np.array(upper, dtype=float), col_lower=np.zeros(len(L)), col_upper=most,
                        integer=np.ones(len(L), dtype=bool), maximize=False)
    # No presolve: on these models (thousands of integer columns, a dozen rows) HiGHS' presolve took
    # 1.5-3.3 s where the search itself takes 0.05 s (legacy-medium with its shapes and limits).
    out = get_backend(backend, model.num_cols, model.num_rows, in_process=True).solve(model, stop=stop,
                                                                                       presolve=False)
    if out.status == "infeasible":
        return fallback
    if stop is not None:
        stop.check()                       # an engine stopped by the deadline or an interrupt
    if out.status != "optimal" or out.x is None:
        return None
    found = _layout(space, usable, kind, n, np.array(shapes_of), L.astype(np.int64), np.round(out.x).astype(int))
    if one is not None and space.placement_cost(one) <= space.placement_cost(found):
        return one
    return found



def _layout(space: ClassSpace, usable: np.ndarray, kind: np.ndarray, n: np.ndarray, shape: np.ndarray,
            lmax: np.ndarray, y: np.ndarray) -> tuple[Stage, ...]:
    """The chosen configurations as stages: every stage gets ``min_layers``, then the remaining
    layers go to the longest first up to their ``Lmax``; GPU counts per kind go to its classes."""
    M, cls, lo = space.num_layers, space.classes, space.limits.min_layers
    chosen = [j for j in np.argsort(-lmax, kind="stable") for _ in range(int(y[j]))]
    length = [min(lo, int(lmax[j])) for j in chosen]
    left = M - sum(length)
    for i, j in enumerate(chosen):
        extra = min(left, int(lmax[j]) - length[i])
        length[i] += extra
        left -= extra
    free = cls.sizes.copy()
    stages, start = [], 1
    for j, L in zip(chosen, length, strict=True):
        if L <= 0 or start > M:
            continue
        t = int(space.shapes.t[shape[j]])
        counts = np.zeros(cls.count, dtype=np.int64)
        for q in np.nonzero(n[j])[0]:
            need = int(n[j, q])
            for c in usable[kind == q]:
                take = min(need, int(free[c]) // t * t)
                counts[c] += take
                free[c] -= take
                need -= take
        stages.append((start, start + L - 1, counts, t))
        start += L
    return cls.assign(stages)
