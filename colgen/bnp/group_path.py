"""The group-path heuristic: a placement where links bind, built as a path through groups of classes.

At a target T, *twin groups* are classes that are linked to each other (both ways) and to themselves
and have the same links (both ways) to every other class: inside a group stages may come in any
order, and between two groups the link either reaches T for every GPU pair or for none. Each group
gets a *capacity*, the most layers its GPUs serve at >= T with data-parallel stages drawn from the
group only (a knapsack over configurations), and a depth-first search looks for a walk through
groups linked at >= T whose capacities add up to M layers: Warnsdorff order (fewest onward options
first, then the largest capacity), pruning by the capacity still reachable, revisits of a group while it has
stages left (a hub), and a node budget (deterministic, no clock).

On clusters of many distinct nodes (the ``nodes`` generator) the best placement is often a
Hamiltonian path through the nodes, which neither the LP nor the pool MIP sees. Where the
capacities fall short of M (or no walk is found), :func:`walk_mip` follows a tour of the groups and
adds *transition stages* that mix the GPUs two neighbouring groups have left (on a cluster in
regions, the stages that cross from one region to the next). Every placement the search returns is
evaluated exactly by the caller; the heuristic never affects the bound.
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from math import comb

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from colgen.backends import MatrixModel, get_backend
from colgen.bnp.configurations import MAX_CONFIGURATIONS, single_stage, usable_classes
from colgen.bnp.stage_walk import MAX_DEPTH, Stage, allowed_lengths, layout, stage_lengths
from colgen.result import Placement
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop

Plan = list[tuple[int, np.ndarray]]          # stages as (layers, GPU count per class)
#: Stages (multisets of classes, counted before they are listed) beyond which no walk MIP is built.
MAX_WALK_STAGES = 50_000


class _Budget(Exception):
    """The search spent its node budget."""


def twin_groups(space: ClassSpace, T: float, classes: np.ndarray) -> list[np.ndarray]:
    """Partition ``classes`` into twin groups at T (see the module docstring)."""
    link = space.classes.rho >= T
    sizes = space.classes.sizes
    groups: list[list[int]] = []
    for c in map(int, classes):
        self_ok = link[c, c] or sizes[c] == 1
        for g in groups:
            r = g[0]
            if not self_ok or not (link[r, r] or sizes[r] == 1) or not (link[c, r] and link[r, c]):
                continue
            others = np.ones(space.num_classes, dtype=bool)
            others[g] = False
            others[c] = False
            if np.array_equal(link[c, others], link[r, others]) and np.array_equal(link[others, c], link[others, r]):
                g.append(c)
                break
        else:
            groups.append([c])
    return [np.array(g, dtype=np.int64) for g in groups]


def _lmax(space: ClassSpace, eligible: np.ndarray, k: int, classes: np.ndarray) -> int:
    """Most layers (< M) a data-parallel stage of k GPUs drawn from ``classes`` serves (each of them
    eligible); 0 if none. The group path builds data-parallel stages only."""
    s = space.shapes.index(k, 1)
    if not s:
        return 0
    ok = eligible[1:space.num_layers, s][:, classes].all(axis=1)
    return int(np.nonzero(ok)[0][-1]) + 1 if ok.any() else 0


def group_capacity(space: ClassSpace, T: float, eligible: np.ndarray, group: np.ndarray, cap: int, *,
                   backend: str = "auto", stop: Stop | None = None) -> tuple[int, Plan]:
    """The most layers (at most ``cap``) the GPUs of ``group`` serve with stages inside the group,
    and those stages. Knapsack over configurations (GPU counts per type, <= K): a DP for one type, a
    small MIP for several."""
    cls, K = space.classes, space.max_k
    group = group[eligible[1:space.num_layers][:, :, group].any(axis=(0, 1))]
    if not len(group):
        return 0, []
    types = np.unique(cls.type[group])
    avail = np.array([cls.sizes[group][cls.type[group] == t].sum() for t in types])
    configs, lmax = [], []
    total = 0
    for k in range(1, min(K, int(avail.sum())) + 1):
        for combo in combinations_with_replacement(range(len(types)), k):
            total += 1
            if total > MAX_CONFIGURATIONS:
                break
            n = np.bincount(combo, minlength=len(types))
            if (n > avail).any():
                continue
            members = np.array([group[cls.type[group] == types[i]][0] for i in np.nonzero(n)[0]])
            L = _lmax(space, eligible, k, members)
            if L > 0:
                configs.append(n)
                lmax.append(L)
    if not configs:
        return 0, []
    n, L = np.array(configs), np.array(lmax)
    link = space.classes.rho >= T
    if any(not link[c, c] and cls.sizes[c] > 1 for c in group):
        # Two GPUs of one class are not linked fast enough: two stages drawing on that class must
        # not follow each other, so the group serves one stage only (its longest configuration).
        y = np.zeros(len(L), dtype=np.int64)
        y[int(np.argmax(L))] = 1
    elif len(types) == 1:
        y = _one_type_knapsack(n[:, 0], L, int(avail[0]))
    else:
        model = MatrixModel(c=L.astype(float), A=sp.csr_matrix(n.T.astype(float)),
                            row_lower=np.full(len(types), -np.inf), row_upper=avail.astype(float),
                            col_lower=np.zeros(len(L)), col_upper=np.full(len(L), float(cap)),
                            integer=np.ones(len(L), dtype=bool), maximize=True)
        out = get_backend(backend, model.num_cols, model.num_rows, in_process=True).solve(model, stop=stop)
        if out.x is None:
            return 0, []
        y = np.round(out.x).astype(np.int64)
    return _stages(space, group, types, n, L, y, cap)


def _one_type_knapsack(k: np.ndarray, L: np.ndarray, avail: int) -> np.ndarray:
    """Unbounded knapsack: how many stages of each size k (worth L layers) from ``avail`` GPUs."""
    best = np.zeros(avail + 1, dtype=np.int64)
    pick = np.full(avail + 1, -1)
    for a in range(1, avail + 1):
        best[a], pick[a] = best[a - 1], -1
        for j in range(len(L)):
            if k[j] <= a and best[a - k[j]] + L[j] > best[a]:
                best[a], pick[a] = best[a - k[j]] + L[j], j
    y = np.zeros(len(L), dtype=np.int64)
    a = avail
    while a > 0:
        if pick[a] < 0:
            a -= 1
            continue
        y[pick[a]] += 1
        a -= int(k[pick[a]])
    return y


def _stages(space: ClassSpace, group: np.ndarray, types: np.ndarray, n: np.ndarray, L: np.ndarray,
            y: np.ndarray, cap: int) -> tuple[int, Plan]:
    """The chosen configurations as stages with class counts (types filled from the group's classes
    in order), longest first, until ``cap`` layers."""
    cls = space.classes
    free = {int(t): [[int(c), int(cls.sizes[c])] for c in group if cls.type[c] == t] for t in types}
    stages: Plan = []
    got = 0
    for j in np.argsort(-L, kind="stable"):
        for _ in range(int(y[j])):
            if got >= cap:
                break
            counts = np.zeros(space.num_classes, dtype=np.int64)
            for i, t in enumerate(types):
                need, left = int(n[j, i]), free[int(t)]
                while need:
                    take = min(need, left[0][1])
                    counts[left[0][0]] += take
                    need -= take
                    left[0][1] -= take
                    if not left[0][1]:
                        left.pop(0)
            stages.append((int(L[j]), counts))
            got += int(L[j])
    return min(got, cap), stages


def group_path(space: ClassSpace, T: float, eligible: np.ndarray, node_budget: int, *, backend: str = "auto",
               stop: Stop | None = None) -> Placement | None:
    """A placement reaching T built as a walk through twin groups (within the stage limits), or None."""
    found = _group_path(space, T, eligible, node_budget, backend=backend, stop=stop)
    return found if found and space.limits.keeps([s.num_layers for s in found]) else None


def _group_path(space: ClassSpace, T: float, eligible: np.ndarray, node_budget: int, *, backend: str,
                stop: Stop | None) -> Placement | None:
    one = single_stage(space, eligible)
    if one is not None:
        return one
    M = space.num_layers
    use = np.nonzero(usable_classes(space, eligible))[0]
    if not len(use):
        return None
    groups, caps_list, plans = [], [], []
    for g in twin_groups(space, T, use):
        if stop is not None:
            stop.check()
        cap, plan = group_capacity(space, T, eligible, g, M, backend=backend, stop=stop)
        if cap > 0:
            groups.append(g)
            caps_list.append(cap)
            plans.append(plan)
    caps = np.array(caps_list, dtype=np.int64)
    if not len(caps):
        return None
    if caps.sum() >= M:
        walk = _walk(space, T, groups, caps, plans, node_budget, stop)
        if walk is not None:
            return _layout(space, walk, plans, M)
    tour = _tour(space, T, groups, caps)
    return walk_mip(space, T, eligible, [groups[g] for g in tour], backend=backend, stop=stop)


def _tour(space: ClassSpace, T: float, groups: list[np.ndarray], caps: np.ndarray) -> list[int]:
    """A walk through every group of the component (groups linked both ways) of most capacity:
    depth-first along a spanning tree from one end of its longest path, back through a group after
    each branch, the branch to the other end last (never left again)."""
    rep = np.array([g[0] for g in groups])
    link = (space.classes.rho >= T)[np.ix_(rep, rep)]
    mutual = link & link.T
    np.fill_diagonal(mutual, False)
    n, label = connected_components(sp.csr_matrix(mutual), directed=False)
    best = int(np.argmax(np.bincount(label, weights=caps, minlength=n)))
    members = np.nonzero(label == best)[0]
    end = int(_bfs(mutual, int(members[0]))[0][-1])
    order, parent = _bfs(mutual, end)
    far = int(order[-1])
    children: dict[int, list[int]] = {int(v): [] for v in order}
    for v in order[1:]:
        children[int(parent[v])].append(int(v))
    on_path = {far}
    v = far
    while v != end:
        v = int(parent[v])
        on_path.add(v)
    walk: list[int] = []

    def visit(u: int, final: bool) -> None:
        walk.append(u)
        kids = sorted(children[u], key=lambda c: c in on_path)      # the branch to the far end last
        for c in kids:
            visit(c, final and c in on_path)
            if not (final and c in on_path):
                walk.append(u)

    visit(end, True)
    return walk


def _bfs(adj: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first order from ``start`` and each vertex's parent (-1 for the start)."""
    order, parent = breadth_first_order(sp.csr_matrix(adj), start, directed=False, return_predecessors=True)
    return order, parent


