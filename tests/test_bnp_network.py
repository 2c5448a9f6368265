"""Where links bind: the component bound never refutes a threshold the optimum reaches, and the
group path (with its walk MIP) only returns placements that reach their threshold and keep the
stage limits; both against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.bnp.components import component_check
from colgen.bnp.configurations import usable_classes
from colgen.bnp.group_path import group_capacity, group_path, twin_groups
from colgen.bnp.probe import Outcome
from colgen.check.brute import solve_brute
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict
from colgen.result import meets_limits, placement_throughput
from colgen.space.class_space import class_space
from colgen.stop import Stop


@st.composite
def network_bound(draw: st.DrawFn):
    limits = draw(st.sampled_from([{}, {}, {"max_stages": 2}, {"min_layers_per_stage": 2}]))
    return instance_from_dict(random_instance(
        draw(st.integers(0, 2**31 - 1)), num_layers=draw(st.integers(2, 6)), num_gpus=draw(st.integers(3, 8)),
        num_types=draw(st.integers(1, 2)), max_k=draw(st.integers(1, 3)),
        network=draw(st.sampled_from(["nodes", "distinct"])), gpus_per_node=draw(st.integers(1, 3)),
        memory_pressure=draw(st.sampled_from([0.5, 0.8, 1.0])), **limits))


@settings(max_examples=150)
@given(network_bound(), st.booleans())
def test_component_bound_and_group_path_agree_with_brute_force(inst, symmetry):
    opt = solve_brute(inst).objective or 0.0
    space = class_space(inst.tables, symmetry=symmetry, limits=inst.stage_limits)
    for T in map(float, space.candidates()):
        el = space.eligible(T)
        checked = component_check(space, T, el, backend="highs", stop=Stop())
        if checked is not None and checked.outcome is Outcome.REFUTED:
            assert opt < T, (T, opt)       # the optimum is itself a candidate: compare exactly
        elif checked is not None:
            assert placement_throughput(inst, checked.placement) >= T * (1 - 1e-12)
        found = group_path(space, T, el, 2000, backend="highs")
        if found:
            assert meets_limits(inst, found)
            value = placement_throughput(inst, found)
            assert T * (1 - 1e-12) <= value <= opt * (1 + 1e-12), (T, value, opt)


def test_group_path_finds_a_hamiltonian_pipeline():
    # 16 nodes of 2 GPUs with random node-pair speeds: at the optimum every stage is one layer on
    # one node and the pipeline walks through the nodes (the shape the LP does not see).
    inst = instance_from_dict(random_instance(1, num_layers=16, num_gpus=32, max_k=8, network="nodes"))
    from colgen import solve

    r = solve(inst, "bnp", backend="highs", time_limit=120)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(r.bound)


def test_network_bound_optima_equal_brute_force_and_the_full_ilp(capsys):
    """bnp = brute force = the compact ILP on 250 small network-bound instances (200 with node-pair
    speeds, 50 with all-distinct links; memory tight enough for many stages), every result verified,
    every bound at least the optimum; links must set at least 30 % of the optima of the node-pair
    family (the counts are reported)."""
    from colgen import solve, verify

    solved: dict[str, int] = {"nodes": 0, "distinct": 0}
    by_link: dict[str, int] = {"nodes": 0, "distinct": 0}
    for network, seeds in (("nodes", range(200)), ("distinct", range(50))):
        for seed in seeds:
            inst = instance_from_dict(random_instance(
                seed, num_layers=3 + seed % 3, num_gpus=4 + seed % 3, num_types=1 + seed % 2, max_k=2 + seed % 2,
                network=network, gpus_per_node=1 + seed % 3, memory_pressure=0.9))
            truth = solve_brute(inst).objective
            bnp = solve(inst, "bnp", backend="highs")
            ilp = solve(inst, "ilp", formulation="compact", backend="highs")
            if truth is None:
                assert bnp.status == ilp.status == "infeasible", seed
                continue
            solved[network] += 1
            for r, rel in ((bnp, 1e-9), (ilp, 1e-6)):
                assert r.status == "optimal" and verify(inst, r).ok, (network, seed, r.method, r.status)
                assert r.objective == pytest.approx(truth, rel=rel), (network, seed, r.method)
                assert r.bound >= truth * (1 - rel), (network, seed, r.method)
            by_link[network] += bnp.to_dict(inst)["bottleneck"]["kind"] == "link"
    with capsys.disabled():
        print("\n  network-bound instances (with a placement / optimum set by a link): "
              + ", ".join(f"{n} {solved[n]} / {by_link[n]}" for n in solved))
    assert solved["nodes"] >= 150 and by_link["nodes"] >= 0.3 * solved["nodes"], (solved, by_link)


def test_transition_stages_reach_what_group_capacities_cannot():
    # Stages inside twin groups hold 5 of the 6 layers at the optimum; a stage mixing the GPUs two
    # neighbouring groups have left (the walk MIP) holds the sixth.
    inst = instance_from_dict(random_instance(1399, num_layers=6, num_gpus=7, num_types=2, max_k=3, network="nodes",
                                              gpus_per_node=3, memory_pressure=0.9))
    opt = solve_brute(inst).objective
    space = class_space(inst.tables)
    el = space.eligible(opt)
    groups = twin_groups(space, opt, np.nonzero(usable_classes(space, el))[0])
    assert sum(group_capacity(space, opt, el, g, space.num_layers)[0] for g in groups) < space.num_layers
    found = group_path(space, opt, el, 2000, backend="highs")
    assert found and placement_throughput(inst, found) >= opt * (1 - 1e-12)
