"""The schedule of primal heuristics: when each runs during the threshold search, with which budget.

* start: the greedy (colgen/space/greedy.py) gives the first incumbent;
* ladder, after the bisection: at targets stepping down from the bound, the root LP (which prices
  columns for that target), then the pool MIP and a multi-start greedy; failing all, a dive halfway
  between the incumbent and the bound;
* climb, after the ladder and after every tree that runs out of budget: just above the incumbent,
  the root LP prices columns and the pool MIP looks for a placement among them, while it succeeds;
* inside a tree, every ``heuristic_every`` nodes: the pool MIP (colgen/bnp/tree.py).

Every budget is a count (pool-MIP nodes, greedy attempts, one column generation per layer in a dive),
never a share of the clock.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from colgen.bnp.heuristics import multistart
from colgen.bnp.options import BnpOptions
from colgen.bnp.probe import Incumbent, Outcome, Probe
from colgen.bnp.tree import BranchAndPrice
from colgen.space.class_space import ClassSpace
from colgen.space.greedy import greedy_placement


class Thresholds(Protocol):
    """What the schedule reads of and asks from the threshold search."""

    V: np.ndarray          #: candidate values, ascending
    hi: int                #: candidates V[hi:] are refuted
    activity: str          #: what the search is doing, for progress lines

    def done(self) -> bool: ...

    def first_above(self, value: float) -> int: ...

    def probe(self, T: float, integer: bool) -> Probe: ...

    def record(self, T: float, phase: str, probe: Probe) -> None: ...


class PrimalSchedule:
    def __init__(self, space: ClassSpace, tree: BranchAndPrice, incumbent: Incumbent, options: BnpOptions):
        self.space, self.tree, self.incumbent, self.options = space, tree, incumbent, options
        self.rng = np.random.default_rng(0)

    def start(self) -> Probe | None:
        """The greedy's placement (None under the same-type rule: the greedy mixes types)."""
        if self.space.single_type:
            return None
        found = greedy_placement(self.space, self.tree.stop)
        return Probe.found(found) if found else None

    def ladder(self, search: Thresholds) -> None:
        """Incumbents near the bound, stepping down from it."""
        top = float(search.V[search.hi - 1]) if search.hi > 0 else 0.0
        for step in self.options.ladder:
            if search.hi == 0:
                return
            idx = min(search.hi - 1, int(np.searchsorted(search.V, top * (1 - step), side="left")))
            T = float(search.V[idx])
            if self.incumbent.value >= T:
                break
            answer = search.probe(T, integer=False)
            if answer.outcome is not Outcome.LP_FEASIBLE:
                search.record(T, "heur", answer)
                if answer.outcome is Outcome.REFUTED:
                    continue
                break
            search.activity = f"ladder: pool MIP at T={T:.6g}"
            found = (self.tree.pool_mip(self.tree.master.pool, T, self.options.pool_mip_nodes)
                     or multistart(self.space, T, self.options.multistart, self.rng, self.tree.stop))
            if found:
                search.record(T, "heur", Probe.found(found))
                break
        self.dive_between(search)

    def dive_between(self, search: Thresholds) -> None:
        """A dive at the candidate halfway between the incumbent and the bound."""
        lo = search.first_above(self.incumbent.value) if self.incumbent else 0
        if lo >= search.hi:
            return
        T = float(search.V[(lo + search.hi - 1) // 2])
        search.activity = f"dive at T={T:.6g}"
        found = self.tree.dive(T, self.space.eligible(T))
        if found:
            search.record(T, "dive", Probe.found(found))

    def climb(self, search: Thresholds) -> None:
        """Better incumbents from below, while the pool MIP finds them just above the incumbent
        (each step is cheap near the incumbent, where the LP is far from tight)."""
        while not search.done():
            T = float(search.V[search.first_above(self.incumbent.value)])
            answer = search.probe(T, integer=False)
            if answer.outcome is not Outcome.LP_FEASIBLE:     # refuted, or decided exactly
                search.record(T, "clmb", answer)
                if answer.outcome is Outcome.PLACEMENT and self.incumbent.value < T:
                    return          # a placement below its target would loop here: never trust it
                continue
            search.activity = f"climb: pool MIP at T={T:.6g}"
            found = self.tree.pool_mip(self.tree.master.pool, T, self.options.pool_mip_nodes)
            if not found:
                return
            search.record(T, "clmb", Probe.found(found))
