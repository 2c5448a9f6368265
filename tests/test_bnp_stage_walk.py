"""The stage walk (colgen/bnp/stage_walk.py) against brute force: at every candidate threshold of
small network-bound instances (with and without stage limits) a refutation means the optimum is
below T, a placement reaches T and keeps the limits, and the least-cost walk costs what the
cheapest placement reaching T costs; a spent budget says nothing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.bnp.probe import Outcome
from colgen.bnp.stage_walk import cheapest_walk, stage_walk
from colgen.check.brute import BruteCosts, BruteOptions, solve_brute
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict
from colgen.result import meets_limits, placement_throughput
from colgen.space.class_space import class_space
from colgen.stop import Stop


@st.composite
def network_bound(draw: st.DrawFn):
    limits = draw(st.sampled_from([{}, {"max_stages": 2}, {"min_layers_per_stage": 2},
                                   {"max_layers_per_stage": 2}, {"max_stages": 3, "min_layers_per_stage": 1}]))
    return instance_from_dict(random_instance(
        draw(st.integers(0, 2**31 - 1)), num_layers=draw(st.integers(2, 6)), num_gpus=draw(st.integers(3, 7)),
        num_types=draw(st.integers(1, 2)), max_k=draw(st.integers(1, 3)),
        network=draw(st.sampled_from(["nodes", "distinct"])), gpus_per_node=draw(st.integers(1, 3)),
        memory_pressure=draw(st.sampled_from([0.5, 0.8, 1.0])), **limits))


@settings(max_examples=300, deadline=None)
@given(network_bound(), st.booleans())
def test_stage_walk_agrees_with_brute_force(inst, symmetry):
    opt = solve_brute(inst).objective or 0.0
    space = class_space(inst.tables, symmetry=symmetry, limits=inst.stage_limits)
    decided = 0
    for T in map(float, space.candidates()):
        walked = stage_walk(space, T, space.eligible(T), 100_000)
        if walked is None:
            continue
        decided += 1
        if walked.outcome is Outcome.REFUTED:
            assert opt < T, (T, opt)        # the optimum is itself a candidate: compare exactly
        else:
            assert meets_limits(inst, walked.placement)
            value = placement_throughput(inst, walked.placement)
            assert T * (1 - 1e-12) <= value <= opt * (1 + 1e-12), (T, value, opt)
    if inst.stage_limits.max_stages is None:     # then only a spent budget leaves T undecided
        assert decided == len(space.candidates())


def test_a_spent_budget_decides_nothing():
    inst = instance_from_dict(random_instance(1, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                                              network="distinct"))
    space = class_space(inst.tables)
    V = space.candidates()
    T = float(V[V.searchsorted(60_000.0)])      # no single stage reaches it; links reach it everywhere
    assert stage_walk(space, T, space.eligible(T), 10) is None
    assert stage_walk(space, T, space.eligible(T), 1_000).outcome is Outcome.PLACEMENT


def test_the_search_says_which_part_answered():
    """On 64 GPUs with all-distinct links the stage walk refutes the thresholds above the optimum;
    every probe is counted under the part that answered it."""
    from colgen import solve

    inst = instance_from_dict(random_instance(1, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                                              network="distinct"))
    lines: list[str] = []
    r = solve(inst, "bnp", backend="highs", time_limit=120, log=lines.append)
    answers = r.statistics["answers"]
    assert r.status == "optimal" and answers.get("walk: refuted", 0) >= 1
    assert sum(answers.values()) == r.statistics["thresholds_tested"]
    assert any("refuted (walk)" in line for line in lines)


@settings(max_examples=150, deadline=None)
@given(network_bound(), st.sampled_from(["types", "nodes"]))
def test_the_cheapest_walk_is_the_least_cost_placement(inst, prices):
    """At every candidate threshold the least-cost walk costs what brute force's frontier says
    the cheapest placement reaching T costs, or proves that none reaches T."""
    doc = dict(inst.spec)
    doc["gpu_types"] = {t: {**spec, "price_per_hour": 1.0 + 2.0 * i} for i, (t, spec) in
                        enumerate(doc["gpu_types"].items())}
    if prices == "nodes":
        doc["cluster"] = {**doc["cluster"], "gpus": [{**g, "price_per_hour": 1.0 + (j % 3)}
                                                     for j, g in enumerate(doc["cluster"]["gpus"])]}
    inst = instance_from_dict(doc)
    truth = BruteCosts(inst, BruteOptions(), Stop()).frontier().points
    space = class_space(inst.tables, limits=inst.stage_limits,
                        prices=np.array([g.price_per_hour for g in inst.gpus], dtype=float))
    for T in map(float, space.candidates()):
        answer = cheapest_walk(space, T, space.eligible(T), 100_000)
        if answer is None:
            continue
        # A candidate and a placement's throughput may differ in the last digits: a point within
        # 1e-9 of T may count either way.
        surely = [p.cost for p in truth if p.throughput >= T * (1 + 1e-9)]
        maybe = [p.cost for p in truth if p.throughput >= T * (1 - 1e-9)]
        status, found = answer
        if status == "infeasible":
            assert not surely, (T, surely)
        else:
            assert meets_limits(inst, found) and placement_throughput(inst, found) >= T * (1 - 1e-9)
            cost = space.placement_cost(found)
            assert min(maybe) * (1 - 1e-9) <= cost <= min(surely, default=np.inf) * (1 + 1e-9), T


def test_a_walk_deeper_than_the_limit_decides_nothing(monkeypatch):
    # 6 layers on 5 GPUs, one per stage: the optimum has 5 stages.
    from colgen.bnp import stage_walk as walk_module

    inst = instance_from_dict(random_instance(0, num_layers=6, num_gpus=5, num_types=1, max_k=1,
                                              network="distinct", memory_pressure=0.5))
    space = class_space(inst.tables)
    best = solve_brute(inst)
    opt = best.objective
    assert opt and len(best.placement) == 5
    monkeypatch.setattr(walk_module, "MAX_DEPTH", 1)
    assert stage_walk(space, opt, space.eligible(opt), 100_000) is None
    monkeypatch.setattr(walk_module, "MAX_DEPTH", 400)
    assert stage_walk(space, opt, space.eligible(opt), 100_000).outcome is Outcome.PLACEMENT
