"""Shared fixtures and hypothesis strategies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from colgen.io.generator import NETWORKS, random_instance
from colgen.model.instance import Instance, instance_from_dict, load_instance
from colgen.result import Stage
from colgen.space.class_space import ClassSpace, class_space

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"
SHIPPED = sorted(p.stem for p in INSTANCES.glob("*.json"))

# CI runs a fixed sequence of examples (derandomize) so that a run is reproducible; "dev"
# explores new ones (HYPOTHESIS_PROFILE=dev).
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          print_blob=True, derandomize=True)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def interrupted_run(args: list[str], after: float, timeout: float) -> tuple[int, str, str]:
    """Run ``python -m colgen.cli.main ARGS``, send Ctrl-C after ``after`` seconds, wait up to
    ``timeout`` for it to end; never leave the process behind (it is killed if the test fails)."""
    proc = subprocess.Popen([sys.executable, "-m", "colgen.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(after)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


@pytest.fixture(scope="session")
def shipped() -> dict[str, Instance]:
    return {name: load_instance(INSTANCES / f"{name}.json") for name in SHIPPED}


@st.composite
def tiny_docs(draw: st.DrawFn, max_layers: int = 4, max_gpus: int = 5, max_k: int = 3,
              min_layers: int = 1) -> dict:
    """Random tiny instance documents: every network kind, memory from slack to binding."""
    return random_instance(
        draw(st.integers(0, 2**31 - 1)),
        num_layers=draw(st.integers(min_layers, max_layers)),
        num_gpus=draw(st.integers(1, max_gpus)),
        num_types=draw(st.integers(1, 3)),
        max_k=draw(st.integers(1, max_k)),
        network=draw(st.sampled_from(NETWORKS)),
        gpus_per_node=draw(st.integers(1, 3)),
        memory_pressure=draw(st.sampled_from([0.0, 0.5, 0.8, 1.0])),
    )


@st.composite
def tiny_instances(draw: st.DrawFn, **kw: int) -> Instance:
    return instance_from_dict(draw(tiny_docs(**kw)))


@st.composite
def shaped_docs(draw: st.DrawFn, max_layers: int = 4, max_gpus: int = 6, max_k: int = 4) -> dict:
    """Random tiny instances with tensor-parallel degrees and stage limits (a topology network:
    groups need nodes)."""
    layers = draw(st.integers(1, max_layers))
    k = draw(st.integers(1, max_k))
    degrees = draw(st.sampled_from([(1,), (1, 2), (2,), (1, 2, 4), (1, 4)]))
    degrees = tuple(t for t in degrees if t <= k) or (1,)
    lo = draw(st.sampled_from([None, None, 1, 2]))
    hi = draw(st.sampled_from([None, None, 2, 3]))
    if lo is not None and hi is not None and hi < lo:
        hi = lo
    return random_instance(
        draw(st.integers(0, 2**31 - 1)), num_layers=layers, num_gpus=draw(st.integers(1, max_gpus)),
        num_types=draw(st.integers(1, 2)), max_k=k, network=draw(st.sampled_from(["uniform", "nodes"])),
        gpus_per_node=draw(st.integers(1, 4)), memory_pressure=draw(st.sampled_from([0.0, 0.5, 0.8, 1.0])),
        tp_degrees=degrees, max_stages=draw(st.sampled_from([None, None, 1, 2, 3])),
        min_layers_per_stage=lo, max_layers_per_stage=hi)


@st.composite
def shaped_instances(draw: st.DrawFn, **kw: int) -> Instance:
    return instance_from_dict(draw(shaped_docs(**kw)))


@st.composite
def random_placements(draw: st.DrawFn, inst: Instance) -> tuple[Stage, ...] | None:
    """A random memory-feasible placement, or None when the draw runs out of GPUs."""
    tab = inst.tables
    M, K = inst.num_layers, inst.max_gpus_per_segment
    unused = list(range(inst.num_gpus))
    stages, start = [], 1
    while start <= M:
        options = []
        for end in range(start, M + 1):
            for k in range(1, K + 1):
                s = tab.shapes.index(k, 1)
                if not s:
                    continue
                fitting = [g for g in unused if tab.fits[end - start + 1, s, tab.gpu_type[g]]]
                if len(fitting) >= k:
                    options.append((end, k, fitting))
        if not options:
            return None
        end, k, fitting = draw(st.sampled_from(options))
        gpus = tuple(sorted(draw(st.permutations(fitting))[:k]))
        stages.append(Stage(start, end, gpus))
        unused = [g for g in unused if g not in gpus]
        start = end + 1
    return tuple(stages)


def placed_in_class_space(data: st.DataObject, min_stages: int = 1,
                          **kw: int) -> tuple[Instance, tuple[Stage, ...], ClassSpace]:
    """A tiny instance, a random placement on it with at least ``min_stages`` stages (the example
    is rejected otherwise) and the instance's class space: what the engine's unit tests start from."""
    inst = data.draw(tiny_instances(**kw))
    placement = data.draw(random_placements(inst))
    assume(placement is not None and len(placement) >= min_stages)
    return inst, placement, class_space(inst.tables)
