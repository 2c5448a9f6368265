"""The reproductions of the reliability issue, one test each (the numbers are the issue's).

Signals (1, 12) are in tests/test_signals.py; forged results, extreme values, whole-number floats,
size limits, nesting and messages (3-7, 14) also have one case each in the corpus
(tests/test_corpus.py). Timing bounds are generous: they fail on a hang, not on a busy machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from colgen.api import solve
from colgen.check.brute import search_size
from colgen.cli import exitcodes
from colgen.cli.main import main
from colgen.errors import ModelTooLargeError
from colgen.ilp.model import build
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict, load_instance
from colgen.stop import Stop, Stopped
from tests.conftest import INSTANCES, ROOT

DATA = ROOT / "tests" / "data"


def cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "colgen.cli.main", *argv], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def one_line(err: str, start: str = "colgen: error: ") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), err
    return lines[0]


# 2. brute force: a size guard, and the time limit


def test_brute_force_refuses_the_large_instance_at_once():
    t0 = time.monotonic()
    proc = cli("solve", str(INSTANCES / "large-126x256.json"), "--method", "brute", "--time-limit", "1")
    assert proc.returncode == exitcodes.REFUSED
    assert "brute force may try 5.33e+16 GPU sets" in one_line(proc.stderr, "colgen: refused: ")
    assert time.monotonic() - t0 < 60


def test_brute_force_holds_its_time_limit():
    inst = load_instance(DATA / "signals-brute.json")
    assert search_size(inst.num_layers, inst.num_gpus, inst.max_gpus_per_segment) < 1e9
    t0 = time.monotonic()
    r = solve(inst, "brute", time_limit=1.0)
    assert r.status == "time_limit" and r.placement
    assert time.monotonic() - t0 < 2.0 + 3.0          # the limit, plus a wide margin for a busy machine


def test_brute_force_bound_holds(shipped):
    for name in ("seed-tiny", "legacy-tiny"):
        inst = shipped[name]
        r = solve(inst, "brute")
        assert r.statistics["candidates"] <= search_size(inst.num_layers, inst.num_gpus, inst.max_gpus_per_segment)


# 8. an unwritable -o


@pytest.mark.parametrize("target", ["{tmp}", "/proc/result.json", "/sys/result.json", "{tmp}/file.json/r.json"])
def test_unwritable_output_is_refused_before_solving(target, tmp_path, capsys):
    (tmp_path / "file.json").write_text("{}")
    code = main(["solve", str(INSTANCES / "seed-tiny.json"), "--method", "brute", "-o", target.format(tmp=tmp_path)])
    captured = capsys.readouterr()
    assert code == exitcodes.BAD_INPUT and captured.out == ""
    assert "--output" in one_line(captured.err)


def test_output_still_written_when_stdout_is_closed(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(f"{sys.executable} -m colgen.cli.main solve {INSTANCES / 'seed-tiny.json'} --method brute "
                          f"--json -o {out} | head -c 1", shell=True, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    assert json.loads(out.read_text())["status"] == "optimal"


# 9. NaN and inf through flags and legacy values


@pytest.mark.parametrize("argv", [["import-legacy", str(INSTANCES / "legacy" / "tiny"), "-o", "x.json",
                                   "--dp-efficiency", "nan"],
                                  ["solve", str(INSTANCES / "seed-tiny.json"), "--gap", "inf"],
                                  ["solve", str(INSTANCES / "seed-tiny.json"), "--time-limit", "nan"]])
def test_non_finite_flags(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == exitcodes.BAD_INPUT
    assert "is not a finite number" in one_line(capsys.readouterr().err)


# 10. generate with nonsense arguments


@pytest.mark.parametrize("flag,value", [("--gpus-per-node", "0"), ("--types", "0"), ("--gpus", "0"), ("--seed", "-1"),
                                        ("--layers", "100000"), ("--max-gpus-per-segment", "0")])
def test_generate_arguments(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "-o", str(tmp_path / "g.json"), flag, value])
    assert exc.value.code == exitcodes.BAD_INPUT
    assert f"argument {flag}: {value} is out of range" in one_line(capsys.readouterr().err)


def test_generate_refuses_a_file_beyond_the_limit(tmp_path, capsys):
    assert main(["generate", "-o", str(tmp_path / "g.json"), "--gpus", "20000", "--network", "distinct"]) == 2
    assert "more than the limit" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "g.json").exists()


# 11. a closed pipe


def test_show_into_a_closed_pipe():
    proc = subprocess.run(f"{sys.executable} -m colgen.cli.main show {INSTANCES / 'large-126x256.json'} | head -1",
                          shell=True, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.startswith("instance large-126x256") and proc.stderr == ""


# 13. exit codes


def test_exit_codes_do_not_overlap():
    codes = {name: value for name, value in vars(exitcodes).items() if name.isupper()}
    assert len(set(codes.values())) == len(codes)
    assert set(codes.values()) == {0, 1, 2, 3, 4, 5, 6, 70, 130, 143}


# 15. the full ILP with safe pruning: a guard, the deadline during pruning and building, memory


def test_pruned_ilp_on_a_network_bound_cluster_is_refused():
    doc = random_instance(1, num_layers=64, num_gpus=128, max_k=8, network="nodes")
    t0 = time.monotonic()
    with pytest.raises(ModelTooLargeError, match="symmetry rule leaves up to"):
        solve(instance_from_dict(doc), "ilp", prune="safe", time_limit=120)
    assert time.monotonic() - t0 < 30


def test_pruned_ilp_holds_its_time_limit_while_pruning():
    inst = instance_from_dict(random_instance(1, num_layers=12, num_gpus=64, max_k=4, network="nodes"))
    t0 = time.monotonic()
    r = solve(inst, "ilp", prune="safe", time_limit=2.0)
    assert r.status == "time_limit"
    assert r.bound is not None and r.bound > 0
    assert time.monotonic() - t0 < 2.0 + 3.0


def test_ilp_build_holds_the_deadline_and_the_memory_budget(shipped):
    inst = shipped["seed-demo"]                       # 474,050 allocations, 6.4 million nonzeros
    t0 = time.monotonic()
    with pytest.raises(Stopped):
        build(inst, "compact", stop=Stop(0.3))
    assert time.monotonic() - t0 < 0.3 + 3.0
    with pytest.raises(ModelTooLargeError, match="would pass"):
        build(inst, "compact", memory_limit_bytes=200_000_000)
