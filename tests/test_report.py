"""Results in the user's terms: node names, units, a summary and the bottleneck in words, in the text
and in the JSON; the JSON also carries the colgen version, the options and a convergence trace."""

from __future__ import annotations

import itertools
import json

import pytest

from colgen import __version__, solve
from colgen.cli.main import main
from colgen.result import id_ranges, result_from_dict, si
from tests.conftest import INSTANCES

HF = str(INSTANCES / "hf-llama-3.1-70b.json")


@pytest.fixture(scope="module")
def hf_report(shipped):
    inst = shipped["hf-llama-3.1-70b"]
    result = solve(inst, "bnp", time_limit=60)
    return inst, result, result.to_dict(inst)


def test_json_names_nodes_and_units(hf_report):
    inst, result, report = hf_report
    assert report["colgen_version"] == __version__
    assert report["units"]["throughput"] == "tokens/s" and report["units"]["bandwidth"].startswith("GB/s")
    assert report["gpus_total"] == 12 and report["gpus_used"] == len({g for s in result.placement for g in s.gpu_ids})
    for a in report["allocations"]:
        assert a["nodes"] == list(dict.fromkeys(inst.gpus[g].node for g in a["gpu_ids"]))
        assert [g["node"] for g in a["gpus"]] == [inst.gpus[g].node for g in a["gpu_ids"]]
        assert 0 < a["memory_gb_per_gpu"] <= 80
    for c in report["connections"]:
        pair = c["slowest_pair"]
        assert c["bandwidth_gbps"] == pytest.approx(inst.bandwidth_gbps[pair["from_gpu"], pair["to_gpu"]])
        assert pair["from_node"] == inst.gpus[pair["from_gpu"]].node


def test_summary_and_bottleneck_in_words(hf_report):
    _, result, report = hf_report
    b = report["bottleneck"]
    assert b["throughput"] == pytest.approx(result.objective)
    assert report["summary"].startswith(f"{len(result.placement)} stages on {report['gpus_used']} of 12 GPUs")
    assert b["text"] in report["summary"] and "tokens/s" in b["text"]
    if b["kind"] == "stage":
        s = result.placement[b["stage"]]
        assert f"layers {s.start_layer}-{s.end_layer}" in b["text"] and "node " in b["text"]


def test_options_and_trace(hf_report):
    _, result, report = hf_report
    assert report["options"]["method"] == "bnp" and report["options"]["time_limit"] == 60
    assert report["options"]["prune"] == "safe" and "node_budget" in report["options"]
    trace = report["trace"]
    assert trace and trace[-1]["incumbent"] == result.objective and trace[-1]["bound"] == result.bound
    times = [t["time_s"] for t in trace]
    assert times == sorted(times)
    bounds = [t["bound"] for t in trace]
    assert all(b1 >= b2 - 1e-9 for b1, b2 in itertools.pairwise(bounds))   # bounds only tighten
    assert all(t["incumbent"] is None or t["incumbent"] <= t["bound"] + 1e-9 for t in trace)
    again = result_from_dict(json.loads(json.dumps(report)))
    assert again.trace == trace and again.options == report["options"]


@pytest.mark.parametrize("method", ["brute", "ilp"])
def test_every_method_has_a_trace_and_options(shipped, method):
    result = solve(shipped["seed-tiny"], method, time_limit=60)
    assert result.trace[-1] == {"time_s": result.timings["total"], "incumbent": result.objective,
                                "bound": result.bound}
    assert result.options["method"] == method


def test_cli_text_names_nodes_with_units(capsys):
    assert main(["solve", HF, "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("8 stages on 12 of 12 GPUs") and "bottleneck: stage" in lines[1]
    assert "h100-0: 0" in out and "l40s-0: " in out and "a100-0: " in out
    assert "link 25 GB/s (h100-0 -> l40s-0)" in out and "(inside h100-0)" in out
    assert sum("<- bottleneck" in line for line in lines) == 1
    assert all("tokens/s" in line for line in lines[3:])           # every stage and link row has its unit


def test_cli_json_names_nodes(capsys):
    assert main(["solve", HF, "--quiet", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {n for a in report["allocations"] for n in a["nodes"]} <= {"h100-0", "a100-0", "l40s-0"}
    assert report["colgen_version"] and report["trace"] and report["options"]["backend"] == "auto"


def test_number_formats():
    assert si(21143.9, "tokens/s") == "21.1k tokens/s" and si(1525878.9) == "1.53M" and si(None) == "-"
    assert id_ranges([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
