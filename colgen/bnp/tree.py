"""Branch-and-price at one threshold T: column generation at a node, depth-first search over nodes.

A node is a list of branching decisions (colgen/bnp/branching.py). Its LP is the decision master
(colgen/bnp/master.py) restricted to the pool columns the decisions allow, grown by pricing
(colgen/bnp/pricing.py) until no column has positive value, with star rows separated lazily. An
infeasible node LP (a converged phase-1 objective above zero, or the Lagrangian bound proving it)
prunes the node; a node on which every branching rule is integral yields a placement.

:meth:`BranchAndPrice.cheapest_at` is the least-cost version at T: the node LP goes on to the
master's cost phase (``min sum cost_a z_a``, pricing with every class's price added to its
capacity dual), its value (or, before it converges, the Lagrangian bound ``LP - M * max value per
layer``) is a lower bound of the node, nodes that cannot beat the cheapest placement found are
pruned, and branching is the same. A node on which every rule is integral is solved: its
placement costs exactly its LP value (cost is linear in the class counts, which the node fixes per
segment).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from colgen.backends import get_backend
from colgen.bnp.branching import DEFAULT_RULES, BranchingRule, Decision, Fix, Fractional, Restrictions, branch
from colgen.bnp.heuristics import PoolMip
from colgen.bnp.master import Master
from colgen.bnp.options import BnpOptions
from colgen.bnp.pricing import ClassPricer, Pricer, PricingProblem
from colgen.bnp.probe import LP_FEASIBLE, REFUTED, UNDECIDED, Incumbent, Probe
from colgen.progress import Log
from colgen.result import Placement
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop, Stopped

#: Relative margin by which a node's lower bound must stay below the cheapest cost found to be explored.
COST_RTOL = 1e-9


@dataclass
class Cheapest:
    """The answer of :meth:`BranchAndPrice.cheapest_at`: the cheapest placement found (with its
    cost, USD per hour), a proven lower bound on the least cost, and ``status``: optimal (the
    placement is the cheapest), infeasible (none reaches T), or why the search stopped early."""

    status: str
    placement: Placement = ()
    cost: float = np.inf
    lower: float = 0.0


@dataclass
class Stats:
    master_solves: int = 0
    pricing_calls: int = 0
    pricing_seconds: float = 0.0
    lp_seconds: float = 0.0
    nodes: int = 0
    max_depth: int = 0
    thresholds: int = 0
    network_rows: int = 0


@dataclass
class TreeState:
    """Where the running tree is, for progress lines."""

    T: float = 0.0
    explored: int = 0
    open: int = 0
    depth: int = 0
    active: bool = False


class BranchAndPrice:
    """The decision master with its column pool, shared by every threshold and node of a run."""

    def __init__(self, space: ClassSpace, *, backend: str, options: BnpOptions, stop: Stop, log: Log,
                 incumbent: Incumbent, pool_mip: PoolMip, pricer: Pricer | None = None,
                 rules: tuple[BranchingRule, ...] = DEFAULT_RULES):
        self.space = space
        self.M, self.S, self.C = space.num_layers, space.num_shapes, space.num_classes
        self.avail = space.classes.sizes
        self.groups = space.type_groups() if space.single_type else None
        engine = get_backend(backend, 0, space.num_layers + space.num_classes, log, growing=True)
        self.master = Master(space, engine.new_lp(maximize=False))
        self.options, self.stop, self.say = options, stop, log
        self.incumbent, self.pool_mip = incumbent, pool_mip
        self.pricer = pricer or ClassPricer(announce=log, stop=stop)
        self.rules = rules
        self.stats = Stats()
        self.state = TreeState()

    # ------------------------------------------------------------------ one node
    def column_mask(self, T: float, decisions: list[Decision]) -> np.ndarray:
        """Pool columns allowed at this node: fast enough for T and compatible with every decision."""
        pool = self.master.pool
        mask = pool.view("tau") >= T
        for d in decisions:
            mask &= d.allows(pool)
        return mask

    def problem(self, eligible: np.ndarray, decisions: list[Decision]) -> PricingProblem:
        restrictions = Restrictions.of(decisions, self.M, self.avail, self.S) if decisions else None
        shapes = self.space.shapes
        return PricingProblem(duals=self.master.duals(), eligible=eligible, avail=self.avail, shape_r=shapes.r,
                              shape_t=shapes.t, restrictions=restrictions, groups=self.groups)

    def node_lp(self, T: float, eligible: np.ndarray, decisions: list[Decision]) -> bool:
        """Column generation at a node; True when its LP is feasible (solution left in the LP)."""
        master, opt = self.master, self.options
        master.set_cost_phase(False)
        master.drop_idle_rows(opt.row_age)
        master.enable(self.column_mask(T, decisions))
        return self._phase1(T, eligible, decisions)

    def _price(self, eligible: np.ndarray, decisions: list[Decision]):
        t = time.perf_counter()
        opt = self.options
        priced = self.pricer.price(self.problem(eligible, decisions), opt.columns_per_round, opt.price_eps)
        self.stats.pricing_seconds += time.perf_counter() - t
        self.stats.pricing_calls += 1
        return priced

    def _solve(self) -> float:
        t = time.perf_counter()
        obj = self.master.solve(self.stop)
        self.stats.lp_seconds += time.perf_counter() - t
        self.stats.master_solves += 1
        return obj

    def _phase1(self, T: float, eligible: np.ndarray, decisions: list[Decision]) -> bool:
        """Phase-1 column generation with star-row separation; True when the LP is feasible."""
        master, st, opt = self.master, self.stats, self.options
        while True:
            self.stop.check()
            obj = self._solve()
            if obj <= opt.feasibility_eps:
                rows = master.violated_rows(T)
                if not rows:
                    return True
                master.add_network_rows(rows)
                st.network_rows = len(master.net_keys)
                continue
            priced = self._price(eligible, decisions)
            # Lagrangian bound: the columns of any solution cover at most M layers in all
            # (sum_a z_a L_a <= M), so no solution gains more than M times the best value per layer.
            if obj - self.M * priced.best_per_layer > opt.feasibility_eps or not len(priced.value):
                return False
            if not master.add_columns(priced.start, priced.end, priced.shape, priced.counts):
                raise RuntimeError("pricing returned only columns already in the pool (internal error)")

    def cost_lp(self, T: float, eligible: np.ndarray, decisions: list[Decision], cutoff: float) -> float | None:
        """The node's least-cost LP (phase 1, then the cost phase) and its value, a lower bound on the
        cost of every placement of the node; None when the node is infeasible or its bound reaches
        ``cutoff`` (it cannot hold a cheaper placement)."""
        if not self.node_lp(T, eligible, decisions):
            return None
        master, st = self.master, self.stats
        margin = COST_RTOL * max(1.0, abs(cutoff)) if np.isfinite(cutoff) else 0.0
        while True:
            self.stop.check()
            master.set_cost_phase(True)
            obj = self._solve()
            if not np.isfinite(obj):
                return None            # numerically infeasible without the slacks: treat as infeasible
            rows = master.violated_rows(T)
            if rows:                   # a new star row may cut the phase-1 point: feasibility first
                master.add_network_rows(rows)
                st.network_rows = len(master.net_keys)
                master.set_cost_phase(False)
                if not self._phase1(T, eligible, decisions):
                    return None
                continue
            priced = self._price(eligible, decisions)
            lower = obj - self.M * priced.best_per_layer        # Lagrangian: sum_a z_a L_a = M
            if lower >= cutoff - margin:
                return None
            if not len(priced.value):
                return max(lower, 0.0)
            if not master.add_columns(priced.start, priced.end, priced.shape, priced.counts):
                raise RuntimeError("pricing returned only columns already in the pool (internal error)")

    def cheapest_at(self, T: float, eligible: np.ndarray, upper: Placement = (),
                    node_budget: int | None = None) -> Cheapest:
        """Least-cost branch-and-price at T (module docstring), depth first; ``upper``: a placement
        reaching T known beforehand (its cost prunes from the start). A time limit or interrupt
        returns the cheapest placement so far with the proven lower bound (the least bound of the
        open nodes)."""
        space = self.space
        self.master.set_threshold_rows(T)
        self.master.drop_columns(self.master.pool.view("tau") < T)
        best, best_cost = upper, space.placement_cost(upper) if upper else np.inf
        stack: list[tuple[list[Decision], float]] = [([], 0.0)]
        explored, parent = 0, 0.0
        self.state = TreeState(T=T, active=True)

        def lower(here: float) -> float:
            return min([best_cost, here] + [lb for _, lb in stack])

        def offer(placement: Placement | None) -> None:
            nonlocal best, best_cost
            if placement:
                cost = space.placement_cost(placement)
                if cost < best_cost:
                    best, best_cost = placement, cost

        try:
            while stack:
                decisions, parent = stack.pop()
                if parent >= best_cost - COST_RTOL * max(1.0, best_cost):
                    continue
                if node_budget is not None and explored >= node_budget:
                    return Cheapest("node_limit", best, best_cost, lower(parent))
                self.stats.nodes += 1
                explored += 1
                self.state = TreeState(T, explored, len(stack), len(decisions), True)
                self.stats.max_depth = max(self.stats.max_depth, len(decisions))
                value = self.cost_lp(T, eligible, decisions, best_cost)
                if value is None:
                    continue
                result = branch(self.rules, self.fractional())
                if not isinstance(result, tuple):
                    offer(self.placement(result))
                    continue
                if explored == 1 or explored % self.options.heuristic_every == 0:
                    offer(self.pool_mip(self.master.pool, T, self.options.pool_mip_nodes, cheapest=True,
                                        cutoff=best_cost))
                first, second = result
                stack.append(([*decisions, second], value))
                stack.append(([*decisions, first], value))
            if not best:
                return Cheapest("infeasible")
            return Cheapest("optimal", best, best_cost, best_cost)
        except Stopped as why:
            return Cheapest(why.reason, best, best_cost, lower(parent))
        finally:
            self.state.active = False

    def fractional(self) -> Fractional:
        """The node's LP solution on its active columns, as the branching rules read it."""
        p = self.master.pool
        z = self.master.values()
        act = np.nonzero(z > 1e-9)[0]
        return Fractional(M=self.M, S=self.S, avail=self.avail, start=p.start[act], end=p.end[act],
                          shape=p.shape[act], counts=p.counts[act], z=z[act], network_rows=bool(self.master.net_keys))

    def placement(self, stages: list[tuple[int, int, np.ndarray, int]]) -> Placement:
        """Integral stages (first, last, class counts, shape) as a placement with GPU ids."""
        t = self.space.shapes.t
        return self.space.classes.assign([(a, b, n, int(t[s])) for a, b, n, s in stages])

    # ------------------------------------------------------------------ one threshold
    def prepare(self, T: float) -> None:
        """Switch the star rows to T's validity; drop columns that can serve no threshold still open."""
        self.master.set_threshold_rows(T)
        if self.incumbent:
            self.master.drop_columns(self.master.pool.view("tau") <= self.incumbent.value)

    def feasible_at(self, T: float, eligible: np.ndarray, root_only: bool = False,
                    node_budget: int | None = None) -> Probe:
        """Depth-first branch-and-price at T (only the root LP when ``root_only``)."""
        self.prepare(T)
        stack: list[list[Decision]] = [[]]
        explored = 0
        self.state = TreeState(T=T, active=True)
        try:
            while stack:
                if self.incumbent.value >= T:          # settled elsewhere (a heuristic reached T)
                    return LP_FEASIBLE if root_only else Probe.found(self.incumbent.placement)
                if node_budget is not None and explored >= node_budget:
                    return UNDECIDED
                decisions = stack.pop()
                self.stats.nodes += 1
                explored += 1
                self.state = TreeState(T, explored, len(stack), len(decisions), True)
                if explored % self.options.heuristic_every == 0:
                    found = self.pool_heuristic(T)
                    if found:
                        return Probe.found(found)
                self.stats.max_depth = max(self.stats.max_depth, len(decisions))
                if not self.node_lp(T, eligible, decisions):
                    continue
                if root_only:
                    return LP_FEASIBLE
                result = branch(self.rules, self.fractional())
                if isinstance(result, tuple):
                    first, second = result
                    stack.append([*decisions, second])
                    stack.append([*decisions, first])
                    continue
                return Probe.found(self.placement(result))
            return REFUTED
        finally:
            self.state.active = False

    # ------------------------------------------------------------------ primal heuristics on the pool
    def pool_heuristic(self, T: float) -> Placement | None:
        """Inside a tree at T: a pool placement reaching T ends the tree; failing that, any
        placement better than the incumbent is kept (the tree goes on)."""
        nodes = self.options.pool_mip_nodes
        found = self.pool_mip(self.master.pool, T, nodes)
        if found:
            self.incumbent.offer(found)
            return found
        if self.incumbent:
            better = self.pool_mip(self.master.pool, self.incumbent.value * (1 + 1e-9), nodes)
            if better:
                self.incumbent.offer(better)
        return None

    def dive(self, T: float, eligible: np.ndarray) -> Placement | None:
        """Fix the column of largest LP value as a stage, re-price, repeat, without backtracking:
        at most one column generation per layer."""
        self.prepare(T)
        decisions: list[Decision] = []
        fixed: set[int] = set()
        for _ in range(self.M):
            self.stats.nodes += 1
            if not self.node_lp(T, eligible, decisions):
                return None
            result = branch(self.rules, self.fractional())
            if not isinstance(result, tuple):
                return self.placement(result)
            z = self.master.values()
            z[list(fixed)] = -1.0
            a = int(np.argmax(z))
            fixed.add(a)
            p = self.master.pool
            decisions.append(Fix(int(p.start[a]), int(p.end[a]), a))
        return None
