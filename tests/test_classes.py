"""GPU classes computed per group equal the GPU-by-GPU definition, on every network kind."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.model.network import Network
from colgen.model.tables import Shapes, Tables
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import _assemble, _consistent, gpu_classes
from tests.conftest import tiny_instances
from tests.test_network import matrices, networks, topologies

SCALE = 1e9 / (1024 * 2)


def tables_for(net: Network, types: np.ndarray, scale: float = SCALE) -> Tables:
    T = int(types.max()) + 1
    return Tables(num_layers=1, max_k=1, type_names=tuple(f"G{t}" for t in range(T)), gpu_type=types,
                  gpu_node=(None,) * len(types), shapes=Shapes.of(1, (1,)), tau=np.zeros((2, 2, T)),
                  fits=np.zeros((2, 2, T), dtype=bool), latency=np.ones((2, T)), comm_gb=np.zeros(2),
                  work=np.ones(2), network=net, link_scale=scale)


@st.composite
def cases(draw: st.DrawFn, nets: st.SearchStrategy[Network] | None = None) -> tuple[Tables, float]:
    net = draw(nets if nets is not None else networks())
    types = np.array([draw(st.integers(0, draw(st.integers(0, 2)))) for _ in range(net.num_gpus)], dtype=np.int64)
    cap = draw(st.sampled_from([np.inf, 1.5 * SCALE, 2.0 * SCALE, 2.5 * SCALE]))
    return tables_for(net, types), cap


def clipped(tab: Tables, cap: float) -> np.ndarray:
    return np.minimum(tab.network.dense_gbps() * tab.link_scale, cap)


def brute_partition(tab: Tables, cap: float) -> set[frozenset[int]]:
    """The definition: i ~ j iff same type and swapping i and j preserves the clipped matrix."""
    R, t = clipped(tab, cap), tab.gpu_type
    n = len(t)
    label = list(range(n))
    for i in range(n):
        for j in range(i + 1, n):
            rest = np.ones(n, dtype=bool)
            rest[[i, j]] = False
            if (t[i] == t[j] and R[i, j] == R[j, i] and np.array_equal(R[i, rest], R[j, rest])
                    and np.array_equal(R[rest, i], R[rest, j])):
                old = label[j]
                label = [label[i] if x == old else x for x in label]
    return {frozenset(g for g in range(n) if label[g] == c) for c in set(label)}


def greedy_reference(tab: Tables, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """The GPU-by-GPU algorithm of earlier versions (row comparison), its classes and matrix."""
    R = clipped(tab, cap)
    N = tab.num_gpus
    reps: list[int] = []
    members: list[list[int]] = []
    internal: list[float | None] = []
    for i in range(N):
        for c, r in enumerate(reps):
            if tab.gpu_type[i] != tab.gpu_type[r]:
                continue
            others = np.ones(N, dtype=bool)
            others[[i, r]] = False
            if not (np.array_equal(R[i, others], R[r, others]) and np.array_equal(R[others, i], R[others, r])):
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
    of = np.empty(N, dtype=np.int64)
    for c, ms in enumerate(members):
        of[ms] = c
    rho = R[np.ix_(reps, reps)].copy()
    for c in range(len(reps)):
        rho[c, c] = np.inf if internal[c] is None else internal[c]
    return of, rho


def check_against_references(tab: Tables, cap: float, **kw) -> None:
    cls = gpu_classes(tab, cap, **kw)
    assert {frozenset(int(g) for g in m) for m in cls.members} == brute_partition(tab, cap)
    of, rho = greedy_reference(tab, cap)
    assert np.array_equal(cls.of, of)
    assert np.array_equal(cls.rho, rho)
    assert all(np.array_equal(m, np.sort(m)) for m in cls.members)
    assert np.array_equal(cls.type, tab.gpu_type[[m[0] for m in cls.members]])


@settings(max_examples=300)
@given(cases(topologies()))
def test_topology_classes_match_the_definition(case):
    check_against_references(*case)


@settings(max_examples=300)
@given(cases(matrices()))
def test_matrix_classes_match_the_definition(case):
    check_against_references(*case)


def constant_hash(x: np.ndarray, salt: int = 0) -> np.ndarray:
    """Every key collides: proposes every pair, so only the exact check can tell them apart."""
    return np.zeros(np.shape(np.atleast_1d(x)), dtype=np.uint64)


@settings(max_examples=150)
@given(cases())
def test_hash_collisions_fall_back_to_exact_comparison(case):
    check_against_references(*case, mix=constant_hash)


@settings(max_examples=200)
@given(cases(), st.data())
def test_the_cell_level_check_equals_the_gpu_level_check(case, data):
    """``_consistent`` (per group and type) accepts a partition exactly when every pair of
    different GPUs has the clipped link of its class pair."""
    tab, cap = case
    G = tab.network.num_groups
    labels = np.array([data.draw(st.integers(0, 2)) for _ in range(G)], dtype=np.int64)
    cls = _assemble(tab, labels, cap)
    R = clipped(tab, cap)
    off = ~np.eye(tab.num_gpus, dtype=bool)
    assert _consistent(tab, cls) == bool(np.array_equal(cls.rho[np.ix_(cls.of, cls.of)][off], R[off]))


@settings(max_examples=100)
@given(tiny_instances(max_gpus=8))
def test_generated_instances_at_the_fluid_bound(inst):
    tab = inst.tables
    check_against_references(tab, fluid_upper_bound(tab))


def test_large_topology_is_classified_per_node():
    """65,536 GPUs in 8,192 nodes of 8 with one slow override, links within and between nodes fast
    enough to be clipped: classes without any GPU-by-GPU array."""
    n_nodes, per = 8192, 8
    group_of = np.repeat(np.arange(n_nodes), per)
    net = Network.from_topology(group_of, [f"n{g}" for g in range(n_nodes)], np.full(n_nodes, 100.0), 50.0,
                                {(0, 1): 10.0})
    types = np.tile(np.array([0, 0, 0, 0, 1, 1, 1, 1]), n_nodes)
    cls = gpu_classes(tables_for(net, types), cap=20.0 * SCALE)
    # Nodes 0 and 1 (their own link) and the rest, times two types.
    assert cls.count == 6
    assert sorted(len(m) for m in cls.members) == [4, 4, 4, 4, (n_nodes - 2) * 4, (n_nodes - 2) * 4]
    assert cls.rho[cls.of[0], cls.of[8]] == 10.0 * SCALE
