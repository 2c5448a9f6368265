"""The network at group level: queries against a dense GPU-by-GPU reference, and loading."""

from __future__ import annotations

import copy
import json
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import colgen.model.network as network_module
from colgen.errors import InputError
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
        loop, network_module.LOOP_PAIRS = network_module.LOOP_PAIRS, 0     # the numpy path (many groups)
        try:
            assert net.min_link(np.array(src), dst) == ref[np.ix_(src, dst)].min()
        finally:
            network_module.LOOP_PAIRS = loop


def test_topology_network_has_no_gpu_matrix():
    doc = json.loads((INSTANCES / "large-126x256.json").read_text())
    net = instance_from_dict(doc).network
    assert net.kind == "topology" and net.dense is None
    assert net.num_groups == 32 and net.num_gpus == 256


def _tiny_doc() -> dict:
    return json.loads((INSTANCES / "seed-tiny.json").read_text())


@pytest.mark.parametrize("entry,problem", [
    (True, "true is not a number"), ("200", "'200' is not a number"), (None, "null is not a number"),
    ([1], "a list of 1 items is not a number"), (-1, "-1 is not a bandwidth"), (10 ** 400, "is not a bandwidth")])
def test_bad_matrix_entry_names_row_and_column(entry, problem):
    doc = _tiny_doc()
    doc["cluster"]["bandwidth_gbps"][2][1] = entry
    with pytest.raises(InputError) as exc:
        instance_from_dict(doc)
    assert exc.value.field == "cluster.bandwidth_gbps[2][1]"
    assert problem in exc.value.problem
    assert "\n" not in str(exc.value)


def test_matrix_rows_must_be_lists_of_the_right_length():
    doc = _tiny_doc()
    doc["cluster"]["bandwidth_gbps"][3] = 5
    with pytest.raises(InputError, match=r"cluster\.bandwidth_gbps\[3\]: 5 is not a list"):
        instance_from_dict(doc)
    doc = _tiny_doc()
    doc["cluster"]["bandwidth_gbps"][1].append(1)
    with pytest.raises(InputError, match=r"cluster\.bandwidth_gbps\[1\]: has 5 entries, expected 4"):
        instance_from_dict(doc)


def test_matrix_diagonal_is_ignored_but_must_be_a_number():
    doc = _tiny_doc()
    doc["cluster"]["bandwidth_gbps"][1][1] = -7
    assert np.isinf(instance_from_dict(doc).bandwidth_gbps[1, 1])
    doc["cluster"]["bandwidth_gbps"][1][1] = "x"
    with pytest.raises(InputError, match=r"bandwidth_gbps\[1\]\[1\]"):
        instance_from_dict(doc)


def test_a_bad_gpu_entry_in_a_long_list_is_still_named():
    doc = json.loads((INSTANCES / "seed-demo.json").read_text())
    gpus = doc["cluster"]["gpus"]
    many = [dict(e, node=f"{e['node']}-{r}") for r in range(40) for e in gpus]
    for bad, field in [({"type": "x", "node": "n", "colour": 1}, "cluster.gpus[57]"),
                       ({"type": "x", "node": ""}, "cluster.gpus[57].node"),
                       ({"type": "x", "count": True}, "cluster.gpus[57].count")]:
        doc2 = copy.deepcopy(doc)
        doc2["cluster"]["gpus"] = [*many[:57], bad, *many[57:]]
        with pytest.raises(InputError) as exc:
            instance_from_dict(doc2)
        assert exc.value.field == field


def test_loading_does_not_change_the_document():
    doc = json.loads((INSTANCES / "seed-demo.json").read_text())
    before = copy.deepcopy(doc)
    instance_from_dict(doc)
    assert doc == before
