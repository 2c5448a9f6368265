"""Progress a user sees: the first numba compile is announced, once, before the pause."""

from __future__ import annotations

import numpy as np
import pytest

import colgen.bnp.kernels as kernels
import colgen.bnp.pricing as pricing
from colgen import instance_from_dict, load_instance, solve
from colgen.bnp.kernels import compiled_or_cached
from colgen.bnp.master import Duals, Universes
from colgen.io.generator import random_instance
from colgen.space.class_space import class_space
from colgen.stop import Stop, Stopped
from tests.conftest import INSTANCES


def _problem() -> pricing.PricingProblem:
    space = class_space(load_instance(INSTANCES / "seed-tiny.json").tables)
    M, C = space.num_layers, space.num_classes
    empty: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
    duals = Duals(np.r_[0.0, np.ones(M)], np.zeros(C), np.zeros((M + 1, C)), np.zeros((M + 2, C)),
                  Universes.close(empty, C), Universes.close(empty, C))
    return pricing.PricingProblem(duals=duals, eligible=space.eligible(float(space.candidates()[0])),
                                  avail=space.classes.sizes, shape_r=space.shapes.r, shape_t=space.shapes.t)


def test_cold_kernels_are_announced_once(monkeypatch):
    kernels.compile_in_background()      # the real kernels cached first (this test may run first)
    kernels.wait_compiled(Stop())
    said: list[str] = []
    pricer = pricing.ClassPricer(announce=said.append)
    monkeypatch.setattr(pricing, "compiling", lambda: True)           # as on a fresh install
    monkeypatch.setattr(pricing, "wait_compiled", lambda stop: 0)
    for _ in range(3):
        assert len(pricer.price(_problem(), max_columns=10, eps=1e-9).value) > 0
    assert len(said) == 1 and "compiling the pricing kernels (numba, in a child process" in said[0]
    assert compiled_or_cached()          # compiled (or loaded) in this process now


def test_a_run_stopped_while_the_kernels_compile_says_how_to_warm_them_up(monkeypatch):
    said: list[str] = []
    pricer = pricing.ClassPricer(announce=said.append)

    def deadline(stop: Stop) -> int:
        raise Stopped("time_limit")

    monkeypatch.setattr(pricing, "compiling", lambda: True)
    monkeypatch.setattr(pricing, "wait_compiled", deadline)
    with pytest.raises(Stopped):
        pricer.price(_problem(), max_columns=10, eps=1e-9)
    assert said[-1].startswith("bnp: stopped while the pricing kernels compile") and "colgen warmup" in said[-1]


def test_a_failed_compiling_child_is_said(monkeypatch):
    said: list[str] = []
    pricer = pricing.ClassPricer(announce=said.append)
    monkeypatch.setattr(pricing, "wait_compiled", lambda stop: 1)
    assert len(pricer.price(_problem(), max_columns=10, eps=1e-9).value) > 0
    assert said == ["bnp: compiling the pricing kernels in this process (the compiling child failed, exit code 1) ..."]


def test_the_search_passes_its_log_to_the_pricer():
    inst = instance_from_dict(random_instance(7, num_layers=8, num_gpus=8, max_k=2, network="distinct"))
    lines: list[str] = []
    solve(inst, "bnp", log=lines.append, time_limit=60)
    assert not any("compiling" in line for line in lines)         # warm: nothing to say
    from colgen.bnp.options import BnpOptions
    from colgen.bnp.search import _engine
    from colgen.progress import Log
    from colgen.stop import Stop

    log = Log(lines.append)
    parts = _engine(inst, BnpOptions(), stop=Stop(), gap=0.0, backend="highs", log=log)
    assert parts is not None and parts[2].tree.pricer.announce is log
