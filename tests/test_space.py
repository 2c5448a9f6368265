"""The allocation space: GPU classes are interchangeable, the fluid bound bounds, the greedy is valid."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.result import Result, Stage, placement_throughput
from colgen.space.bounds import fluid_upper_bound
from colgen.space.class_space import class_space
from colgen.space.greedy import greedy_placement
from tests.conftest import placed_in_class_space, tiny_instances


@settings(max_examples=300)
@given(st.data())
def test_swapping_two_gpus_of_a_class_keeps_the_value(data):
    inst, placement, space = placed_in_class_space(data, max_layers=4, max_gpus=6, max_k=3)
    members = [m for m in space.classes.members if len(m) >= 2]
    assume(members)
    cls = data.draw(st.sampled_from(members))
    a, b = data.draw(st.permutations(list(cls)))[:2]
    swap = {int(a): int(b), int(b): int(a)}
    swapped = tuple(Stage(s.start_layer, s.end_layer, tuple(sorted(swap.get(g, g) for g in s.gpu_ids)))
                    for s in placement)
    value = placement_throughput(inst, placement)
    other = placement_throughput(inst, swapped)
    # links faster than the class cap may differ, but never below it: the value is the same as long
    # as the placement is not worth more than the cap (the cap bounds every placement)
    assert value <= space.classes.cap * (1 + 1e-12)
    assert other == value


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_fluid_bound_is_never_below_the_optimum(inst):
    oracle = solve_brute(inst)
    bound = fluid_upper_bound(inst.tables)
    if oracle.objective is None:
        return
    assert bound >= oracle.objective * (1 - 1e-9)


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_greedy_gives_a_valid_placement_no_better_than_the_optimum(inst):
    found = greedy_placement(class_space(inst.tables))
    if found is None:
        return
    value = placement_throughput(inst, found)
    result = Result(inst.name, "greedy", "heuristic", found, value, None)
    assert verify(inst, result).ok
    assert value <= solve_brute(inst).objective * (1 + 1e-9)


@settings(max_examples=200)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3), st.integers(0, 10**6))
def test_candidates_hold_the_optimum_and_eligibility_is_necessary(inst, seed):
    oracle = solve_brute(inst)
    assume(oracle.objective is not None)
    space = class_space(inst.tables)
    V = space.candidates()
    assert np.isclose(V, oracle.objective, rtol=1e-12).any()       # the optimum is a candidate
    T = float(V[np.random.default_rng(seed).integers(len(V))])
    if oracle.objective < T:
        return
    # every stage of the optimal placement is eligible at T (a necessary condition pricing relies on)
    el = space.eligible(T)
    for s in oracle.placement:
        for g in s.gpu_ids:
            assert el[s.num_layers, len(s.gpu_ids), space.classes.of[g]]
