"""Pricing: the column of largest reduced value under the master's duals, for every segment.

For a segment s..e (L layers) and a GPU count k, whether a GPU class may serve depends only on
(L, k, threshold T): its throughput ``tau[L, k, type]`` must reach T and its memory must hold the
layers. With the master's :class:`~colgen.bnp.master.Duals`, the value of an allocation using
classes U is

    value = sum_{l=s..e} pi_l - sum_c n_c w_c - sum_{c in U} (f_end[e, c] + f_start[s, c])
            + sum of the bonuses of the star rows at e and at s-1 whose universe contains U

Pricing enumerates, per segment end and start, the universes closed under intersection (a handful
in practice), restricts the classes to each pair and picks the k cheapest eligible GPUs (greedy),
or solves a small knapsack over classes when fixed charges or branching bounds are present (DP).
Both are exact, so the largest value per layer covered also gives a Lagrangian bound.

A :class:`Pricer` takes one :class:`PricingProblem` record; :class:`ClassPricer` runs the numba
kernels (colgen/bnp/kernels.py) on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from colgen.bnp.branching import Restrictions
from colgen.bnp.kernels import NEG, compile_in_background, compiled_or_cached, compiling, price_all, wait_compiled
from colgen.bnp.master import Duals
from colgen.stop import Stop, Stopped


@dataclass
class PricingProblem:
    """Everything pricing reads at one node: the duals, which (L, shape, class) may serve at the
    node's threshold (``eligible[L, s, c]``), the shapes (``shape_r[s]`` groups of ``shape_t[s]``
    GPUs), the class sizes, the branching restrictions (None at the root) and, under the same-type
    rule, the class groups a column must stay inside."""

    duals: Duals
    eligible: np.ndarray
    avail: np.ndarray
    shape_r: np.ndarray
    shape_t: np.ndarray
    restrictions: Restrictions | None = None
    groups: list[np.ndarray] | None = None


@dataclass
class Priced:
    """Columns with positive value, best first, and the largest value per layer covered over all
    segments (exact where positive: the Lagrangian bound reads it)."""

    value: np.ndarray
    start: np.ndarray
    end: np.ndarray
    shape: np.ndarray
    counts: np.ndarray
    best_per_layer: float


class Pricer(Protocol):
    """Finds columns of positive reduced value (and the Lagrangian bound's ingredient)."""

    def price(self, problem: PricingProblem, max_columns: int, eps: float) -> Priced: ...


class ClassPricer:
    """Exact pricing over GPU classes by the numba kernels. With ``problem.groups`` (class masks)
    every column stays inside one group: the kernel runs once per group, each segment keeps its best.

    Where the kernels are not compiled yet, a child process starts compiling them at once, and the
    first call waits for it within ``stop`` (see colgen/bnp/kernels.py); ``announce`` hears one line
    before that wait."""

    def __init__(self, announce: Callable[[str], None] | None = None, stop: Stop | None = None):
        self.announce = announce
        self.stop = stop or Stop()
        self.waited = False
        self.ready = compile_in_background()       # compiled or cached at the start

    def _wait(self) -> None:
        """Wait for the compiling child (if any), saying why the run pauses or stops here."""
        say = self.announce or (lambda line: None)
        if compiling():
            say("bnp: compiling the pricing kernels (numba, in a child process; first run after an install or "
                "upgrade only, about 5-15 s) ...")
        try:
            code = wait_compiled(self.stop)
        except Stopped:
            say("bnp: stopped while the pricing kernels compile; `colgen warmup` compiles them once for every "
                "later run")
            raise
        if code is None and self.ready:
            return
        if code not in (None, 0) or not compiled_or_cached():
            why = {None: "no compiling child could start", 0: "numba could not write its cache"}.get(
                code, f"the compiling child failed, exit code {code}")
            say(f"bnp: compiling the pricing kernels in this process ({why}) ...")

    def price(self, problem: PricingProblem, max_columns: int, eps: float) -> Priced:
        if not self.waited:
            self._wait()
            self.waited = True
        d, r = problem.duals, problem.restrictions
        M = len(d.pi) - 1
        restricted = r is not None
        r = r if r is not None else Restrictions.none(M, problem.avail, len(problem.shape_r) - 1)
        value = None
        for g in problem.groups or [None]:
            eligible = problem.eligible if g is None else problem.eligible & g[None, None, :]
            out = price_all(
                d.pi, d.w, d.f_end, d.f_start, eligible, problem.shape_r, problem.shape_t, problem.avail,
                r.no_end, r.cut, r.smask, r.lo, r.hi, restricted, d.end.ptr, d.end.masks, d.end.bonus,
                d.start.ptr, d.start.masks, d.start.bonus)
            if value is None:
                value, s, e, shape, counts = (np.array(x) for x in out)
            else:
                better = out[0] > value
                value[better], shape[better], counts[better] = out[0][better], out[3][better], out[4][better]
        value = np.where(value > NEG, value - d.per_stage, value)    # every column is one stage
        per_layer = float((np.maximum(value, 0.0) / (e - s + 1)).max()) if value.size else 0.0
        good = np.nonzero(value > eps)[0]
        good = good[np.argsort(-value[good], kind="stable")][:max_columns]
        return Priced(value=value[good], start=s[good], end=e[good], shape=shape[good], counts=counts[good],
                      best_per_layer=per_layer)