def _walk(space: ClassSpace, T: float, groups: list[np.ndarray], caps: np.ndarray, plans: list[Plan],
          node_budget: int, stop: Stop | None) -> list[int] | None:
    """Depth-first search for a walk of groups whose capacities reach M (Warnsdorff order)."""
    M, G = space.num_layers, len(groups)
    rep = np.array([g[0] for g in groups])
    adj = (space.classes.rho >= T)[np.ix_(rep, rep)].copy()
    np.fill_diagonal(adj, False)
    slots = np.array([len(p) for p in plans], dtype=np.int64)     # visits a group can take
    visits = np.zeros(G, dtype=np.int64)
    walk: list[int] = []
    nodes = 0

    def reachable_capacity(v: int) -> int:
        """Capacity of the unvisited groups reachable from v through groups that can take a visit."""
        passable = (visits == 0) | (visits < slots)
        seen = np.zeros(G, dtype=bool)
        frontier = np.zeros(G, dtype=bool)
        frontier[v] = True
        while frontier.any():
            new = adj[frontier].any(axis=0) & passable & ~seen
            seen |= new
            frontier = new
        return int(caps[seen & (visits == 0)].sum())

    def moves(v: int) -> list[tuple[int, ...]]:
        """Steps to a new group: directly, or through one visited group with a visit left."""
        fresh = visits == 0
        direct = np.nonzero(adj[v] & fresh)[0]
        onward = adj[:, fresh].sum(axis=1)
        out: list[tuple[int, ...]] = [(int(w),) for w in direct[np.lexsort((-caps[direct], onward[direct]))]]
        seen = {int(w) for w in direct}
        via = []
        for u in np.nonzero(adj[v] & ~fresh & (visits < slots))[0]:
            for w in np.nonzero(adj[u] & fresh)[0]:
                if int(w) not in seen:
                    seen.add(int(w))
                    via.append((onward[w], -caps[w], int(u), int(w)))
        return out + [(u, w) for _, _, u, w in sorted(via)]

    def dfs(v: int, total: int) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > node_budget or len(walk) > MAX_DEPTH:      # a level of recursion per visit
            raise _Budget
        if stop is not None and nodes % 256 == 0:
            stop.check()
        if total >= M:
            return True
        if total + reachable_capacity(v) < M:
            return False
        for step in moves(v):
            for u in step:
                visits[u] += 1
                walk.append(u)
            if dfs(step[-1], total + int(caps[step[-1]])):
                return True
            for u in step:
                visits[u] -= 1
                walk.pop()
        return False

    # Start where few links come in (a path must begin somewhere), then at the largest capacity.
    try:
        for s in np.lexsort((-caps, adj.sum(axis=0))):
            visits[:] = 0
            visits[s] = 1
            walk[:] = [int(s)]
            if dfs(int(s), int(caps[s])):
                return walk
    except _Budget:
        return None
    return None


