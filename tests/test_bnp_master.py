"""The decision master: its duals are what pricing reads, and its star rows are valid cuts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from colgen.backends.highs import HighsBackend
from colgen.bnp.master import Master, star_row
from colgen.result import placement_throughput
from colgen.space.class_space import class_space
from tests.conftest import placed_in_class_space, tiny_instances
from tests.test_bnp_pricing import all_columns, value_of


def class_counts(space, stage) -> np.ndarray:
    n = np.zeros(space.num_classes, dtype=np.int64)
    np.add.at(n, space.classes.of[list(stage.gpu_ids)], 1)
    return n


@settings(max_examples=100)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3, min_layers=2), st.integers(0, 2**31 - 1))
def test_duals_have_the_signs_and_values_pricing_assumes(inst, seed):
    space = class_space(inst.tables)
    V = space.candidates()
    assume(len(V) > 0)
    rng = np.random.default_rng(seed)
    T = float(V[rng.integers(len(V))])
    master = Master(space, HighsBackend().new_lp(maximize=False))
    cols = all_columns(space.num_layers, space)
    pick = rng.random(len(cols.start)) < 0.5
    if pick.any():
        master.add_columns(cols.start[pick], cols.end[pick], cols.shape[pick], cols.counts[pick])
    master.enable(master.pool.view("tau") >= T)
    master.solve()
    rows = master.violated_rows(T)
    if rows:
        master.add_network_rows(rows)
        master.solve()
    y = master.lp.duals()
    M, C = space.num_layers, space.num_classes
    assert (y[M:M + C] <= 1e-9).all()            # capacity rows (<=) of a minimization
    assert (y[M + C:] <= 1e-9).all()             # star rows (<= 0)
    duals = master.duals()
    assert duals.per_stage == 0.0
    rows_end = [[] for _ in range(M + 2)]
    rows_start = [[] for _ in range(M + 2)]
    for key, v in zip(master.net_keys, y[M + C:], strict=True):
        if v < 0:
            bits = int(sum(1 << int(c) for c in np.nonzero(key.inside)[0]))
            (rows_start[key.boundary + 1] if key.out else rows_end[key.boundary]).append((bits, -v))
    pool = master.pool
    A = master._column_matrix(np.arange(pool.n)).toarray()
    enabled = master.upper > 0
    for a in range(pool.n):
        lp_value = float(y @ A[:, a])              # minus the reduced cost of column a
        formula = value_of(int(pool.start[a]), int(pool.end[a]), pool.counts[a], duals, rows_end, rows_start)
        assert formula == pytest.approx(lp_value, abs=1e-7)
        if enabled[a]:
            assert lp_value <= 1e-7                # LP optimal: no enabled column improves it


@settings(max_examples=200)
@given(st.data())
def test_star_rows_hold_for_every_placement_that_reaches_their_threshold(data):
    inst, placement, space = placed_in_class_space(data, min_stages=2, max_layers=4, max_gpus=5, max_k=3,
                                                   min_layers=2)
    value = placement_throughput(inst, placement)
    # every threshold up to the placement's value (rows built at T stay valid above it)
    T = value * data.draw(st.sampled_from([1.0, 0.9, 0.5]))
    master = Master(space, HighsBackend().new_lp(maximize=False))
    counts = np.array([class_counts(space, s) for s in placement])
    master.add_columns(np.array([s.start_layer for s in placement]), np.array([s.end_layer for s in placement]),
                       np.array([space.shapes.index(len(s.gpu_ids), s.tp) for s in placement]), counts)
    reach = space.classes.rho >= T
    rows = [star_row(out, l, c, reach[c] if out else reach[:, c])
            for l in range(1, space.num_layers) for c in range(space.num_classes) for out in (True, False)]
    master.add_network_rows(rows)
    coef = master._net_coefficients(np.arange(master.pool.n), np.arange(len(master.net_keys))).toarray()
    z = np.ones(master.pool.n)
    assert (coef @ z <= 1e-9).all()
    # and the rows stay valid for every higher threshold
    for row in master.net_keys:
        assert row.valid_at(space.classes.rho, value)
