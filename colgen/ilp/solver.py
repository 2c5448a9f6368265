"""Solving the full ILP: build (after pruning, under the memory guard), hand it to a backend, read
the placement back in tokens/s.

Cost objectives and budgets (:class:`IlpCosts`, the primitives of colgen/goals.py) use the same
model: a budget is one more row ``sum_a cost_a z_a <= B`` (``cost_a``: the prices of the
allocation's GPUs); the least cost at a threshold T minimizes ``sum_a cost_a z_a`` with
``t >= T`` (every stage and link row then holds at T) and every allocation slower than T fixed at
zero. The frontier walks the thresholds with one MIP each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from colgen.backends import MatrixModel, MipOutcome, get_backend
from colgen.backends.highs import HighsBackend
from colgen.choices import FORMULATIONS
from colgen.errors import InputError
from colgen.goals import Answer, CostEngine, solve_goal
from colgen.ilp.model import IlpModel, build, guarded_build
from colgen.ilp.size import estimate
from colgen.model.costs import CostOptions, Goal, require_prices
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Placement, Result, placement_throughput, relative_gap
from colgen.space.bounds import fluid_upper_bound
from colgen.space.class_space import class_space
from colgen.space.pruning import parse_rules
from colgen.space.pruning import prune as apply_rules
from colgen.stop import Stop, Stopped


@dataclass(frozen=True)
class IlpOptions(CostOptions):
    """Options of method ``ilp`` (with the cost options ``objective``, ``budget`` and
    ``min_throughput`` of colgen/model/costs.py).

    ``formulation``: ``compact`` (default), ``tight`` or ``seed`` (docs/ilp.md). ``prune``: ``none``
    (default), ``safe`` or rule names (colgen/space/pruning.py). ``verbose``: the engine's own log.
    ``memory_limit_bytes``: the memory guard's limit (default 80 % of the available memory).
    """

    formulation: str = "compact"
    prune: str | tuple[str, ...] = "none"
    verbose: bool = False
    memory_limit_bytes: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.formulation not in FORMULATIONS:
            raise InputError("formulation", f"unknown formulation '{self.formulation}'",
                             f"use one of {', '.join(FORMULATIONS)}")


class _Progress:
    """The engine's incumbent and bound, in tokens/s, for the heartbeat and the convergence trace."""

    def __init__(self, scale: float, stop: Stop):
        self.scale, self.stop = scale, stop
        self.incumbent: float | None = None
        self.bound: float | None = None
        self.trace: list[dict[str, float | None]] = []

    def __call__(self, incumbent: float | None, bound: float | None) -> None:
        before = (self.incumbent, self.bound)
        if incumbent is not None:
            self.incumbent = incumbent * self.scale
        if bound is not None:
            self.bound = bound * self.scale
        if (self.incumbent, self.bound) != before:
            self.trace.append({"time_s": self.stop.elapsed(), "incumbent": self.incumbent, "bound": self.bound})

    def status(self) -> str:
        inc = "-" if self.incumbent is None else f"{self.incumbent:.6g}"
        bnd = "-" if self.bound is None else f"{self.bound:.6g}"
        gap = relative_gap(self.incumbent, self.bound)
        return (f"  ...  ilp: incumbent {inc} tokens/s, bound {bnd}, "
                f"gap {'-' if gap is None else f'{100 * gap:.3f}%'}  {self.stop.elapsed():7.2f}s")


