"""Cost-aware placement: every objective and the frontier equal brute force (point by point), the
frontier's fastest point equals ``colgen solve``, budgets and limits hold, the verifier rejects wrong
cost claims and broken budgets, and bad input is a clear message."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen import solve
from colgen.api import pareto
from colgen.check.brute import BruteCosts, BruteOptions
from colgen.check.verify import verify, verify_frontier
from colgen.cli.main import main
from colgen.errors import InputError
from colgen.goals import Point
from colgen.io.generator import random_instance
from colgen.model.costs import Goal
from colgen.model.instance import Instance, instance_from_dict, load_instance
from colgen.stop import Stop
from tests.conftest import INSTANCES

RTOL = 1e-6


@st.composite
def priced_docs(draw: st.DrawFn, shaped: bool = False, max_layers: int = 4, max_gpus: int = 5) -> dict:
    """Random tiny priced instances (prices per type, or per node too); ``shaped``: tensor
    parallelism and stage limits as well."""
    seed = draw(st.integers(0, 2**31 - 1))
    extra = {}
    if shaped:
        extra = dict(tp_degrees=(1, 2), gpus_per_node=draw(st.sampled_from([2, 4])),
                     max_stages=draw(st.one_of(st.none(), st.integers(1, 3))),
                     min_layers_per_stage=draw(st.sampled_from([None, None, 2])))
    return random_instance(
        seed, num_layers=draw(st.integers(1, max_layers)), num_gpus=draw(st.integers(1, max_gpus)),
        num_types=draw(st.integers(1, 3)), max_k=draw(st.integers(2 if shaped else 1, 3)),
        network=draw(st.sampled_from(["uniform", "nodes"] if shaped else ["uniform", "nodes", "distinct"])),
        memory_pressure=draw(st.floats(0.0, 1.0)), prices=draw(st.sampled_from(["types", "nodes"])), **extra)


def _truth(inst: Instance) -> list[Point]:
    return BruteCosts(inst, BruteOptions(), Stop()).frontier().points


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-9)


def _same_frontier(points: list[dict], truth: list[Point]) -> None:
    assert len(points) == len(truth), ([(p["throughput"], p["cost_per_hour"]) for p in points],
                                       [(p.throughput, p.cost) for p in truth])
    for p, q in zip(points, truth, strict=True):
        assert _close(p["throughput"], q.throughput) and _close(p["cost_per_hour"], q.cost)


def _check_objectives(inst: Instance, method: str, truth: list[Point], data: st.DataObject, **kw) -> None:
    """Every objective of ``method`` against the brute-force frontier ``truth``."""
    if not truth:
        for fields in ({"objective": "cost"}, {"budget": 100.0}, {"objective": "cost-per-token"}):
            assert solve(inst, method, **fields, **kw).status == "infeasible"
        return
    # Throughput: the frontier's fastest point is colgen solve's optimum.
    plain = solve(inst, method, **kw)
    assert plain.status == "optimal" and _close(plain.objective, truth[-1].throughput)
    # Throughput within a budget: the fastest frontier point within it (or the cheapest cost, said).
    i = data.draw(st.integers(0, len(truth) - 1), label="budget point")
    budget = truth[i].cost * data.draw(st.sampled_from([1.0, 1.0 + 1e-7, 0.999]), label="budget factor")
    within = [p for p in truth if p.cost <= budget * (1 + 1e-9)]
    r = solve(inst, method, budget=budget, **kw)
    if within:
        assert r.status == "optimal" and _close(r.objective, within[-1].throughput)
        assert r.to_dict(inst)["cost_per_hour"] <= budget * (1 + 1e-9)
    else:
        assert r.status == "infeasible" and _close(r.statistics["cheapest_usd_per_hour"], truth[0].cost)
    # The cheapest placement reaching a target.
    j = data.draw(st.integers(0, len(truth)), label="target point")
    target = truth[j].throughput * data.draw(st.sampled_from([1.0, 0.9999]), label="target factor") \
        if j < len(truth) else truth[-1].throughput * 1.001
    r = solve(inst, method, objective="cost", min_throughput=target, **kw)
    reaching = [p for p in truth if p.throughput >= target * (1 - 1e-12)]
    if reaching:
        assert r.status == "optimal" and _close(r.objective, reaching[0].cost)
        assert _close(r.to_dict(inst)["throughput"], reaching[0].throughput)    # the fastest of that cost
    else:
        assert r.status == "infeasible" and _close(r.statistics["max_throughput"], truth[-1].throughput)
    # The least USD per million tokens.
    r = solve(inst, method, objective="cost-per-token", **kw)
    assert r.status == "optimal" and _close(r.objective, min(p.usd_per_million_tokens for p in truth))


@settings(max_examples=200)
@given(priced_docs(), st.data())
def test_bnp_objectives_and_frontier_equal_brute_force(doc, data):
    inst = instance_from_dict(doc)
    truth = _truth(inst)
    report = pareto(inst, "bnp", backend="highs")
    assert report["status"] == "optimal"
    _same_frontier(report["points"], truth)
    _check_objectives(inst, "bnp", truth, data, backend="highs")


@settings(max_examples=60)
@given(priced_docs(shaped=True, max_layers=5, max_gpus=6), st.data())
def test_bnp_equals_brute_force_with_tensor_parallelism_and_stage_limits(doc, data):
    inst = instance_from_dict(doc)
    truth = _truth(inst)
    _same_frontier(pareto(inst, "bnp", backend="highs")["points"], truth)
    _check_objectives(inst, "bnp", truth, data, backend="highs")


@settings(max_examples=40)
@given(priced_docs(max_layers=3, max_gpus=4), st.sampled_from(["compact", "tight", "seed"]), st.data())
def test_ilp_objectives_and_frontier_equal_brute_force(doc, formulation, data):
    inst = instance_from_dict(doc)
    truth = _truth(inst)
    _same_frontier(pareto(inst, "ilp", backend="highs", formulation=formulation)["points"], truth)
    _check_objectives(inst, "ilp", truth, data, backend="highs", formulation=formulation)


@settings(max_examples=30)
@given(priced_docs(), st.data())
def test_limits_of_the_instance_are_answered_from_the_frontier(doc, data):
    """A cap on USD per million tokens, a job's budget and deadline (not monotone in T): the best
    frontier point meeting them, for every objective."""
    truth = _truth(instance_from_dict(doc))
    if not truth:
        return
    ratios = sorted(p.usd_per_million_tokens for p in truth)
    costs = {"max_usd_per_million_tokens": data.draw(st.sampled_from(ratios)) * 1.0000001,
             "job_tokens": 1e9,
             "job_max_hours": 1e9 / (3600 * truth[data.draw(st.integers(0, len(truth) - 1))].throughput)}
    inst = instance_from_dict({**doc, "costs": costs})
    goal = Goal.of(inst)
    ok = [p for p in truth if goal.meets(p.throughput, p.cost)]
    for objective in ("throughput", "cost", "cost-per-token"):
        r = solve(inst, "bnp", objective=objective, backend="highs")
        if not ok:
            assert r.status == "infeasible"
            continue
        goal = Goal.of(inst, objective)
        best = (max(p.throughput for p in ok) if objective == "throughput"
                else min(goal.value(p.throughput, p.cost) for p in ok))
        assert r.status == "optimal" and _close(r.objective, best), objective


# --------------------------------------------------------------------------------------------
# Shipped instances, owned clusters, the verifier


@pytest.fixture(scope="module")
def demo() -> Instance:
    return load_instance(INSTANCES / "seed-demo-priced.json")


def test_seed_demo_frontier_every_method_that_can(demo):
    report = pareto(demo, "bnp")
    assert report["status"] == "optimal" and len(report["points"]) > 10
    thr = [p["throughput"] for p in report["points"]]
    cost = [p["cost_per_hour"] for p in report["points"]]
    assert thr == sorted(thr) and cost == sorted(cost)
    assert _close(thr[-1], solve(demo, "bnp").objective)
    assert not verify_frontier(demo, report)
    assert all(_close(p["usd_per_million_tokens"], p["cost_per_hour"] / (3600 * p["throughput"]) * 1e6)
               for p in report["points"])


def test_owned_cluster_costs_the_whole_cluster(demo):
    inst = instance_from_dict({**demo.spec, "costs": {"charge": "all"}}, base=INSTANCES)
    whole = sum(g.price_per_hour for g in inst.gpus)
    fastest = solve(inst, "bnp")
    r = solve(inst, "bnp", objective="cost")
    assert r.status == "optimal" and _close(r.objective, whole)
    assert _close(r.to_dict(inst)["throughput"], fastest.objective)       # the fastest: it costs the same
    assert len(pareto(inst, "bnp")["points"]) == 1
    r = solve(inst, "bnp", budget=whole / 2)
    assert r.status == "infeasible" and "whole cluster" in r.statistics["infeasible_because"]


def test_verifier_rejects_a_wrong_cost_claim_and_a_broken_budget(demo):
    r = solve(demo, "bnp", budget=30.0)
    report = r.to_dict(demo)
    assert verify(demo, report).ok
    wrong = {**report, "cost_per_hour": report["cost_per_hour"] * 0.9}
    assert any("claimed cost_per_hour" in v for v in verify(demo, wrong).violations)
    wrong = {**report, "usd_per_million_tokens": report["usd_per_million_tokens"] * 1.1}
    assert any("usd_per_million_tokens" in v for v in verify(demo, wrong).violations)
    broken = {**report, "goal": {**report["goal"], "max_usd_per_hour": report["cost_per_hour"] - 1}}
    assert any("the result's budget" in v for v in verify(demo, broken).violations)
    tight = instance_from_dict({**demo.spec, "costs": {"max_usd_per_hour": 10.0}}, base=INSTANCES)
    assert any("costs.max_usd_per_hour" in v for v in verify(tight, report).violations)
    c = solve(demo, "bnp", objective="cost", min_throughput=100_000).to_dict(demo)
    assert verify(demo, c).ok
    assert any("claimed objective" in v for v in verify(demo, {**c, "objective": c["objective"] - 1}).violations)
    assert any("lower bound" in v for v in verify(demo, {**c, "bound": c["objective"] + 1, "gap": None}).violations)


def test_verifier_checks_a_jobs_deadline_and_budget(demo):
    report = solve(demo, "bnp", objective="cost").to_dict(demo)
    thr, cost = report["throughput"], report["cost_per_hour"]
    hours = 1e9 / (3600 * thr)
    late = instance_from_dict({**demo.spec, "costs": {"job_tokens": 1e9, "job_max_hours": hours / 2}}, base=INSTANCES)
    assert any("job_max_hours" in v for v in verify(late, report).violations)
    dear = instance_from_dict({**demo.spec, "costs": {"job_tokens": 1e9, "job_max_usd": cost * hours / 2}},
                              base=INSTANCES)
    assert any("job_max_usd" in v for v in verify(dear, report).violations)


# --------------------------------------------------------------------------------------------
# Bad input


def test_bad_prices_and_limits_are_input_errors(demo):
    spec = json.loads(json.dumps(demo.spec))
    spec["gpu_types"]["T4"]["price_per_hour"] = -1
    with pytest.raises(InputError, match="price_per_hour"):
        instance_from_dict(spec)
    unpriced = load_instance(INSTANCES / "seed-demo.json")
    with pytest.raises(InputError, match=r"costs\.max_usd_per_hour.*price"):
        instance_from_dict({**unpriced.spec, "costs": {"max_usd_per_hour": 5}})
    with pytest.raises(InputError, match="job_tokens"):
        instance_from_dict({**demo.spec, "costs": {"job_max_hours": 5}})
    with pytest.raises(InputError, match=r"gpu_types\.H100\.price_per_hour"):
        solve(unpriced, "bnp", objective="cost")
    with pytest.raises(InputError, match="budget"):
        solve(demo, "bnp", budget=-1.0)
    with pytest.raises(InputError, match="objective"):
        solve(demo, "bnp", objective="speed")
    with pytest.raises(InputError, match="not an option of method 'brute'"):
        solve(demo, "brute", formulation="seed")


def test_tensor_parallel_groups_need_one_price_per_node_and_type():
    doc = random_instance(3, num_layers=2, num_gpus=4, max_k=2, tp_degrees=(1, 2), gpus_per_node=4, prices="types")
    doc["cluster"]["gpus"][0]["price_per_hour"] = 99.0
    doc["cluster"]["gpus"][1]["type"] = doc["cluster"]["gpus"][0]["type"]
    inst = instance_from_dict(doc)
    with pytest.raises(InputError, match="one price"):
        solve(inst, "bnp", objective="cost")


# --------------------------------------------------------------------------------------------
# The command line


def test_cli_objectives_exit_codes_and_messages(capsys, tmp_path):
    demo = str(INSTANCES / "seed-demo-priced.json")
    out = tmp_path / "r.json"
    assert main(["solve", demo, "--objective", "cost", "--min-throughput", "200000", "-o", str(out), "--quiet"]) == 0
    assert "cost $" in capsys.readouterr().out
    assert main(["verify", demo, str(out)]) == 0
    data = json.loads(out.read_text())
    data["cost_per_hour"] += 1
    out.write_text(json.dumps(data))
    assert main(["verify", demo, str(out)]) == 6
    assert "claimed cost_per_hour" in capsys.readouterr().out
    assert main(["solve", demo, "--budget", "1", "--quiet"]) == 3
    assert "the cheapest placement costs $2.02 per hour" in capsys.readouterr().err
    assert main(["solve", demo, "--objective", "cost", "--min-throughput", "1e7", "--quiet"]) == 3
    assert "the maximum throughput is" in capsys.readouterr().err
    assert main(["solve", str(INSTANCES / "seed-demo.json"), "--objective", "cost-per-token", "--quiet"]) == 2
    assert "price_per_hour" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["solve", demo, "--budget", "-3"])
    assert exit_.value.code == 2
    assert "--budget: -3 must be a number >= 0" in capsys.readouterr().err


def test_cli_pareto_json_file_and_picture(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    demo = str(INSTANCES / "seed-demo-priced.json")
    out, picture = tmp_path / "f.json", tmp_path / "f.png"
    assert main(["pareto", demo, "--json", "-o", str(out), "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(out.read_text())
    keys = {"throughput", "cost_per_hour", "usd_per_million_tokens", "allocations"}
    assert report["points"] and all(keys <= set(p) for p in report["points"])
    assert main(["pareto", demo, "--budget", "1", "--quiet"]) == 3
    capsys.readouterr()
    assert main(["pareto", str(INSTANCES / "seed-demo.json"), "--quiet"]) == 2
    assert "the frontier of throughput against cost needs one" in capsys.readouterr().err
    assert main(["plot", demo, str(out), "--kind", "pareto", "-o", str(picture)]) == 0
    assert picture.stat().st_size > 1000
    report["points"][1]["cost_per_hour"] = 1.0
    out.write_text(json.dumps(report))
    assert main(["plot", demo, str(out), "--kind", "pareto", "-o", str(picture)]) == 2
