"""Where links bind: the component bound never refutes a threshold the optimum reaches, and the
group path only returns placements that reach their threshold; both against brute force."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.bnp.components import component_check
from colgen.bnp.group_path import group_path
from colgen.bnp.probe import Outcome
from colgen.check.brute import solve_brute
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict
from colgen.result import placement_throughput
from colgen.space.class_space import class_space
from colgen.stop import Stop


@st.composite
def network_bound(draw: st.DrawFn):
    return instance_from_dict(random_instance(
        draw(st.integers(0, 2**31 - 1)), num_layers=draw(st.integers(2, 5)), num_gpus=draw(st.integers(3, 6)),
        num_types=draw(st.integers(1, 2)), max_k=draw(st.integers(1, 3)),
        network=draw(st.sampled_from(["nodes", "distinct"])), gpus_per_node=draw(st.integers(1, 3)),
        memory_pressure=draw(st.sampled_from([0.5, 0.8, 1.0]))))


@settings(max_examples=150)
@given(network_bound(), st.booleans())
def test_component_bound_and_group_path_agree_with_brute_force(inst, symmetry):
    opt = solve_brute(inst).objective or 0.0
    space = class_space(inst.tables, symmetry=symmetry)
    for T in map(float, space.candidates()):
        el = space.eligible(T)
        checked = component_check(space, T, el, backend="highs", stop=Stop())
        if checked is not None and checked.outcome is Outcome.REFUTED:
            assert opt < T, (T, opt)       # the optimum is itself a candidate: compare exactly
        elif checked is not None:
            assert placement_throughput(inst, checked.placement) >= T * (1 - 1e-12)
        found = group_path(space, T, el, 2000, backend="highs")
        if found:
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
