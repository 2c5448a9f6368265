"""The pricing kernels' first compile: in a child process, within the time limit, and cached for the
signature the engine calls. Each test runs a fresh interpreter with an empty numba cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.test_signals import gone

#: An instance whose search prices columns from its first second on (without the checks that decide
#: it at once).
HARD = ("from colgen.io.generator import random_instance\n"
        "from colgen.model.instance import instance_from_dict\n"
        "inst = instance_from_dict(random_instance(5, num_layers=24, num_gpus=24, num_types=3, max_k=4,\n"
        "                                          network='distinct', memory_pressure=0.9))\n")


def _fresh(script: str, cache: os.PathLike, timeout: float = 240) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_time_limit_holds_while_the_kernels_compile(tmp_path):
    """A cold cache cannot stretch a 1 s limit (the compile alone takes several seconds), and the
    compiling child goes with its parent."""
    script = (
        "import json, time\n"
        "from colgen.api import solve\n"
        "from colgen.bnp import kernels\n"
        "from colgen.check.verify import verify\n"
        f"{HARD}"
        "assert not kernels.compiled_or_cached()\n"
        "t0 = time.perf_counter()\n"
        "r = solve(inst, 'bnp', time_limit=1.0, configurations=False, network_checks=False)\n"
        "wall = time.perf_counter() - t0\n"
        "print(json.dumps({'wall': wall, 'status': r.status, 'valid': r.bound >= r.objective,\n"
        "                  'verified': verify(inst, r).ok, 'child': kernels._child.pid}))\n")
    out = _fresh(script, tmp_path)
    assert out["wall"] < 1.0 + 1.0
    assert out["status"] == "time_limit" and out["valid"] and out["verified"]
    assert not gone({out["child"]}), "the compiling child outlived its parent"


def test_warmup_compiles_the_signature_the_engine_calls(tmp_path):
    """``colgen warmup`` compiles the kernels (in its child); a solve in a later process then loads
    every kernel from the cache and compiles nothing, and a second warmup has nothing to do."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path))
    warm = [sys.executable, "-m", "colgen.cli.main", "warmup"]
    first = subprocess.run(warm, capture_output=True, text=True, timeout=240, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("colgen: the pricing kernels are cached, in ")
    script = (
        "import json\n"
        "from colgen.api import solve\n"
        "from colgen.bnp import kernels\n"
        f"{HARD}"
        "r = solve(inst, 'bnp', time_limit=3.0, configurations=False, network_checks=False)\n"
        "stats = kernels.price_segments.stats\n"
        "print(json.dumps({'pricing_calls': r.statistics['pricing_calls'], 'child': kernels._child is not None,\n"
        "                  'signatures': len(kernels.price_segments.signatures),\n"
        "                  'hits': sum(stats.cache_hits.values()), 'misses': sum(stats.cache_misses.values())}))\n")
    out = _fresh(script, tmp_path)
    assert out["pricing_calls"] >= 1 and not out["child"]
    assert out["signatures"] == out["hits"] == 1 and out["misses"] == 0
    second = subprocess.run(warm, capture_output=True, text=True, timeout=240, env=env)
    assert second.stdout == "colgen: the pricing kernels are compiled and cached already\n"
