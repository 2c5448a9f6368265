"""Branching: every decision pair partitions the placements, and rules read integral nodes right."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.bnp.branching import (
    DEFAULT_RULES,
    Boundary,
    ClassFirst,
    CountIn,
    Cut,
    Fractional,
    Join,
    Restrictions,
    ShapeIs,
    branch,
)
from tests.conftest import placed_in_class_space
from tests.test_bnp_pricing import Columns


def as_columns(space, placement) -> Columns:
    counts = np.zeros((len(placement), space.num_classes), dtype=np.int64)
    for i, s in enumerate(placement):
        np.add.at(counts[i], space.classes.of[list(s.gpu_ids)], 1)
    shapes = np.array([space.shapes.index(len(s.gpu_ids), s.tp) for s in placement])
    return Columns(np.array([s.start_layer for s in placement]), np.array([s.end_layer for s in placement]),
                   shapes, counts)


def pairs(M: int, S: int, avail: np.ndarray, l: int, c: int, n: int):
    yield (Cut(l), Join(l)) if l < M else None
    for shape in range(1, S + 1):
        yield ShapeIs(l, shape), ShapeIs(l, shape, equal=False)
    yield CountIn(l, c, 1, int(avail[c])), CountIn(l, c, 0, 0)
    if 1 <= n <= avail[c]:
        yield CountIn(l, c, n, int(avail[c])), CountIn(l, c, 0, n - 1)


@settings(max_examples=300)
@given(st.data())
def test_each_decision_pair_partitions_the_placements(data):
    _inst, placement, space = placed_in_class_space(data, max_layers=4, max_gpus=5, max_k=3)
    cols = as_columns(space, placement)
    M, S, avail = space.num_layers, space.num_shapes, space.classes.sizes
    l = data.draw(st.integers(1, M))
    c = data.draw(st.integers(0, space.num_classes - 1))
    n = data.draw(st.integers(1, 3))
    for pair in pairs(M, S, avail, l, c, n):
        if pair is None:
            continue
        holds = [bool(d.allows(cols).all()) for d in pair]
        assert sum(holds) == 1, (pair, placement)
        # pricing sees the same decision: a forbidden column is never generated there
        for d, ok in zip(pair, holds, strict=True):
            r = Restrictions.of([d], M, avail, S)
            if isinstance(d, ShapeIs):
                covering = [int(x) for s, e, x in zip(cols.start, cols.end, cols.shape, strict=True) if s <= l <= e]
                assert bool(r.smask[l, covering[0]]) == ok


@settings(max_examples=200)
@given(st.data())
def test_an_integral_node_yields_its_placement(data):
    _inst, placement, space = placed_in_class_space(data, max_layers=4, max_gpus=5, max_k=3)
    cols = as_columns(space, placement)
    f = Fractional(M=space.num_layers, S=space.num_shapes, avail=space.classes.sizes, start=cols.start,
                   end=cols.end, shape=cols.shape, counts=cols.counts, z=np.ones(len(cols.start)),
                   network_rows=data.draw(st.booleans()))
    result = branch(DEFAULT_RULES, f)
    assert isinstance(result, list)
    got = space.classes.assign([(a, b, n, int(space.shapes.t[sh])) for a, b, n, sh in result])
    assert [(s.start_layer, s.end_layer, len(s.gpu_ids)) for s in got] == \
           [(s.start_layer, s.end_layer, len(s.gpu_ids)) for s in placement]
    for a, b in zip(got, placement, strict=True):   # same GPU count per class (members are interchangeable)
        assert sorted(space.classes.of[list(a.gpu_ids)]) == sorted(space.classes.of[list(b.gpu_ids)])


def test_rules_branch_on_fractional_quantities():
    # Two half columns over 2 layers: one stage 1-2, and stages 1-1 + 2-2 (boundary after 1 at 0.5).
    f = Fractional(M=2, S=2, avail=np.array([2, 2]), start=np.array([1, 1, 2]), end=np.array([2, 1, 2]),
                   shape=np.array([1, 1, 1]), counts=np.array([[1, 0], [0, 1], [0, 1]]), z=np.array([0.5, 0.5, 0.5]),
                   network_rows=True)
    first, second = ClassFirst().select(f)
    assert {type(first), type(second)} == {CountIn}
    first, second = Boundary().select(f)
    assert {type(first), type(second)} == {Cut, Join} and first.layer == 1
