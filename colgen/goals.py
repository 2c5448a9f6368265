"""Every objective, and the Pareto frontier of throughput against cost, from a few primitives.

Each method (brute force, the full ILP, branch-and-price) provides a :class:`CostEngine`:

* ``max_throughput(budget)``: the placement of largest throughput costing at most ``budget`` USD
  per hour (None: no budget). Feasibility of a threshold T stays monotone under a budget, so the
  threshold search of each method carries over with a budget row.
* ``cheapest_at(T)``: the cheapest placement whose throughput is at least T.
* ``frontier(least, cap)``: every non-dominated (throughput, cost) placement with throughput >=
  ``least`` and cost <= ``cap``. The default walks the thresholds: C(T), the least cost at
  threshold T, is non-decreasing in T and steps only at candidate values (every placement's
  throughput is one). The cheapest placement P at T has C constant on [T, thr(P)], so the next
  threshold to ask is the first candidate above thr(P); a point is kept unless the next one costs no
  more (ties). Each point is thus the cheapest placement of its throughput and the fastest of its
  cost, and the walk asks one threshold per point (plus one per tie). An engine that already holds
  every placement (brute force) overrides it.

:func:`solve_goal` answers a :class:`~colgen.model.costs.Goal` with them: ``throughput`` under a
budget by ``max_throughput``; ``cost`` (with a least throughput) by ``cheapest_at``;
``cost-per-token`` and every goal with a cap on USD per token (a non-monotone limit) from the
frontier, which is exact: any placement is dominated by a frontier point that meets every limit it
meets and is at least as good for every objective. With ``costs.charge = all`` the cost is a
constant, every cost objective is answered by the throughput optimum, and the frontier is that one
point. :func:`pareto` gives the frontier within the goal's limits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from colgen.model.costs import LIMIT_RTOL, Goal, usd_per_million_tokens
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Placement, Result, placement_cost, placement_throughput, usd
from colgen.stop import Stop, Stopped

#: Statuses of an answer that prove something (the others are cut short by a limit).
PROVEN = ("optimal", "infeasible")


@dataclass
class Answer:
    """A primitive's answer: ``status`` optimal (proven), infeasible (proven: none exists) or the
    reason it stopped early; the best ``placement`` found; ``bound``: a proven bound on the
    optimum (upper on throughput, lower on cost), None when unknown."""

    status: str
    placement: Placement = ()
    bound: float | None = None


@dataclass(frozen=True)
class Point:
    """A frontier point: a placement with its throughput (tokens/s) and cost (USD per hour)."""

    throughput: float
    cost: float
    placement: Placement

    @property
    def usd_per_million_tokens(self) -> float:
        return float(usd_per_million_tokens(self.cost, self.throughput))


@dataclass
class Frontier:
    """Non-dominated points in increasing throughput (and cost); ``status`` optimal when the walk
    was complete (every point proven), else why it stopped."""

    points: list[Point]
    status: str = "optimal"
    solves: int = 0
    statistics: dict[str, Any] = field(default_factory=dict)


def non_dominated(points: list[Point]) -> list[Point]:
    """The points no other point dominates (at least as fast and at most as costly), one per value
    pair, in increasing throughput."""
    out: list[Point] = []
    for p in sorted(points, key=lambda p: (-p.throughput, p.cost)):
        if not out or p.cost < out[-1].cost:
            out.append(p)
    return out[::-1]


def threshold_of(least: float | None) -> float:
    """The threshold that answers a least throughput: the limit less its relative slack, so that a
    limit computed in floating point (a job's deadline) admits the placement that meets it exactly."""
    return 0.0 if least is None else least * (1 - LIMIT_RTOL)


def _after(V: np.ndarray, i: int, throughput: float) -> int:
    """The next threshold to ask once candidate ``V[i]`` gave a placement of ``throughput``: the first
    candidate above it, and at least the next one (a throughput a hair below its candidate value
    must not ask the same threshold again)."""
    return max(i + 1, int(np.searchsorted(V, throughput, side="right")))


class CostEngine(ABC):
    """A method's primitives for cost-aware placement (see the module docstring)."""

    def __init__(self, instance: Instance, stop: Stop, log: Log | None = None):
        self.instance, self.stop, self.say = instance, stop, as_log(log)
        self.solves = 0

    def status(self) -> str:
        """The heartbeat's line while a goal is answered (a walk can hold many searches)."""
        return f"  ... cost-aware search: {self.solves} solves so far, {self.stop.elapsed():.1f}s"

    @abstractmethod
    def max_throughput(self, budget: float | None) -> Answer: ...

    @abstractmethod
    def cheapest_at(self, T: float) -> Answer: ...

    def candidates(self) -> np.ndarray:
        """Every value a placement's throughput can take, ascending (for the walk)."""
        raise NotImplementedError

    def statistics(self) -> dict[str, Any]:
        """What the engine did (for the result's statistics)."""
        return {}

    def fastest_of_cheapest(self, T: float) -> Answer:
        """``cheapest_at(T)``, then among the placements of that least cost the fastest: the walk
        goes on while the cost stays (a tie-break; cut short by a limit, the cheapest so far)."""
        a = self.cheapest_at(T)
        if a.status != "optimal":
            return a
        V = self.candidates()
        p = self.point(a.placement)
        i = int(np.searchsorted(V, T, side="left"))
        try:
            while True:
                i = _after(V, i, p.throughput)
                if i >= len(V):
                    break
                b = self.cheapest_at(float(V[i]))
                if b.status != "optimal":
                    break
                q = self.point(b.placement)
                if q.cost > p.cost * (1 + LIMIT_RTOL):
                    break
                a, p = Answer("optimal", b.placement, a.bound), q
        except Stopped:
            pass
        return a

    def point(self, placement: Placement) -> Point:
        return Point(placement_throughput(self.instance, placement), float(placement_cost(self.instance, placement)),
                     placement)

    def frontier(self, least: float | None = None, cap: float | None = None) -> Frontier:
        """The walk over thresholds (module docstring) from ``least``, until the cost passes ``cap``."""
        V = self.candidates()
        i = int(np.searchsorted(V, threshold_of(least), side="left"))
        points: list[Point] = []
        status, solves = "optimal", 0
        try:
            while i < len(V):
                answer = self.cheapest_at(float(V[i]))
                solves += 1
                if answer.status == "infeasible":
                    break
                if answer.status != "optimal":
                    status = answer.status
                    break
                p = self.point(answer.placement)
                if cap is not None and p.cost > cap * (1 + LIMIT_RTOL):
                    break
                points.append(p)
                i = _after(V, i, p.throughput)
        except Stopped as why:
            status = why.reason
        return Frontier(non_dominated(points), status, solves)


# --------------------------------------------------------------------------------------------
# Answering a goal


def _result(instance: Instance, goal: Goal, method: str, status: str, placement: Placement = (),
            bound: float | None = None, why: str | None = None, **stats: Any) -> Result:
    value = None
    if placement:
        value = goal.value(placement_throughput(instance, placement), float(placement_cost(instance, placement)))
    statistics = {k: v for k, v in stats.items() if v is not None}
    if why:
        statistics["infeasible_because"] = why
    return Result(instance.name, method, status, placement, value, bound if status != "infeasible" else None,
                  statistics=statistics, objective_kind=goal.objective, goal=goal.to_dict())


def _per_m(cost: float, throughput: float | None) -> float | None:
    return usd_per_million_tokens(cost, throughput) if throughput else None


def _reaching(goal: Goal) -> str:
    return f" reaching {goal.min_throughput:.6g} tokens/s" if goal.min_throughput is not None else ""


def _cheapest_words(engine: CostEngine, goal: Goal) -> tuple[str, float | None]:
    """'the cheapest placement (reaching X) costs C' (or that there is none), and C."""
    a = engine.cheapest_at(threshold_of(goal.min_throughput))
    if a.status == "optimal" and a.placement:
        cost = float(placement_cost(engine.instance, a.placement))
        return f"the cheapest placement{_reaching(goal)} costs {usd(cost)} per hour", cost
    if a.status == "infeasible":
        return f"no placement{_reaching(goal)} exists at any cost", None
    return "the cheapest placement was not found in time", None


def _fastest_words(engine: CostEngine, goal: Goal, budget: float | None) -> tuple[str, float | None]:
    """'the maximum throughput (within the budget) is Y', and Y."""
    a = engine.max_throughput(budget)
    within = f" within {usd(budget)} per hour" if budget is not None else ""
    if a.status == "optimal" and a.placement:
        thr = placement_throughput(engine.instance, a.placement)
        return f"the maximum throughput{within} is {thr:.6g} tokens/s", thr
    if a.status == "infeasible":
        return f"no placement exists{within}", None
    return "the maximum throughput was not found in time", None


def solve_goal(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    """The optimum of ``goal`` (module docstring), as a :class:`Result` in the objective's units.
    An infeasible goal says why in ``statistics["infeasible_because"]`` (the cheapest feasible cost
    for a budget no placement meets, the maximum throughput for a target above it)."""
    with Heartbeat(engine.say, engine.status):
        return _answer(instance, goal, engine, method)


def _answer(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    if goal.charge == "all":
        return _owned(instance, goal, engine, method)
    try:
        if goal.max_usd_per_token is None and goal.objective == "throughput":
            return _fastest(instance, goal, engine, method)
        if goal.max_usd_per_token is None and goal.objective == "cost":
            return _cheapest(instance, goal, engine, method)
        return _from_frontier(instance, goal, engine, method)
    except Stopped as why:
        return _result(instance, goal, method, why.reason)


def _fastest(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    budget, least = goal.max_usd_per_hour, goal.min_throughput
    a = engine.max_throughput(budget)
    if a.placement:
        thr = placement_throughput(instance, a.placement)
        if least is None or thr >= least * (1 - LIMIT_RTOL):
            placement = a.placement
            if a.status == "optimal":      # among the fastest, the cheapest (a tie-break)
                try:
                    b = engine.cheapest_at(thr)
                    if b.status == "optimal" and (placement_cost(instance, b.placement)
                                                  < placement_cost(instance, placement)):
                        placement = b.placement
                except Stopped:
                    pass
            return _result(instance, goal, method, a.status, placement, a.bound)
        if a.status == "optimal" or (a.bound is not None and a.bound < least):
            within = f" within {usd(budget)} per hour" if budget is not None else ""
            return _result(instance, goal, method, "infeasible", why=(
                f"no placement{within} reaches {least:.6g} tokens/s ({goal.source('min_throughput')}); the maximum "
                f"throughput{within} is {thr:.6g} tokens/s"), max_throughput=thr)
        return _result(instance, goal, method, a.status)
    if a.status != "infeasible":
        return _result(instance, goal, method, a.status)
    if budget is None:
        return _result(instance, goal, method, "infeasible", why="no placement exists")
    words, cheapest = _cheapest_words(engine, goal)
    return _result(instance, goal, method, "infeasible", why=(
        f"no placement{_reaching(goal)} costs at most {usd(budget)} per hour ({goal.source('max_usd_per_hour')}); "
        f"{words}"), cheapest_usd_per_hour=cheapest)


def _cheapest(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    budget, least = goal.max_usd_per_hour, goal.min_throughput
    a = engine.fastest_of_cheapest(threshold_of(least))
    if a.placement:
        cost = float(placement_cost(instance, a.placement))
        if budget is None or cost <= budget * (1 + LIMIT_RTOL):
            return _result(instance, goal, method, a.status, a.placement, a.bound)
        if a.status == "optimal" or (a.bound is not None and a.bound > budget * (1 + LIMIT_RTOL)):
            return _result(instance, goal, method, "infeasible", why=(
                f"the cheapest placement{_reaching(goal)} costs {usd(cost)} per hour, above the budget of "
                f"{usd(budget)} ({goal.source('max_usd_per_hour')})"), cheapest_usd_per_hour=cost)
        return _result(instance, goal, method, a.status)
    if a.status != "infeasible":
        return _result(instance, goal, method, a.status)
    if least is None:
        return _result(instance, goal, method, "infeasible", why="no placement exists")
    words, fastest = _fastest_words(engine, goal, None)
    return _result(instance, goal, method, "infeasible", why=(
        f"no placement reaches {least:.6g} tokens/s ({goal.source('min_throughput')}); {words}"),
        max_throughput=fastest)


def _best(goal: Goal, points: list[Point]) -> Point | None:
    """The point of ``points`` best for the goal's objective among those meeting its limits (ties:
    the faster)."""
    ok = [p for p in points if goal.meets(p.throughput, p.cost)]
    if not ok:
        return None
    if goal.objective == "throughput":
        return max(ok, key=lambda p: p.throughput)
    return min(ok, key=lambda p: (goal.value(p.throughput, p.cost), -p.throughput))


def _from_frontier(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    f = engine.frontier(goal.min_throughput, goal.max_usd_per_hour)
    best = _best(goal, f.points)
    stats = {"frontier_points": len(f.points), "thresholds_walked": f.solves}
    if f.status != "optimal":
        return _result(instance, goal, method, f.status, best.placement if best else (), None, **stats)
    if best is not None:
        value = goal.value(best.throughput, best.cost)
        return _result(instance, goal, method, "optimal", best.placement, value, **stats)
    if f.points:      # only the cap on USD per token is broken
        low = min(f.points, key=lambda p: p.cost / p.throughput)
        per_m = low.usd_per_million_tokens
        why = (f"no placement{_reaching(goal)} costs at most {usd(goal.max_usd_per_token * 1e6)} per million tokens "
               f"({goal.source('max_usd_per_token')}); the least is {usd(per_m)} per million tokens, at "
               f"{low.throughput:.6g} tokens/s and {usd(low.cost)} per hour")
        return _result(instance, goal, method, "infeasible", why=why, least_usd_per_million_tokens=per_m, **stats)
    if goal.max_usd_per_hour is not None:
        words, cheapest = _cheapest_words(engine, goal)
        if cheapest is not None:
            return _result(instance, goal, method, "infeasible", why=(
                f"no placement{_reaching(goal)} costs at most {usd(goal.max_usd_per_hour)} per hour "
                f"({goal.source('max_usd_per_hour')}); {words}"), cheapest_usd_per_hour=cheapest, **stats)
    if goal.min_throughput is not None:
        words, fastest = _fastest_words(engine, goal, None)
        return _result(instance, goal, method, "infeasible", why=(
            f"no placement reaches {goal.min_throughput:.6g} tokens/s ({goal.source('min_throughput')}); {words}"),
            max_throughput=fastest, **stats)
    return _result(instance, goal, method, "infeasible", why="no placement exists", **stats)


def _owned(instance: Instance, goal: Goal, engine: CostEngine, method: str) -> Result:
    """``costs.charge = all``: every placement costs the whole cluster, so the fastest placement is
    the best for every objective; it is kept when it meets the limits."""
    try:
        a = engine.max_throughput(None)
    except Stopped as why:
        return _result(instance, goal, method, why.reason)
    if not a.placement:
        why = "no placement exists" if a.status == "infeasible" else None
        return _result(instance, goal, method, a.status, why=why)
    thr = placement_throughput(instance, a.placement)
    cost = float(placement_cost(instance, a.placement))
    broken = goal.broken(thr, cost)
    if broken and a.status == "optimal":
        return _result(instance, goal, method, "infeasible", why=(
            f"every placement costs the whole cluster, {usd(cost)} per hour (costs.charge 'all'), and the fastest, "
            f"{thr:.6g} tokens/s, breaks a limit: {'; '.join(broken)}"), max_throughput=thr,
            cheapest_usd_per_hour=cost)
    if broken:
        return _result(instance, goal, method, a.status)
    bound = {"throughput": a.bound, "cost": cost,
             "cost-per-token": _per_m(cost, a.bound) if a.bound else None}[goal.objective]
    return _result(instance, goal, method, a.status, a.placement, bound)


def pareto(instance: Instance, goal: Goal, engine: CostEngine) -> Frontier:
    """Every non-dominated (throughput, cost) placement meeting the goal's limits, in increasing
    throughput (with ``costs.charge = all``: the fastest placement alone)."""
    with Heartbeat(engine.say, engine.status):
        return _pareto(instance, goal, engine)


def _pareto(instance: Instance, goal: Goal, engine: CostEngine) -> Frontier:
    if goal.charge == "all":
        try:
            a = engine.max_throughput(None)
        except Stopped as why:
            return Frontier([], why.reason)
        points = [engine.point(a.placement)] if a.placement else []
        return Frontier([p for p in points if goal.meets(p.throughput, p.cost)],
                        "optimal" if a.status in PROVEN else a.status, 1)
    f = engine.frontier(goal.min_throughput, goal.max_usd_per_hour)
    f.points = [p for p in f.points if goal.meets(p.throughput, p.cost)]
    return f


def point_result(instance: Instance, point: Point, method: str, goal: Goal, proven: bool = True) -> Result:
    """A frontier point as a result the verifier checks: the largest throughput within a budget of
    the point's own cost (proven for every point of a complete frontier)."""
    limits = goal.to_dict()
    limits["max_usd_per_hour"] = point.cost if goal.charge == "used" else limits["max_usd_per_hour"]
    return Result(instance.name, method, "optimal" if proven else "heuristic", point.placement, point.throughput,
                  point.throughput if proven else None, objective_kind="throughput", goal=limits)


def frontier_report(instance: Instance, frontier: Frontier, method: str, goal: Goal) -> dict[str, Any]:
    """The JSON of ``colgen pareto``: ``points`` in increasing throughput, each with its throughput,
    cost per hour, USD per million tokens and allocations (as in a result report)."""
    from colgen import __version__

    points = []
    for p in frontier.points:
        report = point_result(instance, p, method, goal, frontier.status == "optimal").to_dict(instance)
        points.append({"throughput": p.throughput, "cost_per_hour": p.cost,
                       "usd_per_million_tokens": p.usd_per_million_tokens, "summary": report["summary"],
                       "allocations": report["allocations"], "connections": report["connections"]})
    return {"colgen_version": __version__, "instance": instance.name, "method": method, "status": frontier.status,
            "points": points, "goal": goal.to_dict(),
            "units": {"throughput": "tokens/s", "cost_per_hour": "USD per hour",
                      "usd_per_million_tokens": "USD per million tokens"},
            "statistics": {**frontier.statistics, "thresholds_walked": frontier.solves}}
