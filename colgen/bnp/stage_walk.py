"""The stage walk: an exact depth-first search over pipelines where the link graph at T is sparse.

Where links bind between many distinct GPUs or nodes, a threshold T near the optimum leaves each
class linked (at >= T) to one or two others: pipelines are walks in a sparse digraph, which the
LP averages away (it accepts thresholds no walk reaches) and which a depth-first search enumerates
in milliseconds. A *stage* is a multiset of classes (at most K GPUs, data-parallel); stage S may be
followed by S' when every class of S links to every class of S' at >= T (two GPUs of one class
through the class's internal link). The search extends walks stage by stage over the GPUs left,
and decides T exactly when it ends within its node budget:

* a walk whose stages can hold M layers (each stage's allowed lengths from ``eligible``, which
  carries memory, throughput and the stage limits) is a placement reaching T;
* no such walk refutes T. Every pipeline of two or more stages is such a walk: its first stage
  lies in the in-neighbourhood of any class of its second, which is where walks start; a one-stage
  pipeline is :func:`~colgen.bnp.configurations.single_stage`'s. The number of stages and the
  budget are ignored here, which only admits more walks, so a refutation stays valid (a walk that
  breaks them is not returned as a placement).

Pruning: a stage of k GPUs and l layers has l <= (most layers of shape k for each member), so each
GPU contributes at most ``rate[c]`` = max over k of (most layers)/k; the GPUs left that the walk can
still reach bound what it can add. A failed state (last stage, GPUs left) remembers the most layers
it failed with. The budget is a node count and a depth (deterministic); tensor-parallel shapes are
not walked.

:func:`cheapest_walk` searches every walk and keeps the least costly one holding M layers (the
least USD per hour reaching T, for the cost objectives), pruned by a fractional bound on the cost of
the layers still missing and by visited states that had as many layers for no more cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import combinations_with_replacement

import numpy as np

from colgen.bnp.configurations import single_stage, usable_classes
from colgen.bnp.probe import REFUTED, Probe
from colgen.result import Placement
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop

Stage = tuple[int, ...]          # classes of a stage, one entry per GPU, ascending
#: Stages a walk may reach before the search gives up (each is a level of recursion; a model may
#: have 2,048 layers, Python's stack about 1,000 levels).
MAX_DEPTH = 400


class _Budget(Exception):
    """The walk spent its node budget."""


class StageWalk:
    """The search at one threshold (see the module docstring)."""

    def __init__(self, space: ClassSpace, T: float, eligible: np.ndarray, node_budget: int, stop: Stop | None):
        self.space, self.budget, self.stop = space, node_budget, stop
        self.M, self.K = space.num_layers, space.max_k
        cls = space.classes
        self.link = cls.rho >= T
        self.use = usable_classes(space, eligible)
        self.allowed = allowed_lengths(space, eligible)
        most = np.where(self.allowed.any(axis=2), self.M - 1 - np.argmax(self.allowed[:, :, ::-1], axis=2), 0)
        self.rate = (most[1:] / np.arange(1, self.K + 1)[:, None]).max(axis=0)
        self.nodes = 0
        self.failed: dict[tuple[Stage, bytes], list[tuple[int, int]]] = {}
        self._lengths: dict[Stage, tuple[int, int]] = {}
        self.found: list[tuple[int, int, Stage]] = []        # the walk :meth:`run` found
        # The least-cost search's state (set by :meth:`cheapest`).
        self.price = self.per_layer = np.zeros(0)
        self.best: tuple[list[tuple[int, int, Stage]] | None, float] = (None, np.inf)
        self.visited: dict[tuple[Stage, bytes], list[tuple[int, int, float]]] = {}

    # ------------------------------------------------------------------ stages
    def lengths(self, stage: Stage) -> tuple[int, int]:
        """Fewest and most layers ``stage`` may serve ((0, 0): none)."""
        if stage not in self._lengths:
            self._lengths[stage] = stage_lengths(self.allowed, stage)
        return self._lengths[stage]

    def _count(self, too_deep: bool = False) -> None:
        """One more search node; the budget is spent when there were too many, or the walk is
        deeper than ``MAX_DEPTH``."""
        self.nodes += 1
        if self.nodes > self.budget or too_deep:
            raise _Budget

    def stages_over(self, classes: np.ndarray, left: np.ndarray,
                    ks: Iterable[int] | None = None) -> Iterator[tuple[int, Stage]]:
        """Every stage drawn from ``classes`` within the GPUs ``left`` with its fewest layers:
        smaller stages first (where links are dense a walk of small stages is found before the
        large ones are even listed), most layers first among stages of one size; ``ks``: the
        sizes to list (all by default)."""
        for k in ks or range(1, self.K + 1):
            out = []
            for combo in combinations_with_replacement(map(int, classes), k):
                self._count()
                if any(combo.count(c) > left[c] for c in set(combo)):
                    continue
                lo, hi = self.lengths(combo)
                if hi:
                    out.append((-hi, combo, lo))
            out.sort()
            yield from ((lo, combo) for _, combo, lo in out)

    def successors(self, stage: Stage, left: np.ndarray) -> np.ndarray:
        """Classes every class of ``stage`` links to at >= T, with GPUs left."""
        ok = self.link[list(set(stage))].all(axis=0) & self.use & (left > 0)
        return np.nonzero(ok)[0]

    def reach(self, stage: Stage, left: np.ndarray) -> np.ndarray:
        """The classes with GPUs left that a walk after ``stage`` can still reach."""
        alive = self.use & (left > 0)
        seen = np.zeros(len(left), dtype=bool)
        frontier = np.zeros(len(left), dtype=bool)
        frontier[self.successors(stage, left)] = True
        while frontier.any():
            seen |= frontier
            frontier = self.link[frontier].any(axis=0) & alive & ~seen
        return seen

    def reachable(self, stage: Stage, left: np.ndarray) -> float:
        """At most how many more layers a walk after ``stage`` can add (``rate`` of the GPUs left
        that it can reach)."""
        seen = self.reach(stage, left)
        return float((left[seen] * self.rate[seen]).sum())

    # ------------------------------------------------------------------ search
    def _starts(self) -> Iterator[tuple[int, int, Stage, np.ndarray]]:
        """First stages (fewest layers, most layers, classes, GPUs left after it), smaller first:
        the stages inside the in-neighbourhood of some class."""
        sizes = self.space.classes.sizes.astype(np.int64)
        seen: set[Stage] = set()
        for k in range(1, self.K + 1):
            for d in np.nonzero(self.use)[0]:
                before = np.nonzero(self.link[:, d] & self.use)[0]
                for lo, stage in self.stages_over(before, sizes, (k,)):
                    if stage in seen:
                        continue
                    seen.add(stage)
                    left = sizes.copy()
                    for c in stage:
                        left[c] -= 1
                    yield lo, self.lengths(stage)[1], stage, left

    def run(self) -> list[tuple[int, int, Stage]] | None:
        """Stages (fewest layers, most layers, classes) of a walk holding M layers, or None when
        there is none (raises _Budget when the node budget runs out)."""
        for lo, hi, stage, left in self._starts():
            if self._extend([(lo, hi, stage)], left, lo, hi):
                return self.found
        return None

    def cheapest(self, price: np.ndarray, best: float) -> tuple[list[tuple[int, int, Stage]] | None, float]:
        """The walk holding M layers of least cost (``price`` per GPU of each class) below ``best``,
        and its cost ((None, best) when there is none). Every walk is searched, pruned by a
        fractional lower bound on the cost of the layers still missing (the cheapest price per
        layer among the GPUs it can reach) and by visited states that had as many layers at most,
        as few at least and cost no more (raises _Budget when the node budget runs out)."""
        self.price = price
        self.per_layer = np.where(self.rate > 0, price / np.maximum(self.rate, 1e-300), np.inf)
        self.best = (None, best)
        self.visited = {}
        for lo, hi, stage, left in self._starts():
            self._cheapen([(lo, hi, stage)], left, lo, hi, float(price[list(stage)].sum()))
        return self.best

    def _cheapen(self, walk: list[tuple[int, int, Stage]], left: np.ndarray, low: int, high: int,
                 cost: float) -> None:
        self._count(len(walk) > MAX_DEPTH)
        if self.stop is not None and self.nodes % 256 == 0:
            self.stop.check()
        if cost >= self.best[1]:
            return
        if high >= self.M:
            self.best = (list(walk), cost)
            return
        stage = walk[-1][2]
        seen = self.reach(stage, left)
        missing = self.M - high
        if not seen.any() or cost + missing * float(self.per_layer[seen].min()) >= self.best[1] or \
                float((left[seen] * self.rate[seen]).sum()) < missing:
            return
        key = (stage, left.tobytes())
        if any(h >= high and lo <= low and c <= cost for h, lo, c in self.visited.get(key, ())):
            return
        self.visited.setdefault(key, []).append((high, low, cost))
        for lo, hi, nxt in self._steps(walk, left, low):
            self._cheapen(walk, left, low + lo, high + hi, cost + float(self.price[list(nxt)].sum()))

    def _extend(self, walk: list[tuple[int, int, Stage]], left: np.ndarray, low: int, high: int) -> bool:
        self._count(len(walk) > MAX_DEPTH)
        if self.stop is not None and self.nodes % 256 == 0:
            self.stop.check()
        if high >= self.M:
            self.found = list(walk)
            return True
        stage = walk[-1][2]
        key = (stage, left.tobytes())
        # A state that failed with as many layers at most and as few at least fails again.
        if any(h >= high and lo <= low for h, lo in self.failed.get(key, ())) or \
                high + self.reachable(stage, left) < self.M:
            return False
        for lo, hi, _ in self._steps(walk, left, low):
            if self._extend(walk, left, low + lo, high + hi):
                return True
        self.failed.setdefault(key, []).append((high, low))
        return False

    def _steps(self, walk: list[tuple[int, int, Stage]], left: np.ndarray,
               low: int) -> Iterator[tuple[int, int, Stage]]:
        """Each stage that may follow the walk's last (and leaves room for its fewest layers): while
        the caller looks at it, it is appended to ``walk`` and its GPUs taken from ``left``; both
        are put back before the next."""
        for lo, nxt in self.stages_over(self.successors(walk[-1][2], left), left):
            if low + lo > self.M:
                continue
            hi = self.lengths(nxt)[1]
            for c in nxt:
                left[c] -= 1
            walk.append((lo, hi, nxt))
            try:
                yield lo, hi, nxt
            finally:
                walk.pop()
                for c in nxt:
                    left[c] += 1


def stage_walk(space: ClassSpace, T: float, eligible: np.ndarray, node_budget: int, *,
               stop: Stop | None = None) -> Probe | None:
    """REFUTED (no pipeline reaches T), a placement reaching T, or None (the budget ran out, the
    walk found breaks a stage-count limit, or the shapes are tensor-parallel)."""
    if space.shapes.tensor_parallel:
        return None
    one = single_stage(space, eligible)
    if one is not None:
        return Probe.found(one)
    if space.num_layers == 1:
        return REFUTED
    search = StageWalk(space, T, eligible, node_budget, stop)
    try:
        walk = search.run()
    except _Budget:
        return None
    if walk is None:
        return REFUTED
    placement = layout(space, walk)
    return Probe.found(placement) if placement else None


def cheapest_walk(space: ClassSpace, T: float, eligible: np.ndarray, node_budget: int, *,
                  stop: Stop | None = None) -> tuple[str, Placement] | None:
    """The least-cost placement reaching T (the space's prices per GPU): ("optimal", placement),
    ("infeasible", ()) when no pipeline reaches T, or None (the budget ran out, the cheapest walk
    breaks a stage-count limit, or the shapes are tensor-parallel)."""
    if space.shapes.tensor_parallel or space.price is None:
        return None
    one = single_stage(space, eligible)          # with prices, the cheapest one-stage pipeline
    best = space.placement_cost(one) if one is not None else np.inf
    if space.num_layers == 1:
        return ("optimal", one) if one is not None else ("infeasible", ())
    search = StageWalk(space, T, eligible, node_budget, stop)
    try:
        walk, _ = search.cheapest(space.price, best)
    except _Budget:
        return None
    if walk is None:
        return ("optimal", one) if one is not None else ("infeasible", ())
    placement = layout(space, walk)
    return ("optimal", placement) if placement else None


def allowed_lengths(space: ClassSpace, eligible: np.ndarray) -> np.ndarray:
    """``[k, c, l]``: may class c serve l layers (1..M-1) in a data-parallel stage of k GPUs?"""
    M, K = space.num_layers, space.max_k
    allowed = np.zeros((K + 1, space.num_classes, M), dtype=bool)
    for k in range(1, K + 1):
        s = space.shapes.index(k, 1)
        if s:
            allowed[k, :, 1:] = eligible[1:M, s].T
    return allowed


def stage_lengths(allowed: np.ndarray, stage: Stage) -> tuple[int, int]:
    """Fewest and most layers a stage of these classes (one entry per GPU) may serve ((0, 0): none)."""
    idx = np.nonzero(allowed[len(stage), list(stage)].all(axis=0))[0]
    return (int(idx[0]), int(idx[-1])) if len(idx) else (0, 0)


def layout(space: ClassSpace, walk: list[tuple[int, int, Stage]]) -> Placement:
    """Stages (fewest layers, most layers, classes) in pipeline order as a placement of M layers:
    the fewest each, then the rest as far as each allows. Empty when they cannot hold M layers
    together or are more stages than the limits allow."""
    M = space.num_layers
    lengths = [lo for lo, _, _ in walk]
    spare = M - sum(lengths)
    if spare < 0 or sum(hi for _, hi, _ in walk) < M or (
            space.limits.max_stages is not None and len(walk) > space.limits.max_stages):
        return ()
    for i, (_, hi, _) in enumerate(walk):
        add = min(spare, hi - lengths[i])
        lengths[i] += add
        spare -= add
    stages = []
    first = 1
    for (_, _, stage), n in zip(walk, lengths, strict=True):
        counts = np.bincount(np.array(stage), minlength=space.num_classes).astype(np.int64)
        stages.append((first, first + n - 1, counts))
        first += n
    return space.classes.assign(stages)
