"""Pricing equals exhaustive enumeration of columns under random duals and branching restrictions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.bnp.branching import CountIn, Cut, Join, Restrictions, ShapeIs
from colgen.bnp.kernels import _choose
from colgen.bnp.master import Duals, Universes
from colgen.bnp.pricing import ClassPricer, PricingProblem
from colgen.space.class_space import class_space
from tests.conftest import shaped_instances, tiny_instances


@dataclass
class Columns:
    """Every column of a class space, as arrays (what decisions read)."""

    start: np.ndarray
    end: np.ndarray
    shape: np.ndarray
    counts: np.ndarray

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)


def all_columns(M: int, space) -> Columns:
    """Every (segment, shape, class counts) column: counts in multiples of the shape's degree."""
    avail, sh = space.classes.sizes, space.shapes
    C = len(avail)
    vectors = [np.array(n) for n in itertools.product(*(range(int(a) + 1) for a in avail))
               if 1 <= sum(n) <= space.max_k]
    rows = [(s, e, shape, n) for s in range(1, M + 1) for e in range(s, M + 1) for n in vectors
            for shape in range(1, sh.count + 1) if sh.k[shape] == n.sum() and not (n % sh.t[shape]).any()]
    return Columns(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64),
                   np.array([r[2] for r in rows], dtype=np.int64),
                   np.array([r[3] for r in rows], dtype=np.int64).reshape(-1, C))


def bits(mask: np.ndarray) -> int:
    return int(sum(1 << int(c) for c in np.nonzero(mask)[0]))


def value_of(s: int, e: int, n: np.ndarray, d: Duals, rows_end, rows_start) -> float:
    """The reduced value of a column, straight from the formula in colgen/bnp/pricing.py."""
    used = n > 0
    u = bits(used)
    v = d.pi[s:e + 1].sum() - (n * d.w).sum() - (d.f_end[e] * used).sum() - (d.f_start[s] * used).sum()
    v += sum(b for mask, b in rows_end[e] if u & mask == u)
    v += sum(b for mask, b in rows_start[s] if u & mask == u)
    return float(v)


@settings(max_examples=150)
@given(st.one_of(tiny_instances(max_layers=4, max_gpus=5, max_k=3), shaped_instances(max_gpus=5)),
       st.integers(0, 2**31 - 1), st.booleans(), st.booleans())
