"""colgen sweep: a grid of runs on local processes, Dask or Ray, one CSV row each, resumable, and a
failing run is a row with its error."""

from __future__ import annotations

import csv

import pytest

from colgen.cli.main import main
from colgen.errors import InputError
from colgen.sweep import run_sweep
from colgen.sweep.grid import parse_grid, prepare, split_values
from tests.conftest import INSTANCES

TINY = str(INSTANCES / "seed-tiny.json")
HF = str(INSTANCES / "hf-llama-3.1-70b.json")


def read(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_grid_parsing():
    assert split_values("1,[1,0.9],x") == ["1", "[1,0.9]", "x"]
    grid = parse_grid(["batch_size=16,32.5", "prune=safe,none", "dp_efficiency=[1,0.9],0.95", "gated_ffn=true"])
    assert grid == {"batch_size": [16, 32.5], "prune": ["safe", "none"], "dp_efficiency": [[1, 0.9], 0.95],
                    "gated_ffn": [True]}
    for bad in (["batch_size"], ["batch_size=16", "batch_size=32"], ["colour=red"], ["seq_len=1,,2"]):
        with pytest.raises(InputError):
            parse_grid(bad)


def test_prepare_applies_parameters_and_resolves_hf_config():
    from colgen.jsonio import read_json

    task = prepare(HF, read_json(HF), {"batch_size": 32, "prune": "none", "cluster.topology.inter_node_gbps": 50},
                   method="bnp", time_limit=5, base=INSTANCES)
    assert task.error is None and task.solve == {"time_limit": 5, "prune": "none"}
    assert task.doc["model"]["batch_size"] == 32 and task.doc["model"]["num_layers"] == 80   # no file needed
    assert "hf_config" not in task.doc["model"] and task.doc["cluster"]["topology"]["inter_node_gbps"] == 50
    bad = prepare(HF, read_json(HF), {"gpu_types.B200.memory_gb": 192}, method="bnp", time_limit=None, base=INSTANCES)
    assert bad.doc is None and "no 'gpu_types.B200'" in bad.error


def test_local_processes_resume_and_failures(tmp_path, monkeypatch):
    table = tmp_path / "t.csv"
    grid = ["max_gpus_per_segment=1,2,0", "method=brute,bnp"]
    rows = run_sweep([TINY], grid, output=table, workers=2, time_limit=30, progress=False)
    assert len(rows) == 6 and read(table) == rows
    by = {(r["max_gpus_per_segment"], r["method"]): r for r in rows}
    for k in ("1", "2"):
        assert by[k, "brute"]["status"] == by[k, "bnp"]["status"] == "optimal"
        assert float(by[k, "brute"]["objective_tokens_per_s"]) == pytest.approx(
            float(by[k, "bnp"]["objective_tokens_per_s"]))
        assert "node n0" in by[k, "bnp"]["bottleneck"] and by[k, "bnp"]["time_limit_s"] == "30"
    for m in ("brute", "bnp"):                       # K = 0: the run fails, the sweep goes on
        assert by["0", m]["status"] == "error" and "max_gpus_per_segment" in by["0", m]["error"]

    def no_engine(*args, **kwargs):
        raise AssertionError("nothing should run again")
    monkeypatch.setitem(__import__("colgen.sweep", fromlist=["RUNNERS"]).RUNNERS, "local", no_engine)
    assert run_sweep([TINY], grid, output=table, workers=2, progress=False) == rows      # resumed: all done


def test_retry_failed_and_a_different_grid(tmp_path):
    table = tmp_path / "t.csv"
    grid = ["max_gpus_per_segment=1,2"]
    run_sweep([TINY], grid, output=table, method="brute", workers=1, progress=False)
    text = table.read_text().splitlines()
    text[1] = text[1].replace(",optimal,", ",error,")        # as if the first run had failed
    table.write_text("\n".join(text) + "\n")
    rows = run_sweep([TINY], grid, output=table, method="brute", workers=1, progress=False)
    assert [r["status"] for r in rows] == ["error", "optimal"]          # a plain resume keeps it
    rows = run_sweep([TINY], grid, output=table, method="brute", workers=1, progress=False, retry_failed=True)
    assert [r["status"] for r in rows] == ["optimal", "optimal"] and len(read(table)) == 2
    with pytest.raises(InputError, match="has the columns"):
        run_sweep([TINY], ["batch_size=8"], output=table, method="brute", workers=1, progress=False)


def test_cli_sweep(tmp_path, capsys):
    table = tmp_path / "t.csv"
    assert main(["sweep", TINY, "--grid", "batch_size=16,32", "--method", "brute", "--workers", "1",
                 "--quiet", "-o", str(table)]) == 0
    assert "2 rows (0 failed)" in capsys.readouterr().err
    rows = read(table)
    assert [r["batch_size"] for r in rows] == ["16", "32"] or [r["batch_size"] for r in rows] == ["32", "16"]
    assert main(["sweep", TINY, "--grid", "colour=red", "-o", str(tmp_path / "u.csv")]) == 2
    assert "colour" in capsys.readouterr().err


def test_dask_with_two_workers(tmp_path):
    pytest.importorskip("distributed")
    rows = run_sweep([TINY], ["max_gpus_per_segment=1,2"], output=tmp_path / "d.csv", method="brute", engine="dask",
                     workers=2, progress=False)
    assert sorted(r["max_gpus_per_segment"] for r in rows) == ["1", "2"]
    assert {r["status"] for r in rows} == {"optimal"}


def test_ray_with_two_workers(tmp_path):
    pytest.importorskip("ray")
    rows = run_sweep([TINY], ["max_gpus_per_segment=1,2"], output=tmp_path / "r.csv", method="brute", engine="ray",
                     workers=2, progress=False)
    assert sorted(r["max_gpus_per_segment"] for r in rows) == ["1", "2"]
    assert {r["status"] for r in rows} == {"optimal"}


def test_missing_engine_says_which_extra(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["sweep", TINY, "--engine", "ray", "--quiet", "-o", str(tmp_path / "x.csv")]) == 2
    assert "pip install 'colgen[ray]'" in capsys.readouterr().err
