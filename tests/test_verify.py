"""The verifier accepts valid placements and rejects each kind of corruption."""

from __future__ import annotations

import copy

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.model.instance import instance_from_dict
from colgen.result import Result, placement_throughput
from tests.conftest import random_placements, tiny_docs


def report_for(inst, placement) -> dict:
    return Result(inst.name, "test", "time_limit", placement, placement_throughput(inst, placement),
                  None).to_dict(inst)


@st.composite
def placed(draw: st.DrawFn, min_stages: int = 1):
    doc = draw(tiny_docs(max_layers=4, max_gpus=5, min_layers=min_stages))
    inst = instance_from_dict(doc)
    placement = draw(random_placements(inst))
    assume(placement is not None and len(placement) >= min_stages)
    return doc, inst, report_for(inst, placement)


def violations(inst, report) -> list[str]:
    return verify(inst, report).violations


@settings(max_examples=200)
@given(placed())
def test_valid_placement_accepted(case):
    _, inst, report = case
    assert violations(inst, report) == []


@settings(max_examples=100)
@given(placed(min_stages=2))
def test_overlap_rejected(case):
    _, inst, report = case
    report["allocations"][1]["segment"]["start_layer"] -= 1
    report["allocations"][1]["segment"].pop("segment_size")
    assert any("overlap" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_gap_in_coverage_rejected(case):
    _, inst, report = case
    allocs = report["allocations"]
    long = [a["segment"] for a in allocs if a["segment"]["segment_size"] >= 2]
    assume(long or len(allocs) >= 2)
    if long:
        long[0]["start_layer"] += 1
        long[0].pop("segment_size")
    else:
        del allocs[0]
    assert any("gap in coverage" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_truncated_coverage_rejected(case):
    _, inst, report = case
    allocs = report["allocations"]
    seg = allocs[-1]["segment"]
    assume(seg["segment_size"] >= 2 or len(allocs) >= 2)
    if seg["segment_size"] >= 2:
        seg["end_layer"] -= 1
        seg.pop("segment_size")
    else:
        del allocs[-1]
    assert any("coverage ends" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed(min_stages=2))
def test_gpu_reused_rejected(case):
    _, inst, report = case
    report["allocations"][1]["gpu_ids"].append(report["allocations"][0]["gpu_ids"][0])
    assert any("serves two stages" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_unknown_gpu_rejected(case):
    _, inst, report = case
    report["allocations"][0]["gpu_ids"].append(inst.num_gpus)
    assert any("does not exist" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_k_exceeded_rejected(case):
    doc, inst, report = case
    k = max(len(a["gpu_ids"]) for a in report["allocations"])
    if k >= 2:  # tighten K below the largest stage
        doc = copy.deepcopy(doc)
        doc["parallelism"]["max_gpus_per_segment"] = k - 1
        inst = instance_from_dict(doc)
    else:  # or give a stage K + 1 GPUs
        K = inst.max_gpus_per_segment
        assume(inst.num_gpus > K)
        report["allocations"][0]["gpu_ids"] = list(range(K + 1))
    assert any("allowed 1.." in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_memory_exceeded_rejected(case):
    doc, inst, report = case
    a = report["allocations"][0]
    gpu = inst.gpus[a["gpu_ids"][0]]
    m = inst.model
    L, k = a["segment"]["segment_size"], a["num_gpus"]
    need = L * m.weight_gb_per_layer + L * m.kv_gb_per_sample_layer * m.batch_size / k
    doc = copy.deepcopy(doc)
    doc["gpu_types"][gpu.type]["memory_gb"] = need * 0.999
    assert any("needs" in v and f"GPU {gpu.id} " in v
               for v in violations(instance_from_dict(doc), report))


@settings(max_examples=100)
@given(placed(), st.sampled_from([1.01, 0.99, 2.0]))
def test_wrong_objective_rejected(case, factor):
    _, inst, report = case
    report["objective"] *= factor
    assert any("claimed objective" in v for v in violations(inst, report))


@settings(max_examples=100)
@given(placed())
def test_wrong_stage_throughput_rejected(case):
    _, inst, report = case
    report["allocations"][-1]["throughput"] *= 1.001
    assert any("claimed throughput" in v for v in violations(inst, report))


@settings(max_examples=50)
@given(placed(min_stages=2))
def test_wrong_link_throughput_rejected(case):
    _, inst, report = case
    report["connections"][0]["throughput"] *= 0.5
    assert any("link after layer" in v for v in violations(inst, report))


@settings(max_examples=50)
@given(placed())
def test_bound_below_objective_rejected(case):
    _, inst, report = case
    report["bound"] = report["objective"] * 0.9
    assert any("bound" in v for v in violations(inst, report))


def test_empty_result_rejected(shipped):
    inst = shipped["seed-tiny"]
    assert violations(inst, {"allocations": [], "status": "time_limit"}) == ["the result holds no placement"]


def test_brute_result_of_shipped_tiny_is_valid(shipped):
    inst = shipped["seed-tiny"]
    r = solve_brute(inst)
    assert verify(inst, r).ok