def solve_ilp(instance: Instance, options: IlpOptions | None = None, *, stop: Stop | None = None,
              gap: float = 0.0, backend: str = "auto", log: Log | None = None,
              segments: set[tuple[int, int]] | None = None) -> Result:
    """Build and solve the full ILP over the allocations the pruning rules leave (none: every
    memory-feasible allocation). A model that would not fit in memory raises
    :class:`ModelTooLargeError` with the size estimate. ``segments``: those of the hierarchical rule."""
    options = options or IlpOptions()
    stop = stop or Stop()
    say = as_log(log)
    goal = Goal.of(instance, options.objective, options.budget, options.min_throughput)
    if not goal.plain:
        try:
            engine = IlpCosts(instance, options, stop=stop, gap=gap, backend=backend, log=say, segments=segments)
        except Stopped as why:
            return Result(instance=instance.name, method=f"ilp-{options.formulation}", status=why.reason,
                          placement=(), objective=None, bound=None, objective_kind=goal.objective,
                          goal=goal.to_dict(), timings={"build": stop.elapsed()})
        result = solve_goal(instance, goal, engine, f"ilp-{options.formulation}")
        result.timings.update(build=engine.build_seconds, solve=stop.elapsed() - engine.build_seconds)
        result.statistics.update(engine.statistics())
        return result
    formulation = options.formulation
    rules = parse_rules(options.prune)
    stats: dict = {"formulation": formulation, "prune": rules}
    incumbent: tuple = ()
    incumbent_value = 0.0
    try:
        if rules:
            space = apply_rules(instance, rules, log=say, stop=stop, segments=segments)
            incumbent, incumbent_value = space.incumbent, space.incumbent_value
            stats["prune_steps"] = [s.__dict__ for s in space.steps]
            say(f"ilp: building the {formulation} model on {len(space.alloc):,} allocations")
            model = build(space.instance, formulation, space.alloc, stop=stop,
                          memory_limit_bytes=options.memory_limit_bytes)
        else:
            est = estimate(instance, formulation, stop)
            stats["estimate"] = est.__dict__ | {"memory_bytes": est.memory_bytes}
            model = guarded_build(instance, formulation, options.memory_limit_bytes, say, stop)
    except Stopped as why:            # the deadline or an interrupt during pruning or the build
        say(f"ilp: {why.reason} before the model was built")
        bound = max(fluid_upper_bound(instance.tables), incumbent_value)
        return Result(instance=instance.name, method=f"ilp-{formulation}", status=why.reason, placement=incumbent,
                      objective=incumbent_value if incumbent else None, bound=bound if bound > 0 else None,
                      timings={"build": stop.elapsed(), "solve": 0.0}, statistics=stats)
    t_build = stop.elapsed()
    mm = model.model
    stats.update(columns=mm.num_cols, rows=mm.num_rows, nonzeros=mm.nnz, allocations=len(model.alloc))
    engine = get_backend(backend, mm.num_cols, mm.num_rows, say)
    stats["backend"] = engine.name
    progress = _Progress(model.scale, stop)
    if len(model.alloc) == 0:        # everything pruned: nothing beats the incumbent (or infeasible)
        out = MipOutcome("infeasible", None, None, None)
    else:
        say(f"ilp: solving with {engine.name} ({mm.num_cols:,} columns, {mm.num_rows:,} rows, {mm.nnz:,} nonzeros)")
        with Heartbeat(say, progress.status):
            out = engine.solve(mm, stop=stop, gap=gap, verbose=options.verbose, progress=progress)
    placement: tuple = ()
    objective = None
    if out.x is not None:
        placement = model.alloc.placement(np.nonzero(out.x[: len(model.alloc)] > 0.5)[0])
        objective = placement_throughput(instance, placement)
    bound = None if out.bound is None else out.bound * model.scale
    if bound is not None:
        bound = min(bound, model.upper)
    status = out.status
    if incumbent and (objective is None or objective < incumbent_value):
        # The bound rule removed everything no better than the incumbent: when the search below
        # it is infeasible (or ends early), the incumbent stands.
        placement, objective = incumbent, incumbent_value
        if status == "infeasible":
            status, bound = "optimal", incumbent_value
    if bound is not None and objective is not None:
        bound = max(bound, objective)
    if status == "infeasible":
        bound = None
    say(f"ilp: {status}" + (f", throughput {objective:.6g} tokens/s" if objective is not None else "")
        + (f", bound {bound:.6g}" if bound is not None else ""))
    stats.update(nodes=out.nodes, engine_message=out.message)
    return Result(instance=instance.name, method=f"ilp-{formulation}", status=status, placement=placement,
                  objective=objective, bound=bound,
                  timings={"build": t_build, "solve": out.seconds}, statistics=stats, trace=progress.trace)


