"""The full ILP in every formulation equals brute force; its size estimate matches the built model."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings

from colgen.api import solve
from colgen.backends.gurobi import gurobi_unavailable
from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.choices import FORMULATIONS
from colgen.errors import ModelTooLargeError
from colgen.ilp.model import build
from colgen.ilp.size import estimate
from colgen.ilp.solver import IlpOptions, solve_ilp
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict
from colgen.stop import Stop
from tests.conftest import INSTANCES, interrupted_run, tiny_instances


def same_optimum(inst, result, oracle) -> None:
    if oracle.status == "infeasible":
        assert result.status == "infeasible" and not result.placement
        return
    assert result.status == "optimal", result.statistics
    assert verify(inst, result).ok
    assert result.objective == pytest.approx(oracle.objective, rel=1e-6)
    assert result.bound >= oracle.objective * (1 - 1e-6)


@settings(max_examples=250)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_compact_equals_brute_force(inst):
    same_optimum(inst, solve(inst, "ilp", formulation="compact", backend="highs"), solve_brute(inst))


@settings(max_examples=120)
@given(tiny_instances(max_layers=4, max_gpus=4, max_k=2))
def test_tight_equals_brute_force(inst):
    same_optimum(inst, solve(inst, "ilp", formulation="tight", backend="highs"), solve_brute(inst))


@settings(max_examples=120)
@given(tiny_instances(max_layers=4, max_gpus=4, max_k=2))
def test_seed_equals_brute_force(inst):
    same_optimum(inst, solve(inst, "ilp", formulation="seed", backend="highs"), solve_brute(inst))


@pytest.mark.skipif(gurobi_unavailable() is not None, reason="Gurobi not available")
@settings(max_examples=8)
@given(tiny_instances(max_layers=3, max_gpus=4, max_k=2))
def test_gurobi_backend_equals_brute_force(inst):
    oracle = solve_brute(inst)
    for f in FORMULATIONS:
        r = solve(inst, "ilp", formulation=f, backend="gurobi")
        assert r.statistics["backend"] == "gurobi"
        same_optimum(inst, r, oracle)


@settings(max_examples=60)
@given(tiny_instances(max_layers=5, max_gpus=6, max_k=3))
def test_size_estimate_within_ten_percent(inst):
    for f in FORMULATIONS:
        est = estimate(inst, f)
        model = build(inst, f).model
        assert est.columns == model.num_cols and est.rows == model.num_rows
        assert abs(est.nnz - model.nnz) <= 0.1 * model.nnz + 1


def test_network_bound_instances_are_solved_exactly():
    # Slow node links: the optimum is limited by a link on some of these seeds.
    link_bound = 0
    for seed in range(8):
        inst = instance_from_dict(random_instance(seed, num_layers=3, num_gpus=4, num_types=2, max_k=2,
                                                  network="nodes", gpus_per_node=1, memory_pressure=0.8))
        oracle = solve_brute(inst)
        for f in FORMULATIONS:
            r = solve(inst, "ilp", formulation=f, backend="highs")
            same_optimum(inst, r, oracle)
        if oracle.placement and r.to_dict(inst)["bottleneck"]["kind"] == "link":
            link_bound += 1
    assert link_bound >= 2


def test_memory_guard_refuses_with_the_estimate():
    inst = instance_from_dict(json.loads((INSTANCES / "seed-demo.json").read_text()))
    with pytest.raises(ModelTooLargeError, match="e-pairs"):
        solve_ilp(inst, IlpOptions(formulation="seed"))


def _pair_model_instance():
    return instance_from_dict(random_instance(1, num_layers=8, num_gpus=8, num_types=3, max_k=3,
                                              network="nodes", gpus_per_node=4))


def test_time_limit_holds_on_a_large_pair_model():
    inst = _pair_model_instance()
    assert estimate(inst, "seed").nnz > 1_000_000
    t0 = time.perf_counter()
    r = solve_ilp(inst, IlpOptions(formulation="seed"), backend="highs", stop=Stop(4.0))
    wall = time.perf_counter() - t0
    assert wall < 4.0 + 3.0 + 2.0, wall   # limit + grace + process start
    assert r.status in ("time_limit", "optimal")
    if r.placement:
        assert verify(inst, r).ok


def test_ctrl_c_returns_the_best_placement_and_bound(tmp_path):
    inst_path = tmp_path / "pairs.json"
    inst_path.write_text(_pair_model_instance().to_json())
    out = tmp_path / "r.json"
    code, stdout, stderr = interrupted_run(["solve", str(inst_path), "--method", "ilp", "--formulation", "seed",
                                            "--backend", "highs", "-o", str(out), "--quiet"], after=8, timeout=30)
    assert "Traceback" not in stderr
    if code in (0, 1):  # a placement was found before the interrupt (1: without proof)
        report = json.loads(out.read_text())
        assert report["status"] == ("optimal" if code == 0 else "interrupted")
        assert report["bound"] >= report["objective"]
    else:
        assert code == 4 and "interrupted" in stdout
