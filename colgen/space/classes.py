"""GPU classes: GPUs that are interchangeable in every placement.

**Definition.** Let ``R(i, j) = min(rho(i, j), cap)`` be the link throughput from GPU i to GPU j != i,
clipped at ``cap`` (an upper bound on the optimum, so links at or above it never bind). GPUs i != j
are *interchangeable*, ``i ~ j``, when they have the same type and swapping them preserves R:
``R(i, x) = R(j, x)`` and ``R(x, i) = R(x, j)`` for every x outside {i, j}, and ``R(i, j) = R(j, i)``.
Swapping two interchangeable GPUs maps any placement to one of the same value, so solvers may count
GPUs per class instead of naming them, and map the final counts back to specific ids.

``~`` is an equivalence relation. Let i ~ j and j ~ k (distinct). (a) i ~ j at x = k:
``R(i, k) = R(j, k)``, ``R(k, i) = R(k, j)``; (b) j ~ k at x = i: ``R(j, i) = R(k, i)``,
``R(i, j) = R(i, k)``; (c) ``R(i, j) = R(j, i)``, ``R(j, k) = R(k, j)``. Rows and columns agree
at every x outside {i, j, k}; at x = j, ``R(k, j) = R(k, i) = R(j, i) = R(i, j)`` (a, b, c) and
``R(j, k) = R(k, j) = R(k, i) = R(j, i)`` (c, a, b); and ``R(i, k) = R(j, k) = R(k, j) = R(k, i)``
(a, c, a): so i ~ k. By (b) and (a) all pairs inside a class have one value, the class's *internal*
value. The classes are the equivalence classes, numbered in the order of their smallest GPU id,
members ascending: exactly what the GPU-by-GPU row comparison of earlier versions produced
(``tests/test_classes.py`` checks both the definition and that algorithm).

**At group level.** The network is given per group of GPUs (colgen/model/network.py). Write
``C[a, b]`` for the clipped throughput from a GPU of group a to one of group b != a, ``C[a, a]``
for the clipped within-value of a (the *closed* group matrix), and ``|a|`` for a's size. For GPUs
i in a and j in b, the x outside {i, j} meet every group other than a and b, and meet a (b)
exactly when it holds a second GPU. Hence:

1. Two GPUs of one group with the same type are always interchangeable: every x sees both through
   the same group pair, and ``R(i, j) = R(j, i) = C[a, a]``.
2. For a != b, ``i ~ j`` iff the types agree and (i) ``C[a, c] = C[b, c]`` and ``C[c, a] = C[c, b]``
   for every group c outside {a, b}; (ii) ``C[a, b] = C[b, a]``; (iii) if ``|a| >= 2``:
   ``C[a, a] = C[b, a] = C[a, b]`` (x a second GPU of a); (iv) if ``|b| >= 2``:
   ``C[b, b] = C[a, b] = C[b, a]``. This depends on the groups only, not on i and j.
3. If ``|a|, |b| >= 2``: a and b are interchangeable iff their closed rows and columns are equal
   (equal rows at columns a and b, and equal columns at rows a and b, are (ii)-(iv)). A one-GPU
   group has no within-value, its condition is *open*: with its diagonal set to ``C[a, b]`` (a
   group of >= 2 keeps its own), (i)-(iv) hold iff the closed rows and columns are equal.

So classes are unions of (group, type) cells, and the groups fall into the classes of a relation
``≈`` that ignores types (an equivalence: ``~`` for GPUs of one hypothetical type). They are found
without any N x N array:

* *topology* (symmetric; a default D between groups, sparse overrides): a group's *key* is the set
  of non-D entries of its closed row, a one-GPU group's diagonal counted as D. Equal keys give
  ≈ (two groups of >= 2 GPUs: point 3; a one-GPU group a: no entry at a in either key, so
  ``C[a, b] = C[b, a] = D``, its diagonal by point 3). Conversely every ≈ pair has equal keys
  unless ``C[a, b] != D`` and one group has one GPU, i.e. an override edge: for those, the keys
  with the one-GPU diagonals set to ``C[a, b]`` are compared. O(groups + overrides).
* *matrix* (dense): (i)-(iv) for all group pairs at once, (i) by row and column hashes minus the
  pair's own entries. O(G^2), the size of the input.

Hashes (64-bit) only propose pairs: equal keys hash equally, so no ≈ pair is missed. The result is
checked exactly at cell level, not N x N: every (group, type) cell pair inside a group or across an
override against the class matrix, and the default's cell pairs counted rather than listed. Should
a hash collision ever merge two groups, that check fails and the proposed pairs are compared
exactly instead (``tests/test_classes.py`` forces this with a constant hash).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from colgen.errors import InputError
from colgen.model.network import Network
from colgen.model.tables import Tables
from colgen.result import Stage

Mixer = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class GpuClasses:
    """``of[g]`` is the class of GPU g; ``rho[c, d]`` the link throughput from any GPU of c to any
    GPU of d (clipped at ``cap``); ``rho[c, c]`` is between two members of c (``inf`` for a
    class of one GPU).

    For tensor parallelism (:func:`for_tensor_parallel`): ``per_node[c]``, how many GPUs of class c
    each of its nodes holds (all the same; 1 without nodes), ``tp_gbps[c]``, the slowest link between
    two of them in a node (what a t-way group of c all-reduces over), and ``node[g]``, GPU g's node."""

    of: np.ndarray
    members: tuple[np.ndarray, ...]
    type: np.ndarray
    rho: np.ndarray
    cap: float
    per_node: np.ndarray | None = None
    tp_gbps: np.ndarray | None = None
    node: tuple[str | None, ...] | None = None

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(m) for m in self.members], dtype=np.int64)

    def assign(self, stages: list[tuple[int, ...]]) -> tuple[Stage, ...]:
        """Stages given as (first layer, last layer, GPU count per class[, tensor-parallel degree])
        -> stages with specific GPU ids. Any members of a class are equivalent; a t-way group takes
        t GPUs of one node: groups are placed largest first, each in the first node with room, which
        always succeeds when the counts fit (see :func:`for_tensor_parallel`)."""
        free: list[dict[str | None, list[int]]] = []
        for m in self.members:
            by_node: dict[str | None, list[int]] = {}
            for g in m:
                by_node.setdefault(None if self.node is None else self.node[int(g)], []).append(int(g))
            free.append(by_node)
        picked: list[list[int]] = [[] for _ in stages]
        groups = [(int(st[3]) if len(st) > 3 else 1, i, int(c), int(st[2][c]))
                  for i, st in enumerate(stages) for c in np.nonzero(st[2])[0]]
        for t, i, c, n in sorted(groups, key=lambda x: (-x[0], x[1], x[2])):
            for _ in range(n // t):
                room = [ids for ids in free[c].values() if len(ids) >= t]
                if not room:
                    raise AssertionError("class counts do not pack into nodes (internal error)")
                picked[i] += room[0][:t]
                del room[0][:t]
        return tuple(Stage(int(st[0]), int(st[1]), tuple(sorted(ids)), int(st[3]) if len(st) > 3 else 1)
                     for st, ids in zip(stages, picked, strict=True))


def for_tensor_parallel(cls: GpuClasses, tab: Tables, degrees: tuple[int, ...]) -> GpuClasses:
    """Classes refined so that counting GPUs per class stays exact with t-way groups (t GPUs of one
    type in one node).

    GPUs of one type in one node are always in one class (they have the same links to everyone).
    A class is split by how many of its GPUs each node holds (m) and by the slowest link between
    them in a node (what its groups all-reduce over); both are then the same for all its nodes.
    Packing: let the degrees a class can use (those <= m) form a chain t1 | t2 | ... and let the
    largest divide m (powers of two up to the node size always do). Then any groups with at most as
    many GPUs as the class has fit into its nodes: place them largest first, each in any node with
    room; every node's room stays a multiple of the current group size, so a node with room has
    enough. A class breaking the condition is split into one class per node (one node is one bin:
    any groups fit while their total does).
    """
    node = tab.gpu_node
    per_node_type: dict[tuple[str, int], list[int]] = {}
    for g, nd in enumerate(node):
        if nd is not None:
            per_node_type.setdefault((nd, int(tab.gpu_type[g])), []).append(g)
    for (nd, t), ids in per_node_type.items():
        if len(set(cls.of[ids].tolist())) > 1:
            raise InputError("parallelism.tensor_parallel_degrees",
                             f"the {tab.type_names[t]} GPUs of node '{nd}' do not all have the same links, so "
                             "tensor-parallel groups among them would not be interchangeable",
                             "give the network as a topology, or equal bandwidths for a node's GPUs of one type")
    m = np.ones(tab.num_gpus, dtype=np.int64)
    gbps = np.full(tab.num_gpus, np.inf)
    for (nd, t), ids in per_node_type.items():
        m[ids] = len(ids)
        gbps[ids] = tab.tp_gbps(nd, t)
    chain = sorted(degrees)
    key = [(int(cls.of[g]), int(m[g]), float(gbps[g])) for g in range(tab.num_gpus)]
    for g in range(tab.num_gpus):
        usable = [t for t in chain if t <= m[g]]
        ok = not usable or (all(b % a == 0 for a, b in itertools.pairwise(usable))
                            and m[g] % usable[-1] == 0)
        if not ok:                                   # one class per node: any groups fit while they add up
            key[g] = (*key[g], node[g])
    order: dict[tuple, int] = {}
    of = np.array([order.setdefault(k, len(order)) for k in key], dtype=np.int64)
    C = len(order)
    members, parent, rho = _refined(cls, of, C)
    return GpuClasses(of=of, members=members, type=cls.type[parent].copy(), rho=rho, cap=cls.cap,
                      per_node=np.array([m[mm[0]] for mm in members], dtype=np.int64),
                      tp_gbps=np.array([gbps[mm[0]] for mm in members]), node=node)


def _refined(cls: GpuClasses, of: np.ndarray, C: int) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Members, parent class and links of the ``C`` classes ``of`` splits ``cls`` into: a part keeps
    its parent's links, and a part of one GPU has no link to itself."""
    members = tuple(np.nonzero(of == c)[0].astype(np.int64) for c in range(C))
    parent = np.array([cls.of[m[0]] for m in members])
    rho = cls.rho[np.ix_(parent, parent)].copy()
    for c in range(C):
        if len(members[c]) < 2:
            rho[c, c] = np.inf
    return members, parent, rho


def for_prices(cls: GpuClasses, prices: np.ndarray) -> tuple[GpuClasses, np.ndarray]:
    """Classes split by price (``prices[g]``, USD per hour), with the price of each new class.

    When cost counts, two GPUs of different prices are not interchangeable, so a class is split into
    one class per price (numbered by smallest member, as always). Links and memory are those of the
    class split, so every property of the classes above still holds for the parts. With
    tensor-parallel groups (``per_node``), the GPUs of one type in one node must have one price:
    then every part is a union of whole (node, type) cells, each node of a part still holds
    ``per_node`` of its GPUs, and the packing argument of :func:`for_tensor_parallel` carries over."""
    if cls.per_node is not None and cls.node is not None:
        cells: dict[tuple[str | None, int], set[float]] = {}
        for g, nd in enumerate(cls.node):
            if nd is not None:
                cells.setdefault((nd, int(cls.type[cls.of[g]])), set()).add(float(prices[g]))
        for (nd, _t), seen in cells.items():
            if len(seen) > 1:
                raise InputError("cluster.gpus", f"the GPUs of one type in node '{nd}' have different prices "
                                 f"({', '.join(f'{p:g}' for p in sorted(seen))} USD/h), so tensor-parallel groups "
                                 "among them would not be interchangeable",
                                 "give the GPUs of one type in a node one price")
    key = [(int(cls.of[g]), float(prices[g])) for g in range(len(cls.of))]
    order: dict[tuple[int, float], int] = {}
    of = np.array([order.setdefault(k, len(order)) for k in key], dtype=np.int64)
    if len(order) == cls.count:
        price = np.zeros(cls.count)
        price[of] = prices
        return cls, price
    C = len(order)
    members, parent, rho = _refined(cls, of, C)
    out = GpuClasses(of=of, members=members, type=cls.type[parent].copy(), rho=rho, cap=cls.cap,
                     per_node=None if cls.per_node is None else cls.per_node[parent].copy(),
                     tp_gbps=None if cls.tp_gbps is None else cls.tp_gbps[parent].copy(), node=cls.node)
    return out, np.array([float(prices[m[0]]) for m in members])


def mix64(x: np.ndarray, salt: int = 0) -> np.ndarray:
    """A 64-bit mixing hash (splitmix64's finalizer) of non-negative integers, elementwise."""
    with np.errstate(over="ignore"):
        z = np.atleast_1d(np.asarray(x)).astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (salt + 1)) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def gpu_classes(tab: Tables, cap: float = np.inf, *, mix: Mixer = mix64) -> GpuClasses:
    """The classes of interchangeable GPUs (module docstring), computed per group and checked
    exactly. ``mix`` is the hash that proposes group pairs (a parameter for the tests)."""
    cls = _assemble(tab, _group_labels(tab, cap, mix, exact=False), cap)
    if not _consistent(tab, cls):                  # a hash collision merged two groups
        cls = _assemble(tab, _group_labels(tab, cap, mix, exact=True), cap)
        if not _consistent(tab, cls):
            raise AssertionError("GPU classes are not interchangeable (internal error)")
    return cls


