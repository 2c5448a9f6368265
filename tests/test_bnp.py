"""Branch-and-price equals brute force and the full ILP; its bound is never below the optimum."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.api import solve
from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.cli.main import main
from colgen.io.generator import NETWORKS, random_instance
from colgen.model.instance import instance_from_dict
from tests.conftest import INSTANCES, interrupted_run, tiny_instances


def agrees(inst, result, optimum: float | None, rel: float = 1e-9) -> None:
    """``rel``: 1e-9 against brute force; against the full ILP, its MIP tolerance (1e-6)."""
    if optimum is None:
        assert result.status == "infeasible" and not result.placement
        return
    assert result.status == "optimal", (result.status, result.statistics)
    assert verify(inst, result).ok
    assert result.objective == pytest.approx(optimum, rel=rel)
    assert result.bound >= optimum * (1 - rel)


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_bnp_equals_brute_force(inst):
    agrees(inst, solve(inst, "bnp", backend="highs"), solve_brute(inst).objective)


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_positional_branch_and_price_equals_brute_force(inst):
    # Every threshold through the positional master (no configuration shortcut).
    agrees(inst, solve(inst, "bnp", backend="highs", configurations=False), solve_brute(inst).objective)


@st.composite
def small_docs(draw: st.DrawFn) -> dict:
    return random_instance(
        draw(st.integers(0, 2**31 - 1)), num_layers=draw(st.integers(4, 7)), num_gpus=draw(st.integers(5, 8)),
        num_types=draw(st.integers(1, 3)), max_k=draw(st.integers(1, 4)),
        network=draw(st.sampled_from(NETWORKS)), gpus_per_node=draw(st.integers(1, 4)),
        memory_pressure=draw(st.sampled_from([0.3, 0.7, 0.9])))


@settings(max_examples=40)
@given(small_docs(), st.booleans())
def test_bnp_equals_full_ilp(doc, configurations):
    inst = instance_from_dict(doc)
    ilp = solve(inst, "ilp", formulation="compact", backend="highs")
    assert ilp.status in ("optimal", "infeasible")
    agrees(inst, solve(inst, "bnp", backend="highs", configurations=configurations), ilp.objective, rel=1e-6)


def test_network_bound_cases_are_covered():
    # Among the random instances the tests draw from, links do bind the optimum.
    bound_by_link = 0
    for seed in range(30):
        inst = instance_from_dict(random_instance(seed, num_layers=4, num_gpus=5, max_k=2, network="distinct",
                                                  memory_pressure=0.8))
        r = solve(inst, "bnp", backend="highs", configurations=False)
        if r.placement and r.to_dict(inst)["bottleneck"]["kind"] == "link":
            bound_by_link += 1
            assert r.objective == pytest.approx(solve_brute(inst).objective, rel=1e-9)
    assert bound_by_link >= 5


def test_time_limit_returns_best_placement_and_valid_bound():
    inst = instance_from_dict(random_instance(5, num_layers=24, num_gpus=24, num_types=3, max_k=4,
                                              network="distinct", memory_pressure=0.9))
    t0 = time.perf_counter()
    r = solve(inst, "bnp", backend="highs", time_limit=1.0, configurations=False, network_checks=False)
    assert time.perf_counter() - t0 < 1.0 + 2.0
    if r.status == "optimal":
        pytest.skip("solved within the limit")
    assert r.status == "time_limit"
    assert r.bound is not None
    if r.placement:
        assert verify(inst, r).ok and r.bound >= r.objective


@pytest.mark.parametrize("name", ["seed-demo", "large-126x256"])
def test_cli_proves_optimality_on_shipped_instances(name, capsys):
    assert main(["solve", str(INSTANCES / f"{name}.json"), "--method", "bnp", "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "optimal" and report["gap"] == 0
    assert report["statistics"]["verified"]


def test_ctrl_c_returns_what_is_known(tmp_path):
    path = tmp_path / "hard.json"
    path.write_text(json.dumps(random_instance(5, num_layers=40, num_gpus=32, num_types=3, max_k=4,
                                               network="distinct", memory_pressure=0.9)))
    out = tmp_path / "r.json"
    # Without the network checks (which decide this instance at once) the search is still running.
    code, _stdout, stderr = interrupted_run(["solve", str(path), "-o", str(out), "--no-network-checks"], after=6,
                                            timeout=60)
    assert "Traceback" not in stderr
    if code in (0, 1):
        report = json.loads(out.read_text())
        assert report["status"] == ("optimal" if code == 0 else "interrupted")
        assert report["bound"] >= report["objective"]
    else:
        assert code == 4
