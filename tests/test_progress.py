"""Progress a user sees: the first numba compile is announced, once, before the pause."""

from __future__ import annotations

import colgen.bnp.pricing as pricing
from colgen import instance_from_dict, solve
from colgen.bnp.kernels import compiled_or_cached
from colgen.io.generator import random_instance


def test_cold_kernels_are_announced_once(monkeypatch):
    inst = instance_from_dict(random_instance(3, num_layers=8, num_gpus=8, max_k=2, network="distinct"))
    lines: list[str] = []
    monkeypatch.setattr(pricing, "compiled_or_cached", lambda: False)      # as on a fresh install
    result = solve(inst, "bnp", log=lines.append, time_limit=60)
    assert result.status == "optimal" and result.statistics["pricing_calls"] > 0
    said = [line for line in lines if "compiling the pricing kernels" in line]
    assert len(said) == 1
    first_price = next(i for i, line in enumerate(lines) if "compiling" in line)
    assert first_price < len(lines) - 1
    assert compiled_or_cached()          # compiled in this process now


def test_warm_kernels_say_nothing():
    inst = instance_from_dict(random_instance(3, num_layers=8, num_gpus=8, max_k=2, network="distinct"))
    lines: list[str] = []
    solve(inst, "bnp", log=lines.append, time_limit=60)
    assert not any("compiling" in line for line in lines)
