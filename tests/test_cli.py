"""The command line: every subcommand, and one-line errors (never a traceback) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from colgen.cli.main import main
from tests.conftest import INSTANCES, ROOT, SHIPPED

MALFORMED = ROOT / "tests" / "corpus" / "instances"     # the adversarial corpus: tests/test_corpus.py


def test_malformed_input_through_the_installed_entry_point():
    proc = subprocess.run([sys.executable, "-m", "colgen.cli.main", "solve", str(MALFORMED / "ragged-matrix.json"),
                           "--method", "brute"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cluster.bandwidth_gbps[2]" in proc.stderr


def test_missing_file(capsys, tmp_path):
    assert main(["show", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("name", SHIPPED)
def test_show_shipped_instances(name, capsys):
    assert main(["show", str(INSTANCES / f"{name}.json")]) == 0
    out = capsys.readouterr().out
    assert "allocation space" in out and "GPU types" in out


def test_show_seed_tiny_counts_match_the_seed(capsys):
    # The seed: "Tiny (4 layers, 4 GPUs, max_gpus=2): Segments: 10, Allocations: 100".
    main(["show", str(INSTANCES / "seed-tiny.json")])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["2", "10", "100"] in rows


def test_solve_verify_round_trip(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["solve", str(INSTANCES / "seed-tiny.json"), "--method", "brute", "-o", str(out)]) == 0
    assert "optimal" in capsys.readouterr().out
    assert main(["verify", str(INSTANCES / "seed-tiny.json"), str(out)]) == 0
    assert capsys.readouterr().out.startswith("valid")
    data = json.loads(out.read_text())
    data["objective"] *= 1.5
    out.write_text(json.dumps(data))
    assert main(["verify", str(INSTANCES / "seed-tiny.json"), str(out)]) == 6
    assert "claimed objective" in capsys.readouterr().out


def test_solve_json_on_stdout(capsys):
    assert main(["solve", str(INSTANCES / "seed-tiny.json"), "--method", "brute", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "optimal" and report["allocations"]
    for key in ("segment", "gpu_ids", "gpu_types", "num_gpus", "throughput", "workload_per_gpu"):
        assert key in report["allocations"][0]


def test_verify_rejects_a_non_result(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"allocations": [{"segment": 3}]}')
    assert main(["verify", str(INSTANCES / "seed-tiny.json"), str(bad)]) == 2
    assert "allocations[0]" in capsys.readouterr().err


def test_import_legacy_and_generate(tmp_path, capsys):
    legacy = ROOT.parent / "shared" / "legacy-configs" / "tiny"
    if legacy.is_dir():
        out = tmp_path / "t.json"
        assert main(["import-legacy", str(legacy), "-o", str(out)]) == 0
        assert "ignored optimization_priority" in capsys.readouterr().err
        assert main(["show", str(out)]) == 0
    gen = tmp_path / "g.json"
    assert main(["generate", "-o", str(gen), "--seed", "3", "--layers", "3", "--gpus", "3"]) == 0
    assert main(["solve", str(gen), "--method", "brute"]) == 0
