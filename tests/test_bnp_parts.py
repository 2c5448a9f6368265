"""Configurations, the pool MIP and the threshold search's bookkeeping, each against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from colgen.bnp.configurations import decide, network_free
from colgen.bnp.heuristics import PoolMip
from colgen.bnp.master import Pool
from colgen.check.brute import solve_brute
from colgen.check.verify import verify
from colgen.io.generator import random_instance
from colgen.model.instance import instance_from_dict
from colgen.result import Result, placement_throughput
from colgen.space.class_space import class_space
from colgen.stop import Stop
from tests.conftest import tiny_instances
from tests.test_bnp_pricing import all_columns


@settings(max_examples=300)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3), st.integers(0, 10**6))
def test_configurations_decide_exactly_where_no_link_binds(inst, seed):
    space = class_space(inst.tables)
    V = space.candidates()
    assume(len(V) > 0)
    T = float(V[np.random.default_rng(seed).integers(len(V))])
    eligible = space.eligible(T)
    assume(network_free(space, T, eligible))
    answer = decide(space, eligible, backend="highs", stop=Stop())
    best = solve_brute(inst).objective or 0.0
    if best >= T:
        assert answer is not False and answer is not None
        value = placement_throughput(inst, answer)
        assert value >= T * (1 - 1e-12)
        assert verify(inst, Result(inst.name, "cfg", "heuristic", answer, value, None)).ok
    else:
        assert answer is False


@settings(max_examples=150)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_pool_mip_finds_the_optimum_in_a_complete_pool(inst):
    oracle = solve_brute(inst)
    assume(oracle.objective is not None)
    space = class_space(inst.tables)
    cols = all_columns(space.num_layers, space)
    pool = Pool(space.num_classes)
    tau = space.column_tau(cols.end - cols.start + 1, cols.shape, cols.counts)
    fits = tau > 0
    pool.add(cols.start[fits], cols.end[fits], cols.shape[fits], cols.counts[fits], tau[fits])
    found = PoolMip(space, "highs", Stop())(pool, oracle.objective, node_limit=10_000)
    assert found is not None
    assert placement_throughput(inst, found) == pytest.approx(oracle.objective, rel=1e-9)
    # above the optimum there is nothing to find
    assert PoolMip(space, "highs", Stop())(pool, oracle.objective * (1 + 1e-6), node_limit=10_000) is None


def test_a_stopped_configuration_decision_raises_stopped():
    from colgen.stop import Stopped

    inst = instance_from_dict(random_instance(3, num_layers=6, num_gpus=6, network="uniform"))
    space = class_space(inst.tables)
    T = float(space.candidates()[0])
    stop = Stop(1e-9)
    with pytest.raises(Stopped):
        decide(space, space.eligible(T), backend="highs", stop=stop)