def walk_mip(space: ClassSpace, T: float, eligible: np.ndarray, visits: list[np.ndarray], *,
             backend: str = "auto", stop: Stop | None = None) -> Placement | None:
    """A placement along a fixed walk of twin groups, with stages *between* groups too.

    Capacities count stages inside one group; where they fall short, the GPUs each group has left
    can still form a stage with its neighbour's: between visits i and i+1 every class of both links
    to both (twin groups), so *transition stages* mixing them may sit there (any number when the
    groups link both ways, else one). A MIP picks the stages: per visit, how many of each
    configuration inside the group (at least one, so that two transitions never meet); per
    transition, how many mixed ones; each class's GPUs at most once; the most layers. None when
    they stay below M or the stages to list would be more than ``MAX_WALK_STAGES``. (Twin groups are linked both
    ways inside; a class whose own GPUs are not linked is its own group, kept from following
    itself by one row per window.)"""
    M, V = space.num_layers, len(visits)
    allowed = allowed_lengths(space, eligible)
    link = space.classes.rho >= T
    parts = [[v // 2] if v % 2 == 0 else [v // 2, v // 2 + 1] for v in range(2 * V - 1)]   # pipeline order
    listed = sum(comb(sum(len(visits[v]) for v in part) + k - 1, k) for part in parts
                 for k in range(1, space.max_k + 1))
    if listed > MAX_WALK_STAGES:
        return None
    columns: list[tuple[int, Stage, int, int]] = []          # (part, classes, fewest layers, most layers)
    for row, part in enumerate(parts):
        for stage, lo, hi in _stages_of(space, allowed, [visits[v] for v in part]):
            columns.append((row, stage, lo, hi))
    if not columns:
        return None
    n, C, P = len(columns), space.num_classes, len(parts)
    rows, cols, vals = [], [], []
    for j, (row, stage, _, _) in enumerate(columns):
        for c in stage:
            rows.append(c)
            cols.append(j)
            vals.append(1.0)
        rows += [C + row, C + P]
        cols += [j, j]
        vals += [1.0, 1.0]
    lower, upper = np.full(P, 1.0), np.full(P, np.inf)
    for row, part in enumerate(parts):
        if len(part) == 2:
            a, b = visits[part[0]], visits[part[1]]
            lower[row], upper[row] = 0.0, np.inf if link[np.ix_(b, a)].all() else 1.0
    # A class whose two GPUs are not linked at T serves one stage of each window of adjacent parts
    # (a visit and the transitions on either side): two stages drawing on it never follow each other.
    lonely = np.nonzero(~np.diag(link) & (space.classes.sizes > 1))[0]
    windows = 0
    for v in range(V):
        near = {2 * v - 1, 2 * v, 2 * v + 1}
        for c in lonely:
            hits = [j for j, (row, stage, _, _) in enumerate(columns) if row in near and c in stage]
            if hits:
                rows += [C + P + 1 + windows] * len(hits)
                cols += hits
                vals += [1.0] * len(hits)
                windows += 1
    most = float(space.limits.max_stages) if space.limits.max_stages is not None else np.inf
    model = MatrixModel(c=np.array([hi for _, _, _, hi in columns], dtype=float),
                        A=sp.csr_matrix((vals, (rows, cols)), shape=(C + P + 1 + windows, n)),
                        row_lower=np.concatenate([np.full(C, -np.inf), lower, [0.0], np.zeros(windows)]),
                        row_upper=np.concatenate([space.classes.sizes.astype(float), upper, [most],
                                                  np.ones(windows)]),
                        col_lower=np.zeros(n), col_upper=np.full(n, float(M)), integer=np.ones(n, dtype=bool),
                        maximize=True)
    out = get_backend(backend, model.num_cols, model.num_rows, in_process=True).solve(model, stop=stop)
    if out.x is None or out.objective is None or out.objective < M:
        return None
    count = np.round(out.x).astype(np.int64)
    walk = [(lo, hi, stage) for j, (_, stage, lo, hi) in enumerate(columns) for _ in range(count[j])]
    return layout(space, walk) or None          # columns are in pipeline order already


def _stages_of(space: ClassSpace, allowed: np.ndarray, groups: list[np.ndarray]) -> list[tuple[Stage, int, int]]:
    """Every data-parallel stage over the classes of ``groups`` using each of them (classes with
    their GPU counts, one entry per GPU), with its fewest and most layers."""
    classes = sorted(int(c) for g in groups for c in g)
    sizes = space.classes.sizes
    out = []
    for k in range(len(groups), space.max_k + 1):
        for stage in combinations_with_replacement(classes, k):
            if any(stage.count(c) > sizes[c] for c in set(stage)):
                continue
            if len(groups) > 1 and not all(any(c in g for c in stage) for g in groups):
                continue
            lo, hi = stage_lengths(allowed, stage)
            if hi:
                out.append((stage, lo, hi))
    return out


def _layout(space: ClassSpace, walk: list[int], plans: list[Plan], M: int) -> Placement | None:
    """Stages in walk order, trimmed to M layers: each later visit of a group takes one of its
    stages (the shortest ones), the first visit the rest."""
    later: dict[int, Plan] = {}
    first_visit: dict[int, Plan] = {}
    for gi in set(walk):
        plan = sorted(plans[gi], key=lambda s: s[0])
        n_visits = walk.count(gi)
        later[gi], first_visit[gi] = plan[:n_visits - 1], plan[n_visits - 1:]
    seen: set[int] = set()
    stages: list[tuple[int, int, np.ndarray]] = []
    first = 1
    for gi in walk:
        chunk = [later[gi].pop()] if gi in seen else first_visit[gi]
        seen.add(gi)
        for L, counts in chunk:
            if first > M:
                break
            last = min(M, first + L - 1)
            stages.append((first, last, counts))
            first = last + 1
    return space.classes.assign(stages) if first > M else None


def best_group_path(space: ClassSpace, node_budget: int, above: float = 0.0, *, backend: str = "auto",
                    stop: Stop | None = None) -> Placement | None:
    """The best group path over a bisection of the candidates above ``above``."""
    V = space.candidates()
    lo, hi = int(np.searchsorted(V, above, side="right")), len(V) - 1
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        T = float(V[mid])
        found = group_path(space, T, space.eligible(T), node_budget, backend=backend, stop=stop)
        if found:
            best, lo = found, mid + 1
        else:
            hi = mid - 1
    return best