class IlpCosts(CostEngine):
    """The primitives of colgen/goals.py on the full ILP (module docstring): the model is built
    once (after the pruning rules; the bound rule is left out, it is not safe for costs) and
    solved once per question with other bounds, objective or a budget row."""

    def __init__(self, instance: Instance, options: IlpOptions, *, stop: Stop, gap: float = 0.0,
                 backend: str = "auto", log: Log | None = None, segments: set[tuple[int, int]] | None = None):
        super().__init__(instance, stop, log)
        self.options, self.gap, self.backend = options, gap, backend
        prices = require_prices(instance, "a cost objective or budget")
        rules = parse_rules(options.prune)
        if "bound" in rules:
            self.say("ilp: the bound rule is left out: it keeps only allocations faster than a greedy placement, "
                     "which a cost objective or a budget may not want")
            rules = [r for r in rules if r != "bound"]
        self.stats: dict = {"formulation": options.formulation, "prune": rules}
        inst = instance
        if rules:
            space = apply_rules(instance, rules, log=self.say, stop=stop, segments=segments, prices=prices)
            inst = space.instance
            self.model: IlpModel = build(inst, options.formulation, space.alloc, stop=stop,
                                         memory_limit_bytes=options.memory_limit_bytes)
        else:
            self.model = guarded_build(instance, options.formulation, options.memory_limit_bytes, self.say, stop)
        self.build_seconds = stop.elapsed()
        alloc = self.model.alloc
        unit_price = np.array([prices[m].max() for m in alloc.units.members]) if alloc.units.count else np.zeros(0)
        self.cost = np.asarray(alloc.members @ unit_price).ravel()
        self.t = self.model.model.num_cols - 1          # the throughput variable is the last column
        self.V = class_space(inst.tables, limits=inst.stage_limits).candidates()
        mm = self.model.model
        self.stats.update(columns=mm.num_cols, rows=mm.num_rows, nonzeros=mm.nnz, allocations=len(alloc))

    def candidates(self) -> np.ndarray:
        return self.V

    def statistics(self) -> dict:
        return {**self.stats, "mips": self.solves}

    def _run(self, model: MatrixModel, what: str) -> tuple[str, Placement, float | None, float | None]:
        """Solve; (status, placement, objective, bound) in the model's units."""
        engine = get_backend(self.backend, model.num_cols, model.num_rows, self.say)
        self.solves += 1
        if not len(self.model.alloc):
            return "infeasible", (), None, None
        out = engine.solve(model, stop=self.stop, gap=self.gap, verbose=self.options.verbose)
        placement: Placement = ()
        if out.x is not None:
            placement = self.model.alloc.placement(np.nonzero(out.x[: len(self.model.alloc)] > 0.5)[0])
        self.say(f"  ilp {what}: {out.status}" + (f", objective {out.objective:.6g}" if out.objective is not None
                                                   else ""))
        return out.status, placement, out.objective, out.bound

    def max_throughput(self, budget: float | None) -> Answer:
        mm = self.model.model
        if budget is not None:
            dense = np.zeros(mm.num_cols)
            dense[: len(self.cost)] = self.cost                     # allocations first, then pairs and t
            row = sp.csr_matrix(dense[None, :])
            mm = dataclasses.replace(mm, A=sp.vstack([mm.A, row], format="csr"),
                                     row_lower=np.r_[mm.row_lower, -np.inf], row_upper=np.r_[mm.row_upper, budget])
        status, placement, _obj, bound = self._run(mm, "max throughput" + (f" within {budget:.6g} USD/h"
                                                                          if budget is not None else ""))
        scale = self.model.scale
        bound = None if bound is None or status == "infeasible" else min(bound * scale, self.model.upper)
        if placement and bound is not None:
            bound = max(bound, placement_throughput(self.instance, placement))
        return Answer(status, placement, bound)

    def cheapest_at(self, T: float) -> Answer:
        mm = self.model.model
        alloc = self.model.alloc
        lower, upper = mm.col_lower.copy(), mm.col_upper.copy()
        upper[: len(alloc)][alloc.tau < T * (1 - 1e-12)] = 0.0         # every stage reaches T
        lower[self.t] = min(T / self.model.scale, upper[self.t])        # and so does every link row
        c = np.zeros(mm.num_cols)
        c[: len(alloc)] = self.cost
        mm = dataclasses.replace(mm, c=c, col_lower=lower, col_upper=upper, maximize=False)
        status, placement, _obj, bound = self._run(mm, f"least cost at T={T:.6g}")
        if placement and placement_throughput(self.instance, placement) < T * (1 - 1e-6):
            raise RuntimeError("the ILP's placement is slower than its threshold (internal error)")
        return Answer(status, placement, None if status == "infeasible" else bound)


def lp_relaxation_bound(instance: Instance, formulation: str, *, stop: Stop | None = None,
                        memory_limit_bytes: int | None = None) -> float | None:
    """The LP relaxation's optimum in tokens/s (None when not solved in time)."""
    model = guarded_build(instance, formulation, memory_limit_bytes, stop=stop)
    out = HighsBackend().solve(model.model, stop=stop, relax=True)
    return None if out.status != "optimal" or out.objective is None else out.objective * model.scale
