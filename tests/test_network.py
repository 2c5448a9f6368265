"""The network at group level: queries against a dense GPU-by-GPU reference."""

from __future__ import annotations

import json
from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.model.instance import instance_from_dict
from colgen.model.network import Network
from tests.conftest import INSTANCES

LEVELS = [1.0, 2.0, 3.0]        # few values, so that ties (and interchangeable GPUs) are common


@st.composite
def topologies(draw: st.DrawFn, max_groups: int = 6, max_size: int = 3) -> Network:
    """A random topology: groups of 1..max_size GPUs in shuffled GPU order, few distinct values."""
    sizes = draw(st.lists(st.integers(1, max_size), min_size=1, max_size=max_groups))
    G = len(sizes)
    group_of = np.repeat(np.arange(G), sizes)
    group_of = group_of[np.array(draw(st.permutations(range(len(group_of)))), dtype=np.int64)]
    within = [draw(st.sampled_from(LEVELS)) for _ in range(G)]
    pairs = [(a, b) for a in range(G) for b in range(a + 1, G)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    links = {p: draw(st.sampled_from(LEVELS)) for p in chosen}
    return Network.from_topology(group_of, [f"n{g}" for g in range(G)], np.array(within),
                                 draw(st.sampled_from(LEVELS)), links)


@st.composite
def matrices(draw: st.DrawFn, max_gpus: int = 7) -> Network:
    """A random GPU matrix: entries from few values, or a topology's matrix with a few entries
    changed (so that interchangeable GPUs occur and nearly-interchangeable ones too)."""
    if draw(st.booleans()):
        n = draw(st.integers(1, max_gpus))
        m = np.array([[draw(st.sampled_from(LEVELS)) for _ in range(n)] for _ in range(n)])
        if draw(st.booleans()):
            m = np.triu(m) + np.triu(m, 1).T
    else:
        m = np.array(draw(topologies(max_groups=4)).dense_gbps())
        n = m.shape[0]
        for _ in range(draw(st.integers(0, 2))):
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            m[i, j] = draw(st.sampled_from(LEVELS))
    return Network.from_matrix(m)


def networks() -> st.SearchStrategy[Network]:
    return st.one_of(topologies(), matrices())


def reference(net: Network) -> np.ndarray:
    """GPU-by-GPU matrix from the definition, pair by pair."""
    n = net.num_gpus
    out = np.full((n, n), np.inf)
    for i, j in product(range(n), repeat=2):
        if i == j:
            continue
        a, b = int(net.group_of[i]), int(net.group_of[j])
        if a == b:
            out[i, j] = net.within[a]
        elif net.dense is not None:
            out[i, j] = net.dense[a, b]
        else:
            over = {(int(x), int(y)): v for (x, y), v in zip(net.pairs, net.values, strict=True)}
            out[i, j] = over.get((a, b), net.default)
    return out


@settings(max_examples=150)
@given(networks(), st.data())
def test_queries_match_the_dense_reference(net, data):
    ref = reference(net)
    n = net.num_gpus
    assert np.array_equal(net.dense_gbps(), ref)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    assert np.array_equal(net.bandwidth(i, j), ref)
    for a, b in product(range(n), repeat=2):                  # scalars take a path of their own
        assert net.bandwidth(a, b) == ref[a, b] == net.bandwidth(np.int64(a), np.int64(b))
    off = ref[~np.eye(n, dtype=bool)]
    assert np.array_equal(net.levels(), np.unique(off))
    for _ in range(5):
        src = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
        dst = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
        assert net.min_link(src, dst) == ref[np.ix_(src, dst)].min()


def test_topology_network_has_no_gpu_matrix():
    doc = json.loads((INSTANCES / "large-126x256.json").read_text())
    net = instance_from_dict(doc).network
    assert net.kind == "topology" and net.dense is None
    assert net.num_groups == 32 and net.num_gpus == 256
