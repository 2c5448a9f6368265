"""Stage shapes (tensor parallelism) and stage limits, in every method: brute force = full ILP =
branch-and-price on random small instances, and the verifier rejects every way of getting them wrong."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings

from colgen import solve
from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.model.instance import instance_from_dict
from colgen.result import meets_limits
from tests.conftest import shaped_instances

COVERAGE: dict[str, int] = {"optima": 0, "tensor_parallel": 0, "limited": 0}


def agrees(inst, r, optimum, rel=1e-9) -> None:
    if optimum is None:
        assert r.status == "infeasible" and not r.placement
        return
    assert r.status == "optimal", r.status
    assert verify(inst, r).ok and meets_limits(inst, r.placement)
    assert r.objective == pytest.approx(optimum, rel=rel)
    assert r.bound >= optimum * (1 - rel)


@settings(max_examples=250)
@given(shaped_instances(max_gpus=6))
def test_bnp_equals_brute_force_with_shapes_and_limits(inst):
    oracle = solve_brute(inst)
    agrees(inst, solve(inst, "bnp", backend="highs"), oracle.objective)
    if oracle.placement:
        COVERAGE["optima"] += 1
        COVERAGE["tensor_parallel"] += any(s.tp > 1 for s in oracle.placement)
        limits = inst.stage_limits
        COVERAGE["limited"] += limits.max_stages is not None or limits.min_layers > 1 or limits.max_layers is not None


def test_the_random_instances_exercise_shapes_and_limits():
    # Runs after the property test above (file order): its optima must really use tensor-parallel
    # stages and stage limits, or the property says little about them.
    if COVERAGE["optima"] == 0:
        pytest.skip("run together with test_bnp_equals_brute_force_with_shapes_and_limits")
    print(COVERAGE)
    assert COVERAGE["tensor_parallel"] >= 0.05 * COVERAGE["optima"], COVERAGE
    assert COVERAGE["limited"] >= 0.3 * COVERAGE["optima"], COVERAGE


@settings(max_examples=80)
@given(shaped_instances(max_gpus=5, max_layers=3))
def test_full_ilp_equals_brute_force_with_shapes_and_limits(inst):
    oracle = solve_brute(inst)
    agrees(inst, solve(inst, "ilp", backend="highs"), oracle.objective, rel=1e-6)
    agrees(inst, solve(inst, "ilp", backend="highs", prune="safe"), oracle.objective, rel=1e-6)


@settings(max_examples=60)
@given(shaped_instances(max_gpus=6))
def test_positional_branch_and_price_with_shapes(inst):
    agrees(inst, solve(inst, "bnp", backend="highs", configurations=False, network_checks=False),
           solve_brute(inst).objective)


def big_layer_doc() -> dict:
    """One 20 GB layer and two 16 GB GPUs in one node: only a 2-way tensor-parallel stage holds it."""
    return {
        "model": {"num_layers": 2, "d_model": 1024, "bytes_per_element": 2, "seq_len": 8, "batch_size": 4,
                  "weight_gb_per_layer": 20, "kv_gb_per_sample_layer": 0.01},
        "gpu_types": {"g": {"memory_gb": 16, "performance": {"kind": "affine", "alpha_s": 0.001, "beta_s": 0.001}}},
        "cluster": {"gpus": [{"type": "g", "count": 2, "node": "a"}, {"type": "g", "count": 2, "node": "b"}],
                    "topology": {"intra_node_gbps": 100, "inter_node_gbps": 10}},
        "parallelism": {"max_gpus_per_segment": 2, "tensor_parallel_degrees": [1, 2]},
    }


def test_tensor_parallelism_makes_a_too_large_layer_fit():
    doc = big_layer_doc()
    inst = instance_from_dict(doc)
    r = solve(inst, "bnp", backend="highs")
    assert r.status == "optimal" and all(s.tp == 2 for s in r.placement)
    assert r.objective == pytest.approx(solve_brute(inst).objective)
    doc["parallelism"]["tensor_parallel_degrees"] = [1]
    assert solve(instance_from_dict(doc), "bnp", backend="highs").status == "infeasible"


def _report():
    inst = instance_from_dict(big_layer_doc())
    report = solve(inst, "brute").to_dict(inst)
    assert verify(inst, report).ok
    return inst, report


def test_verifier_rejects_memory_counted_without_sharding():
    inst, report = _report()
    forged = copy.deepcopy(report)
    for a in forged["allocations"]:
        a["tensor_parallel"] = 1
    assert any("needs" in v and "GB" in v for v in verify(inst, forged).violations)


def test_verifier_rejects_a_group_across_nodes_and_a_degree_not_allowed():
    inst, report = _report()
    forged = copy.deepcopy(report)
    forged["allocations"][0]["gpu_ids"] = [1, 2]            # GPU 1 in node a, GPU 2 in node b
    forged["allocations"][1]["gpu_ids"] = [0, 3]
    assert any("cannot form 2-way tensor-parallel groups" in v for v in verify(inst, forged).violations)
    forged = copy.deepcopy(report)
    forged["allocations"][0]["tensor_parallel"] = 4
    assert any("degree 4 is not allowed" in v for v in verify(inst, forged).violations)


def test_verifier_rejects_broken_stage_limits():
    doc = big_layer_doc()
    doc["parallelism"]["tensor_parallel_degrees"] = [2]
    inst = instance_from_dict(doc)
    report = solve(inst, "brute").to_dict(inst)
    assert len(report["allocations"]) == 2
    doc["parallelism"]["max_stages"] = 1
    doc["parallelism"]["min_layers_per_stage"] = 2
    strict = instance_from_dict(doc)
    report["instance"] = strict.name
    violations = verify(strict, report).violations
    assert any("at most 1 allowed" in v for v in violations)
    assert any("allowed 2.." in v for v in violations)
