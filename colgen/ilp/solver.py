"""Solving the full ILP: build (after pruning, under the memory guard), hand it to a backend, read
the placement back in tokens/s."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colgen.backends import MipOutcome, get_backend
from colgen.backends.highs import HighsBackend
from colgen.choices import FORMULATIONS
from colgen.errors import InputError
from colgen.ilp.model import build, guarded_build
from colgen.ilp.size import estimate
from colgen.model.costs import CostOptions
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Result, placement_throughput, relative_gap
from colgen.space.bounds import fluid_upper_bound
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


def lp_relaxation_bound(instance: Instance, formulation: str, *, stop: Stop | None = None,
                        memory_limit_bytes: int | None = None) -> float | None:
    """The LP relaxation's optimum in tokens/s (None when not solved in time)."""
    model = guarded_build(instance, formulation, memory_limit_bytes, stop=stop)
    out = HighsBackend().solve(model.model, stop=stop, relax=True)
    return None if out.status != "optimal" or out.objective is None else out.objective * model.scale
