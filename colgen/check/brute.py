"""Brute force: every segmentation, every GPU set for every stage. The oracle of the tests.

Depth-first over the next stage (its end layer and its GPU set among the unused GPUs); the only
pruning is "the partial minimum already cannot beat the best placement". Exponential: meant for
instances of a handful of layers and GPUs. :func:`search_size` bounds the number of GPU sets the
search may try, and :func:`solve_brute` refuses (before searching) when the bound exceeds
:data:`MAX_CANDIDATES`; inside the limit it checks the run's deadline and interrupts every few
thousand candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from colgen.errors import ModelTooLargeError
from colgen.goals import Answer, CostEngine, Frontier, Point, non_dominated, solve_goal
from colgen.model.costs import CostOptions, Goal, require_prices
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Result, Stage
from colgen.space.bounds import fluid_upper_bound
from colgen.stop import Stop, Stopped

#: Most (segment, GPU set) candidates brute force may have to try (about an hour at worst).
MAX_CANDIDATES = 10**9
#: Candidates tried between two looks at the deadline and the interrupt flag.
CHECK_EVERY = 4096


@dataclass(frozen=True)
class BruteOptions(CostOptions):
    """Options of method ``brute``. ``node_limit``: stop after this many search nodes. The cost
    options (``objective``, ``budget``, ``min_throughput``: colgen/model/costs.py) are answered from
    the exact frontier of every placement."""

    node_limit: int | None = None


def search_size(num_layers: int, num_gpus: int, max_k: int) -> float:
    """An upper bound on the GPU sets the search tries (memory and pruning ignored): a node that
    starts at layer s with u GPUs used tries every set of 1..K unused GPUs for every end layer, and
    the nodes are counted by stages placed so far. Returns ``inf`` when it is astronomically large."""
    M, N, K = num_layers, num_gpus, min(max_k, num_gpus)
    per_node_root = M * sum(comb(N, k) for k in range(1, K + 1))
    if per_node_root > MAX_CANDIDATES:           # the root alone is too much: no need to count on
        return float(per_node_root) if per_node_root < 1e300 else float("inf")
    u = np.arange(N + 1)
    sets = np.array([[comb(N - x, k) if N - x >= k else 0 for x in u] for k in range(K + 1)], dtype=float)
    tries = sets[1:].sum(axis=0)                 # sets of 1..K unused GPUs, per GPUs used
    reach = np.zeros((M + 2, N + 1))
    reach[1, 0] = 1.0
    below = np.zeros(N + 1)                      # nodes that start before layer t, per GPUs used
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, M + 1):
            if t > 1:
                for k in range(1, K + 1):        # a stage of k GPUs from any earlier node ends at t - 1
                    reach[t, k:] += below[:N + 1 - k] * sets[k, :N + 1 - k]
            total += float((reach[t] * tries).sum()) * (M - t + 1)
            below += reach[t]
            if not total <= MAX_CANDIDATES * 1e3:
                return float("inf")
    return total


def _refuse_if_large(instance: Instance) -> float:
    M, N = instance.num_layers, instance.num_gpus
    K = min(instance.max_gpus_per_segment, N)
    size = search_size(M, N, K)
    if size > MAX_CANDIDATES:
        shown = f"{size:.3g}" if size < float("inf") else "astronomically many"
        raise ModelTooLargeError(
            f"brute force may try {shown} GPU sets on {M} layers, {N} GPUs and K={K}, more than the limit of "
            f"{MAX_CANDIDATES:.0e}; use --method bnp (it proves optimality without enumerating)")
    return size


class _Search:
    """Depth-first over the next stage (its end layer, GPU set and shape) among the unused GPUs.
    ``prune(value, cost)`` cuts a partial pipeline (value: the minimum so far; cost: the prices of
    its GPUs, which only grow); ``found(value, cost, stages)`` hears every complete one not cut."""

    def __init__(self, instance: Instance, options: BruteOptions, stop: Stop,
                 prune: Callable[[float, float], bool], found: Callable[[float, float, list[Stage]], None],
                 prices: np.ndarray | None = None):
        self.instance, self.options, self.stop = instance, options, stop
        self.prune, self.found, self.prices = prune, found, prices
        self.visited = self.tried = 0

    def run(self) -> None:
        self.stop.check()
        self._dfs(1, frozenset(range(self.instance.num_gpus)), None, float("inf"), 0.0, [])

    def _dfs(self, start: int, unused: frozenset[int], prev: tuple[int, ...] | None, value: float, cost: float,
             stages: list[Stage]) -> None:
        inst = self.instance
        tab, limits, M = inst.tables, inst.stage_limits, inst.num_layers
        K = min(inst.max_gpus_per_segment, inst.num_gpus)
        self.visited += 1
        if self.options.node_limit is not None and self.visited > self.options.node_limit:
            raise Stopped("node_limit")
        if limits.max_stages is not None and len(stages) >= limits.max_stages:
            return
        for end in range(start, M + 1):
            L = end - start + 1
            if not limits.allows_length(L):
                continue
            for k in range(1, min(K, len(unused)) + 1):
                for gpus in combinations(sorted(unused), k):
                    self.tried += 1
                    if self.tried % CHECK_EVERY == 0:
                        self.stop.check()
                    c = cost + (float(self.prices[list(gpus)].sum()) if self.prices is not None else 0.0)
                    for t in inst.tp_degrees:                 # every shape: k GPUs in t-way groups
                        if k % t or not tab.stage_fits(L, gpus, t):
                            continue
                        v = min(value, tab.stage_throughput(L, gpus, t))
                        if prev is not None:
                            v = min(v, tab.link_throughput(prev, gpus))
                        if self.prune(v, c):
                            continue
                        stages.append(Stage(start, end, gpus, t))
                        if end == M:
                            self.found(v, c, stages)
                        else:
                            self._dfs(end + 1, unused.difference(gpus), gpus, v, c, stages)
                        stages.pop()


def solve_brute(instance: Instance, options: BruteOptions | None = None, *, stop: Stop | None = None,
                log: Log | None = None) -> Result:
    options = options or BruteOptions()
    stop = stop or Stop()
    say = as_log(log)
    goal = Goal.of(instance, options.objective, options.budget, options.min_throughput)
    if not goal.plain:
        engine = BruteCosts(instance, options, stop, say)
        result = solve_goal(instance, goal, engine, "brute")
        result.timings["solve"] = stop.elapsed()
        result.statistics.update(engine.statistics())
        return result
    return _fastest(instance, options, stop, say)


def _fastest(instance: Instance, options: BruteOptions, stop: Stop, say: Log) -> Result:
    """The placement of largest throughput (today's problem, no limits)."""
    size = _refuse_if_large(instance)
    M, N = instance.num_layers, instance.num_gpus
    K = min(instance.max_gpus_per_segment, N)
    tab = instance.tables
    best_value = 0.0
    best: list[Stage] | None = None

    def found(v: float, _c: float, stages: list[Stage]) -> None:
        nonlocal best_value, best
        best_value, best = v, list(stages)

    search = _Search(instance, options, stop, lambda v, _c: v <= best_value, found)

    def status() -> str:
        inc = f"{best_value:.6g}" if best else "-"
        return (f"  ...  brute: {search.visited:,} nodes, {search.tried:,} GPU sets, incumbent {inc} tokens/s  "
                f"{stop.elapsed():7.2f}s")

    say(f"brute: {M} layers, {N} GPUs, K={K}; at most {size:.3g} GPU sets to try")
    with Heartbeat(say, status):
        try:
            search.run()
            status_, bound = ("optimal", best_value) if best is not None else ("infeasible", None)
        except Stopped as why:
            status_, bound = why.reason, fluid_upper_bound(tab)      # a valid bound, if a weak one
            if best is not None:
                bound = max(bound, best_value)
    return Result(instance=instance.name, method="brute", status=status_,
                  placement=tuple(best or ()), objective=best_value if best else None, bound=bound,
                  timings={"solve": stop.elapsed()}, statistics={"nodes": search.visited, "candidates": search.tried})


class BruteCosts(CostEngine):
    """The exact frontier of every placement, by exhaustive search: a partial pipeline is cut when a
    placement found already is at least as fast and at most as costly (its completions are no
    faster and no cheaper), or when it breaks the cap or the least throughput. Every primitive is
    read off that frontier. The oracle of the tests."""

    def __init__(self, instance: Instance, options: BruteOptions, stop: Stop, log: Log | None = None):
        super().__init__(instance, stop, log)
        self.options = options
        self._all: Frontier | None = None
        self._stats: dict = {}

    def frontier(self, least: float | None = None, cap: float | None = None) -> Frontier:
        _refuse_if_large(self.instance)
        prices = require_prices(self.instance, "brute force over costs")
        found: list[Point] = []
        thr = np.zeros(0)
        low = np.zeros(0)           # low[i]: least cost among points at least as fast as found[i]

        def dominated(v: float, c: float) -> bool:
            i = int(np.searchsorted(thr, v, side="left"))
            return i < len(thr) and low[i] <= c

        def prune(v: float, c: float) -> bool:
            return ((least is not None and v < least * (1 - 1e-12)) or (cap is not None and c > cap * (1 + 1e-9))
                    or dominated(v, c))

        def add(v: float, c: float, stages: list[Stage]) -> None:
            nonlocal thr, low
            found.append(Point(v, c, tuple(stages)))
            kept = non_dominated(found)
            found[:] = kept
            thr = np.array([p.throughput for p in kept])
            low = np.minimum.accumulate(np.array([p.cost for p in kept])[::-1])[::-1]

        search = _Search(self.instance, self.options, self.stop, prune, add, prices)
        status = "optimal"
        try:
            search.run()
        except Stopped as why:
            status = why.reason
        self.solves += 1
        points = [self.point(p.placement) for p in found]     # values as every engine computes them
        self._stats = {"nodes": search.visited, "candidates": search.tried}
        return Frontier(non_dominated(points), status, 1, dict(self._stats))

    def statistics(self) -> dict:
        return dict(self._stats)

    def _frontier(self) -> Frontier:
        if self._all is None:
            self._all = self.frontier()
        return self._all

    def max_throughput(self, budget: float | None) -> Answer:
        if budget is None and self.instance.costs.charge == "all":
            plain = _fastest(self.instance, self.options, self.stop, self.say)
            return Answer(plain.status, plain.placement, plain.bound)
        f = self._frontier()
        ok = [p for p in f.points if budget is None or p.cost <= budget * (1 + 1e-9)]
        if f.status != "optimal":
            return Answer(f.status, ok[-1].placement if ok else ())
        return Answer("optimal", ok[-1].placement, ok[-1].throughput) if ok else Answer("infeasible")

    def fastest_of_cheapest(self, T: float) -> Answer:
        return self.cheapest_at(T)          # frontier points: the fastest of their cost already

    def cheapest_at(self, T: float) -> Answer:
        f = self._frontier()
        ok = [p for p in f.points if p.throughput >= T * (1 - 1e-12)]
        if f.status != "optimal":
            return Answer(f.status, ok[0].placement if ok else ())
        return Answer("optimal", ok[0].placement, ok[0].cost) if ok else Answer("infeasible")