def test_pricing_equals_enumeration(inst, seed, charges, restricted):
    space = class_space(inst.tables, limits=inst.stage_limits)
    V = space.candidates()
    if not len(V):
        return
    rng = np.random.default_rng(seed)
    M, C, S = space.num_layers, space.num_classes, space.num_shapes
    T = float(V[rng.integers(len(V))])
    eligible = space.eligible(T)
    avail = space.classes.sizes
    pi = np.r_[0.0, rng.uniform(-0.5, 1.5, M)]
    w = rng.uniform(0, 1, C) * (rng.random(C) < 0.7)
    f_end = np.zeros((M + 1, C))
    f_start = np.zeros((M + 2, C))
    rows_end: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
    rows_start: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
    if charges:
        f_end[1:] = rng.uniform(0, 0.5, (M, C)) * (rng.random((M, C)) < 0.3)
        f_start[1:M + 1] = rng.uniform(0, 0.5, (M, C)) * (rng.random((M, C)) < 0.3)
        for l in range(1, M + 1):
            for table in (rows_end, rows_start):
                for _ in range(rng.integers(0, 3)):
                    mask = rng.random(C) < 0.6
                    if mask.any():
                        table[l].append((bits(mask), float(rng.uniform(0, 0.8))))
    per_stage = float(rng.uniform(0, 0.3)) if charges else 0.0
    duals = Duals(pi, w, f_end, f_start, Universes.close(rows_end, C), Universes.close(rows_start, C), per_stage)
    decisions = []
    if restricted:
        l = int(rng.integers(1, M + 1))
        c = int(rng.integers(C))
        decisions = [rng.choice([Cut(l), Join(l), ShapeIs(l, int(rng.integers(1, S + 1))),
                                 ShapeIs(l, int(rng.integers(1, S + 1)), equal=False),
                                 CountIn(l, c, 1, int(avail[c])), CountIn(l, c, 0, 0)])]
        if l == M and isinstance(decisions[0], (Cut, Join)):
            decisions = []                     # no boundary after the last layer
    problem = PricingProblem(duals=duals, eligible=eligible, avail=avail, shape_r=space.shapes.r,
                             shape_t=space.shapes.t,
                             restrictions=Restrictions.of(decisions, M, avail, S) if decisions else None)
    priced = ClassPricer().price(problem, max_columns=10**6, eps=1e-9)

    cols = all_columns(M, space)
    ok = np.ones(len(cols.start), dtype=bool)
    for i in range(len(ok)):
        L, sh, n = cols.end[i] - cols.start[i] + 1, cols.shape[i], cols.counts[i]
        ok[i] = all(eligible[L, sh, c] for c in np.nonzero(n)[0])
    for d in decisions:
        ok &= d.allows(cols)
    best: dict[tuple[int, int], float] = {}
    for i in np.nonzero(ok)[0]:
        key = (int(cols.start[i]), int(cols.end[i]))
        v = value_of(*key, cols.counts[i], duals, rows_end, rows_start) - per_stage
        best[key] = max(best.get(key, -np.inf), v)
    found = {(int(s), int(e)): float(v) for s, e, v in zip(priced.start, priced.end, priced.value, strict=True)}
    for key, v in best.items():
        if v > 1e-6:
            assert key in found, (key, v)
            assert found[key] == pytest.approx(v, abs=1e-9)
        else:
            assert found.get(key, 0.0) <= 1e-6
    for (s, e), v in found.items():
        assert (s, e) in best and v == pytest.approx(best[(s, e)], abs=1e-9)
    # Every returned column is allowed and worth what pricing says.
    for i in range(len(priced.value)):
        s, e, n, sh = int(priced.start[i]), int(priced.end[i]), priced.counts[i], int(priced.shape[i])
        L = e - s + 1
        assert int(n.sum()) == space.shapes.k[sh] <= space.max_k and (n <= avail).all()
        assert not (n % space.shapes.t[sh]).any()
        assert all(eligible[L, sh, c] for c in np.nonzero(n)[0])
        one = Columns(np.array([s]), np.array([e]), np.array([sh]), n[None, :])
        assert all(d.allows(one)[0] for d in decisions)
        assert value_of(s, e, n, duals, rows_end, rows_start) - per_stage == pytest.approx(priced.value[i], abs=1e-9)
    per_layer = max([max(v, 0.0) / (e - s + 1) for (s, e), v in best.items()], default=0.0)
    if per_layer > 1e-6:
        assert priced.best_per_layer == pytest.approx(per_layer, abs=1e-9)


@settings(max_examples=200)
@given(st.integers(1, 6), st.integers(1, 5), st.sampled_from([1, 2, 4]), st.integers(0, 2**31 - 1))
def test_greedy_equals_knapsack_without_fixed_charges(R, C, t, seed):
    rng = np.random.default_rng(seed)
    avail = (rng.integers(0, 4, C) * rng.choice([1, t], C)).astype(np.int64)
    w = rng.uniform(0, 1, C)
    M, L, s, e, sh = 2, 1, 1, 1, 1
    eligible = rng.random((M + 1, 2, C)) < 0.8
    zeros_end, zeros_start = np.zeros((M + 1, C)), np.zeros((M + 2, C))
    lo, hi = np.zeros(C, dtype=np.int64), avail.copy()
    mask = np.full(1, np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    order = np.argsort(w)
    for r in range(1, R + 1):
        counts_g, counts_d = np.zeros(C, dtype=np.int64), np.zeros(C, dtype=np.int64)
        work = np.zeros((C + 3, R + 1))
        g = _choose(r, t, L, sh, e, s, w, zeros_end, zeros_start, eligible, avail, lo, hi, False, order, counts_g,
                    mask, work)
        d = _choose(r, t, L, sh, e, s, w, zeros_end, zeros_start, eligible, avail, lo, hi, True, order, counts_d,
                    mask, work)
        assert (g < 0) == (d < 0)
        if g >= 0:
            assert g == pytest.approx(d, abs=1e-12)
            assert counts_g.sum() == r * t == counts_d.sum()
            assert not (counts_g % t).any() and not (counts_d % t).any()