def singleton_classes(tab: Tables) -> GpuClasses:
    """Every GPU its own class (no aggregation): the units of the GPU-level full ILP. Its class
    matrix is the dense N x N link matrix: for small instances only (the GPU-level ILP enumerates
    every GPU set anyway)."""
    N = tab.num_gpus
    rho = tab.network.dense_gbps() * tab.link_scale
    np.fill_diagonal(rho, np.inf)
    return GpuClasses(of=np.arange(N), members=tuple(np.array([g]) for g in range(N)),
                      type=tab.gpu_type.copy(), rho=rho, cap=np.inf)


# --------------------------------------------------------------------------------------------
# Groups: which are interchangeable (≈)


def _clip(values: np.ndarray | float, tab: Tables, cap: float) -> np.ndarray:
    """Clipped link throughput of bandwidths (the same operations as on GPU pairs)."""
    return np.minimum(np.asarray(values, dtype=float) * tab.link_scale, cap)


def _components(G: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = sp.csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(G, G))
    return connected_components(graph, directed=False)[1]


def _group_labels(tab: Tables, cap: float, mix: Mixer, exact: bool) -> np.ndarray:
    """``label[g]``: the ≈ class of group g."""
    net = tab.network
    if net.dense is not None:
        a, b = _dense_pairs(net, tab, cap, mix, exact)
    else:
        a, b = _sparse_pairs(net, tab, cap, mix, exact)
    return _components(net.num_groups, a, b)


