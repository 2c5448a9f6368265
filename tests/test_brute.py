from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.model.instance import instance_from_dict
from colgen.result import Result, Stage, placement_throughput
from tests.conftest import random_placements, tiny_instances


def two_gpu_doc(bandwidth: float) -> dict:
    """Two identical GPUs (1 ms + 1 ms/sample per layer), 2 layers, batch 2, seq 1."""
    return {
        "model": {"num_layers": 2, "d_model": 1000, "bytes_per_element": 1, "seq_len": 1,
                  "batch_size": 2, "weight_gb_per_layer": 1, "kv_gb_per_sample_layer": 0},
        "gpu_types": {"g": {"memory_gb": 10, "performance": {"kind": "affine", "alpha_s": 0.001,
                                                            "beta_s": 0.001}}},
        "cluster": {"gpus": [{"type": "g", "count": 2}],
                    "bandwidth_gbps": [[0, bandwidth], [bandwidth, 0]]},
        "parallelism": {"max_gpus_per_segment": 2, "dp_efficiency": 0.5},
    }


def test_hand_computed_optimum_compute_bound():
    # One GPU on both layers: 2 / (2 * 0.003) = 333.3 tok/s. Both GPUs in data parallel:
    # 2 * 0.5 * 1 / (2 * 0.002) = 250. Two stages of one layer: 2 / 0.003 = 666.7, and the link
    # carries 1e-3 GB/s * 1e9 / 1000 = 1000 tok/s, so the pipeline wins with 666.7.
    inst = instance_from_dict(two_gpu_doc(1e-3))
    r = solve_brute(inst)
    assert r.status == "optimal"
    assert abs(r.objective - 2 / 0.003) < 1e-9
    assert len(r.placement) == 2


def test_hand_computed_optimum_network_bound():
    # A link of 0.2e-3 GB/s carries 200 tok/s: the pipeline drops to 200 and one GPU (333.3) wins.
    inst = instance_from_dict(two_gpu_doc(0.2e-3))
    r = solve_brute(inst)
    assert abs(r.objective - 2 / 0.006) < 1e-9
    assert r.placement == (Stage(1, 2, (0,)),)


def test_infeasible_when_no_gpu_holds_a_layer():
    doc = two_gpu_doc(1.0)
    doc["model"]["weight_gb_per_layer"] = 11
    r = solve_brute(instance_from_dict(doc))
    assert r.status == "infeasible" and r.placement == () and r.objective is None


@settings(max_examples=300)
@given(tiny_instances(), st.data())
def test_brute_optimum_passes_verifier_and_dominates_random_placements(inst, data):
    r = solve_brute(inst)
    if r.status == "infeasible":
        return
    v = verify(inst, r)
    assert v.ok, v.violations
    assert abs(v.objective - r.objective) <= 1e-9 * r.objective
    # Any other valid placement is no better.
    placement = data.draw(random_placements(inst))
    if placement is not None:
        other = Result(inst.name, "random", "heuristic", placement,
                       placement_throughput(inst, placement), None)
        verdict = verify(inst, other)
        assert verdict.ok, verdict.violations
        assert verdict.objective <= r.objective * (1 + 1e-12)
