"""Every safe rule leaves the optimum unchanged; heuristic rules are labelled and verified."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.api import solve
from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.cli.main import main
from colgen.errors import InputError
from colgen.space.pruning import RULES, SAFE, parse_rules, prune
from tests.conftest import INSTANCES, tiny_instances

SAFE_SETS = [["symmetry"], ["dominance"], ["bound"], ["symmetry", "dominance"], ["symmetry", "bound"],
             list(SAFE)]


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3), st.sampled_from(SAFE_SETS))
def test_safe_rules_keep_the_optimum_full_ilp(inst, rules):
    oracle = solve_brute(inst)
    r = solve(inst, "ilp", formulation="compact", backend="highs", prune=rules)
    if oracle.status == "infeasible":
        assert r.status == "infeasible"
        return
    assert r.status == "optimal"
    assert r.objective == pytest.approx(oracle.objective, rel=1e-6)
    assert verify(inst, r).ok            # original GPU ids, from class counts
    assert r.bound >= oracle.objective * (1 - 1e-6)


@settings(max_examples=100)
@given(tiny_instances(max_layers=4, max_gpus=4, max_k=2), st.sampled_from(["tight", "seed"]))
def test_safe_rules_keep_the_optimum_pair_formulations(inst, formulation):
    oracle = solve_brute(inst)
    r = solve(inst, "ilp", formulation=formulation, backend="highs", prune="safe")
    if oracle.status == "infeasible":
        assert r.status == "infeasible"
        return
    assert r.objective == pytest.approx(oracle.objective, rel=1e-6)
    assert verify(inst, r).ok


@settings(max_examples=150)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3), st.sampled_from(["none", "safe"]))
def test_bnp_prune_settings_keep_the_optimum(inst, rules):
    oracle = solve_brute(inst)
    r = solve(inst, "bnp", backend="highs", prune=rules)
    assert r.status == ("infeasible" if oracle.status == "infeasible" else "optimal")
    if r.placement:
        assert r.objective == pytest.approx(oracle.objective, rel=1e-9)


@settings(max_examples=100)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3),
       st.sampled_from(["same-type", "smaller-k", "symmetry,hierarchical"]), st.sampled_from(["ilp", "bnp"]))
def test_heuristic_rules_are_labelled_and_never_claim_a_bound(inst, rules, method):
    if method == "bnp" and "hierarchical" in rules:
        return
    oracle = solve_brute(inst)
    r = solve(inst, method, backend="highs", prune=rules)
    if r.placement:
        assert r.status == "heuristic" and r.bound is None
        assert r.statistics["restricted_status"] == "optimal"   # no time limit: the search ended
        assert r.statistics["restricted_bound"] >= r.objective * (1 - 1e-9)
        assert verify(inst, r).ok
        assert r.objective <= oracle.objective * (1 + 1e-9)


@settings(max_examples=60)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_rules_only_remove(inst):
    space = prune(inst, ["symmetry", "dominance", "bound", "same-type"])
    for step in space.steps:
        assert step.allocations_after <= step.allocations_before


def test_rule_names_are_checked():
    assert parse_rules("safe") == list(SAFE)
    assert parse_rules("none") == []
    assert all(RULES[r].safe for r in SAFE)
    with pytest.raises(InputError, match="--prune"):
        parse_rules("symmetry,magic")


def test_demo_is_solved_by_the_full_ilp_with_safe_rules():
    from colgen.model.instance import load_instance

    inst = load_instance(INSTANCES / "seed-demo.json")
    r = solve(inst, "ilp", prune="safe", backend="highs")
    assert r.status == "optimal"
    assert r.objective == pytest.approx(solve(inst, "bnp").objective, rel=1e-9)


def test_prune_report_cli(capsys):
    assert main(["prune-report", str(INSTANCES / "seed-tiny.json"), "--rules", "symmetry,dominance,bound",
                 "--solve"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:]] == ["memory", "symmetry", "dominance", "bound"]
    assert all("optimal" in line for line in out[1:])


def test_prune_flag_on_solve(capsys):
    assert main(["solve", str(INSTANCES / "seed-tiny.json"), "--method", "ilp", "--prune", "safe",
                 "--quiet"]) == 0
    assert "optimal" in capsys.readouterr().out
    assert main(["solve", str(INSTANCES / "seed-tiny.json"), "--prune", "bogus", "--quiet"]) == 2
