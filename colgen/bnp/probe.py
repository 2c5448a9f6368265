"""What answering one threshold can say, and the incumbent every part of the search shares."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

from colgen.model.costs import LIMIT_RTOL
from colgen.model.instance import Instance
from colgen.result import Placement, meets_limits, placement_cost, placement_throughput


class Outcome(Enum):
    """The answer to "is there a placement with every stage and link >= T?"."""

    PLACEMENT = "placement"        #: yes, here is one (often worth more than T)
    REFUTED = "refuted"            #: proven: no placement reaches T
    LP_FEASIBLE = "lp-feasible"    #: the root LP admits T (a root-only probe: undecided)
    UNDECIDED = "undecided"        #: the node budget ran out first


@dataclass(frozen=True)
class Probe:
    """An answer, and which part of the search gave it (``by``: ``config``, ``component``,
    ``walk``, ``group path``, ``tree``; empty for a heuristic's placement)."""

    outcome: Outcome
    placement: Placement = ()
    by: str = ""

    @classmethod
    def found(cls, placement: Placement) -> Probe:
        return cls(Outcome.PLACEMENT, placement)


REFUTED = Probe(Outcome.REFUTED)
LP_FEASIBLE = Probe(Outcome.LP_FEASIBLE)
UNDECIDED = Probe(Outcome.UNDECIDED)


class Incumbent:
    """The best placement found so far, offered to by the search, the trees and the heuristics."""

    def __init__(self, instance: Instance, start: float | None = None, budget: float | None = None):
        self.instance, self.budget = instance, budget
        self.start = time.perf_counter() if start is None else start
        self.placement: Placement = ()
        self.value = 0.0
        self.first_found: float | None = None
        self.last_improved: float | None = None

    def __bool__(self) -> bool:
        return bool(self.placement)

    def offer(self, placement: Placement) -> float:
        """Keep ``placement`` if it is better; return its value (throughput, tokens/s), 0 for a
        placement that breaks the stage limits or the budget (heuristics may build one)."""
        if not meets_limits(self.instance, placement):
            return 0.0
        if self.budget is not None and placement_cost(self.instance, placement) > self.budget * (1 + LIMIT_RTOL):
            return 0.0
        value = placement_throughput(self.instance, placement)
        if value > self.value:
            self.placement, self.value = placement, value
            now = time.perf_counter() - self.start
            self.first_found = now if self.first_found is None else self.first_found
            self.last_improved = now
        return value
