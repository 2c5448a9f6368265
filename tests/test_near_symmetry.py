"""Near-symmetry (colgen/space/near_symmetry.py): a network rounded down never overstates a
placement, rounded up never understates the optimum, for any partition of the groups; the near
classes of a jittered cluster are the classes of the cluster without jitter; branch-and-price with
the near searches (rounded down, rounded up, relabelled) stays exact (brute force)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen import solve, verify
from colgen.bnp.options import BnpOptions
from colgen.bnp.search import NearSearch, _space
from colgen.check.brute import BruteOptions, solve_brute
from colgen.io.generator import random_instance
from colgen.io.regions import PRESETS, regions_instance
from colgen.model.instance import Instance, instance_from_dict
from colgen.model.network import Network
from colgen.progress import Log
from colgen.result import placement_throughput
from colgen.space.bounds import fluid_upper_bound
from colgen.space.class_space import class_space
from colgen.space.near_symmetry import near_labels, rounded
from colgen.stop import Stop


def jittered(inst: Instance, rng: np.random.Generator, jitter: float) -> Instance:
    """``inst`` with every node-pair bandwidth multiplied by its own factor in [1 - jitter, 1 + jitter]."""
    net = inst.network
    G = net.num_groups
    links = {(a, b): float(net.between(a, b)) * rng.uniform(1 - jitter, 1 + jitter)
             for a in range(G) for b in range(a + 1, G)}
    return dataclasses.replace(inst, network=Network.from_topology(net.group_of, net.names, net.within,
                                                                   net.default, links))


def random_partition(G: int, rng: np.random.Generator) -> np.ndarray:
    """A random partition of G groups into 1..G classes (labels 0, 1, ...)."""
    return np.unique(rng.integers(0, int(rng.integers(1, G + 1)), size=G), return_inverse=True)[1]


@st.composite
def jittered_instances(draw: st.DrawFn, priced: bool = False) -> Instance:
    seed = draw(st.integers(0, 2**31 - 1))
    inst = instance_from_dict(random_instance(
        seed, num_layers=draw(st.integers(2, 5)), num_gpus=draw(st.integers(3, 6)), num_types=draw(st.integers(1, 2)),
        max_k=draw(st.integers(1, 3)), network="nodes", gpus_per_node=draw(st.integers(1, 3)),
        memory_pressure=draw(st.sampled_from([0.5, 0.8, 1.0])), prices="types" if priced else None))
    return jittered(inst, np.random.default_rng(seed), draw(st.sampled_from([0.01, 0.03, 0.2])))


@settings(max_examples=120, deadline=None)
@given(jittered_instances(), st.integers(0, 2**31 - 1))
def test_rounding_any_partition_brackets_the_optimum(inst, seed):
    rng = np.random.default_rng(seed)
    label = random_partition(inst.network.num_groups, rng)
    truth = solve_brute(inst)
    down, up = solve_brute(rounded(inst, label, up=False)), solve_brute(rounded(inst, label, up=True))
    if truth.objective is None:          # the network never decides feasibility (memory does)
        assert down.objective is None and up.objective is None
        return
    assert down.objective <= truth.objective * (1 + 1e-12) <= up.objective * (1 + 1e-12) * (1 + 1e-12)
    # A placement of the rounded-down network is at least as fast on the real one.
    assert placement_throughput(inst, down.placement) >= down.objective * (1 - 1e-12)


@pytest.mark.parametrize(("preset", "seed"), [("70b", 1), ("70b", 2), ("70b", 3), ("405b", 1), ("405b", 2)])
def test_near_classes_of_a_jittered_cluster_are_the_classes_without_jitter(preset, seed):
    plain = instance_from_dict(regions_instance(seed, **PRESETS[preset]))
    noisy = instance_from_dict(regions_instance(seed, jitter=0.03, **PRESETS[preset]))
    tab = noisy.tables
    label = near_labels(noisy, fluid_upper_bound(tab) / tab.link_scale, 0.1)
    assert label is not None
    want = class_space(plain.tables).num_classes
    assert class_space(noisy.tables).num_classes > want
    for up in (False, True):
        assert class_space(rounded(noisy, label, up).tables).num_classes == want


def test_nothing_merges_without_near_symmetry():
    inst = instance_from_dict(random_instance(1, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                                              network="distinct"))
    tab = inst.tables
    assert near_labels(inst, fluid_upper_bound(tab) / tab.link_scale, 0.1) is None


@settings(max_examples=80, deadline=None)
@given(jittered_instances(priced=True), st.booleans())
def test_bnp_with_the_near_searches_equals_brute_force(inst, with_budget):
    kw = {}
    if with_budget:
        fastest = solve_brute(inst)
        if fastest.placement:
            kw["budget"] = fastest.to_dict(inst)["cost_per_hour"] * 0.8
    truth = solve_brute(inst, BruteOptions(**kw))
    r = solve(inst, "bnp", backend="highs", near_nodes=50, **kw)
    if truth.objective is None:
        assert r.status == "infeasible"
        return
    assert verify(inst, r).ok
    assert r.status == "optimal" and r.objective == pytest.approx(truth.objective, rel=1e-9)
    assert r.bound >= truth.objective * (1 - 1e-9)


def test_the_rounded_down_search_gives_placements_of_the_real_cluster():
    """4 regions of 2 nodes of 4 GPUs, +-3 % on every node pair: 8 node classes, 7 near classes.
    The search on the rounded-down network returns a placement of the real cluster at least as
    fast as the rounded-down optimum; the solve reports the near classes and stays optimal."""
    inst = instance_from_dict(regions_instance(2, regions=4, racks=1, nodes=2, gpus_per_node=4, jitter=0.03,
                                               max_k=4))
    options = BnpOptions()
    near = NearSearch.of(inst, _space(inst, options)[1], options, stop=Stop(), backend="highs", prices=None,
                         budget=None)
    assert near is not None and near.classes == 7
    lines: list[str] = []
    found = near(np.inf, Log(lines.append))
    assert lines[0] == "  near  network rounded down to 7 classes; at most 1000 nodes"
    down = solve(near.spaces["down"][0], "bnp", backend="highs")
    assert down.status == "optimal"
    assert placement_throughput(inst, found) >= down.objective * (1 - 1e-12)
    r = solve(inst, "bnp", backend="highs", time_limit=120)
    assert (r.statistics["classes"], r.statistics["near_classes"]) == (8, 7)
    assert r.status == "optimal" and verify(inst, r).ok


def test_ctrl_c_inside_the_rounded_down_search_returns_what_is_known():
    """The 128-GPU regions cluster with jitter, interrupted (SIGINT) as soon as the search on the
    rounded-down network starts: the run ends at once, interrupted, with a verified placement and
    a valid bound."""
    import os
    import signal
    import time

    inst = instance_from_dict(regions_instance(1, jitter=0.03, **PRESETS["70b"]))
    sent: list[float] = []

    def log(line: str) -> None:
        if line.startswith("  near  ") and not sent:
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)

    r = solve(inst, "bnp", backend="highs", time_limit=120, log=log)
    assert sent and time.perf_counter() - sent[0] <= 3.0
    assert r.status == "interrupted" and verify(inst, r).ok
    assert r.bound >= 175_237.6 and r.objective <= r.bound


def test_cli_near_symmetry_tolerance(tmp_path, capsys):
    from colgen.cli.main import main
    from colgen.jsonio import write_json_atomic

    path = tmp_path / "r.json"
    write_json_atomic(path, regions_instance(2, regions=4, racks=1, nodes=2, gpus_per_node=4, jitter=0.03, max_k=4))
    with pytest.raises(SystemExit) as stopped:          # argparse's usage error: exit code 2
        main(["solve", str(path), "--near-symmetry", "1.5"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--near-symmetry" in err and "not a relative tolerance in [0, 1)" in err and "Traceback" not in err
    for tol, near in (("0", None), ("0.1", 7)):
        assert main(["solve", str(path), "--near-symmetry", tol, "--json", "--quiet"]) == 0
        assert json.loads(capsys.readouterr().out)["statistics"]["near_classes"] == near