def _sparse_pairs(net: Network, tab: Tables, cap: float, mix: Mixer, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Group pairs that are ≈ (enough of them to connect every class), for a topology."""
    G, big = net.num_groups, net.sizes >= 2
    D = float(_clip(net.default, tab, cap))
    W = _clip(net.within, tab, cap)
    pa, pb = net.pairs[:, 0], net.pairs[:, 1]
    pv = _clip(net.values, tab, cap)
    off = pv != D
    diag = np.nonzero(big & (W != D))[0]
    rows = np.concatenate([pa[off], diag])
    cols = np.concatenate([pb[off], diag])
    levels, vid = np.unique(np.concatenate([pv[off], W[diag]]), return_inverse=True)
    order = np.lexsort((cols, rows))
    rows, cols, vid = rows[order], cols[order], vid[order].astype(np.int64)
    start = np.searchsorted(rows, np.arange(G + 1))
    entries = np.stack([cols, vid], axis=1)

    # Equal exact keys (the non-D entries of the closed rows): ≈.
    label = np.zeros(G, dtype=np.int64)
    keys: dict[bytes, int] = {}
    for g in np.nonzero(np.diff(start))[0]:
        label[g] = keys.setdefault(entries[start[g]:start[g + 1]].tobytes(), len(keys) + 1)
    _, first, inv = np.unique(label, return_index=True, return_inverse=True)
    same_a, same_b = np.arange(G), first[inv]

    # Override edges with a one-GPU end: keys with that end's diagonal set to the edge's value.
    nv = len(levels)
    edge = off & (pa < pb) & (~big[pa] | ~big[pb])
    ea, eb = pa[edge], pb[edge]
    ev = np.searchsorted(levels, pv[edge])
    h = np.zeros(G, dtype=np.uint64)
    np.add.at(h, rows, mix(cols * nv + vid, 1))
    with np.errstate(over="ignore"):
        ha = h[ea] + np.where(big[ea], np.uint64(0), mix(ea * nv + ev, 1))
        hb = h[eb] + np.where(big[eb], np.uint64(0), mix(eb * nv + ev, 1))
    hit = np.nonzero(ha == hb)[0]
    if exact:
        def closed(g: int, v: int) -> np.ndarray:
            e = entries[start[g]:start[g + 1]]
            if big[g]:
                return e
            at = int(np.searchsorted(e[:, 0], g))
            return np.insert(e, at, [g, v], axis=0)

        hit = np.array([i for i in hit if np.array_equal(closed(ea[i], ev[i]), closed(eb[i], ev[i]))],
                       dtype=np.int64)
    return np.concatenate([same_a, ea[hit]]), np.concatenate([same_b, eb[hit]])


def _dense_pairs(net: Network, tab: Tables, cap: float, mix: Mixer, exact: bool,
                 block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Group pairs that are ≈, for a dense group matrix: conditions (i)-(iv) of the module
    docstring for all pairs, (i) by hashes of the rows and columns minus the pair's own entries."""
    G, big = net.num_groups, net.sizes >= 2
    C = _clip(net.dense, tab, cap) + 0.0                # + 0.0: -0.0 becomes 0.0 (one bit pattern)
    np.fill_diagonal(C, _clip(net.within, tab, cap) + 0.0)
    bits = C.view(np.uint64)
    pos = mix(np.arange(G), 1)
    with np.errstate(over="ignore"):
        F = mix(bits + pos[None, :], 2)                 # F[a, c]: entry (c, C[a, c]) of row a
        H = mix(bits + pos[:, None], 3)                 # H[r, a]: entry (r, C[r, a]) of column a
        hrow = F.sum(axis=1, dtype=np.uint64) - np.diagonal(F)
        hcol = H.sum(axis=0, dtype=np.uint64) - np.diagonal(H)
    dv = np.diagonal(C)
    found_a, found_b = [np.arange(G)], [np.arange(G)]
    for lo in range(0, G, block):
        r = slice(lo, min(G, lo + block))
        with np.errstate(over="ignore"):
            row_ok = (hrow[r, None] - F[r]) == (hrow[None, :] - F[:, r].T)     # row a minus b == row b minus a
            col_ok = (hcol[r, None] - H[:, r].T) == (hcol[None, :] - H[r])
        ok = row_ok & col_ok & (C[r] == C[:, r].T)
        ok &= ~big[r, None] | (C[r] == dv[r, None])
        ok &= ~big[None, :] | (C[r] == dv[None, :])
        a, b = np.nonzero(ok)
        a += lo
        keep = a < b
        found_a.append(a[keep])
        found_b.append(b[keep])
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    if exact:
        good = []
        for i, j in zip(a, b, strict=True):
            rest = np.ones(G, dtype=bool)
            rest[[i, j]] = False
            good.append(i == j or (np.array_equal(C[i, rest], C[j, rest]) and np.array_equal(C[rest, i], C[rest, j])))
        a, b = a[good], b[good]
    return a, b


# --------------------------------------------------------------------------------------------
# From group labels to GPU classes, and the exact check


def _assemble(tab: Tables, label: np.ndarray, cap: float) -> GpuClasses:
    """Classes = (≈ class of the group, type), numbered by smallest member."""
    net, T = tab.network, len(tab.type_names)
    key = label[net.group_of] * T + tab.gpu_type
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    of = rank[inv.ravel()].astype(np.int64)
    sizes = np.bincount(of, minlength=len(order))
    members = tuple(np.split(np.argsort(of, kind="stable").astype(np.int64), np.cumsum(sizes)[:-1]))
    reps = first[order].astype(np.int64)
    rho = np.minimum(tab.pair_throughput(reps[:, None], reps[None, :]), cap)
    for c in np.nonzero(sizes >= 2)[0]:
        rho[c, c] = min(float(tab.pair_throughput(members[c][0], members[c][1])), cap)
    for c in np.nonzero(sizes < 2)[0]:
        rho[c, c] = np.inf
    return GpuClasses(of=of, members=members, type=tab.gpu_type[reps].copy(), rho=rho, cap=float(cap))


def _consistent(tab: Tables, cls: GpuClasses) -> bool:
    """Exact check of the definition at cell level: for every pair of different GPUs, the clipped
    link equals the class matrix entry of their classes."""
    net, T, rho, C = tab.network, len(tab.type_names), cls.rho, cls.count
    key = net.group_of * T + tab.gpu_type
    _, first, count = np.unique(key, return_index=True, return_counts=True)
    cg, cc = net.group_of[first], cls.of[first]        # cells, sorted by group: group and class
    n = len(cg)
    W = _clip(net.within, tab, cls.cap)
    shared = []                                         # class pairs meeting in one group
    for d in range(T):                                  # cell pairs inside one group (<= T cells each)
        p = np.arange(n - d)
        q = p + d
        inside = cg[p] == cg[q]
        p, q = p[inside], q[inside]
        shared += [cc[p] * C + cc[q]] + ([cc[q] * C + cc[p]] if d else [])
        pair = count[p] >= 2 if d == 0 else np.ones(len(p), dtype=bool)   # two different GPUs
        w = W[cg[p]][pair]
        if not (np.array_equal(rho[cc[p], cc[q]][pair], w) and np.array_equal(rho[cc[q], cc[p]][pair], w)):
            return False
    if net.dense is not None:                           # every cell pair in different groups
        E = _clip(net.between(cg[:, None], cg[None, :]), tab, cls.cap)
        apart = cg[:, None] != cg[None, :]
        return bool(np.array_equal(rho[np.ix_(cc, cc)][apart], E[apart]))
    # Overrides: every cell pair across an overridden group pair.
    cstart = np.searchsorted(cg, np.arange(net.num_groups + 1))
    ncell = np.diff(cstart)
    pa, pb = net.pairs[:, 0], net.pairs[:, 1]
    pv = _clip(net.values, tab, cls.cap)
    over = [np.zeros(0, dtype=np.int64)]
    for d1 in range(T):
        for d2 in range(T):
            ok = (d1 < ncell[pa]) & (d2 < ncell[pb])
            c, d = cc[cstart[pa[ok]] + d1], cc[cstart[pb[ok]] + d2]
            if not np.array_equal(rho[c, d], pv[ok]):
                return False
            over.append(c * C + d)
    # Every other pair of groups has the default: a class pair whose entry differs from it needs
    # all its cell pairs in different groups (cells(c) x cells(d), minus the groups holding both)
    # to be overrides.
    D = float(_clip(net.default, tab, cls.cap))
    cells = np.bincount(cc, minlength=C)
    pc, pd = np.nonzero(rho != D)
    wanted = pc * C + pd
    need = cells[pc] * cells[pd] - _occurrences(np.concatenate(shared), wanted)
    return bool(np.array_equal(need, _occurrences(np.concatenate(over), wanted)))


def _occurrences(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """How often each of ``wanted`` occurs in ``keys``."""
    values, counts = np.unique(keys, return_counts=True)
    if not len(values):
        return np.zeros(len(wanted), dtype=np.int64)
    pos = np.minimum(np.searchsorted(values, wanted), len(values) - 1)
    return np.where(values[pos] == wanted, counts[pos], 0)
