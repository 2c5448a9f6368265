"""Branch-and-price: proven optimal placements without enumerating the allocation space.

The objective is a bottleneck (max-min), so colgen searches over the finite set of values the
optimum can take (every stage and link throughput, :meth:`ClassSpace.candidates`) and answers, for
a target T, "is there a placement with every stage and link at least T?" (a *probe*):

1. *LP phase*: bisection over the candidates, each answered cheaply: exactly where no link can bind
   (colgen/bnp/configurations.py), else by the decision master's root LP (colgen/bnp/tree.py). An
   infeasible LP refutes T; the largest candidate not refuted is the global bound.
2. *Integer phase*: primal heuristics (colgen/bnp/primal.py), then depth-first branch-and-price
   trees with a node budget: the top candidate first, then bisection between the incumbent and the
   bound. A tree that runs out of budget caps the search from above until the region below it is
   settled; then the budget grows fourfold and the search restarts from the top. Every exhausted
   tree refutes its T; every integral node gives a placement (often worth more than T).

The reported bound is the largest candidate not refuted (or the incumbent), so it is always valid.

Under a budget (USD per hour) every exact answer carries the budget: the decision master and the
pool MIP have a budget row, the configurations too, and the incumbent refuses a placement above
it, so feasibility stays monotone in T and the same search applies. :class:`BnpCosts` provides the
primitives of colgen/goals.py (the least cost at a threshold, the throughput under a budget), with
one class space split by price and one master whose column pool every threshold of a frontier walk
reuses.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

import numpy as np

from colgen.bnp.components import component_check
from colgen.bnp.configurations import decide, network_free
from colgen.bnp.group_path import best_group_path, group_path
from colgen.bnp.heuristics import PoolMip
from colgen.bnp.options import BnpOptions
from colgen.bnp.primal import PrimalSchedule
from colgen.bnp.probe import REFUTED, Incumbent, Outcome, Probe
from colgen.bnp.relabel import MAX_SWAPS, relabel
from colgen.bnp.stage_walk import cheapest_walk, stage_walk
from colgen.bnp.tree import BranchAndPrice
from colgen.goals import Answer, CostEngine, solve_goal
from colgen.model.costs import Goal, require_prices
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Placement, Result, placement_throughput, relative_gap
from colgen.space.class_space import ClassSpace, class_space
from colgen.space.greedy import greedy_at
from colgen.space.near_symmetry import near_labels, rounded
from colgen.space.pruning import parse_rules, smaller_k
from colgen.stop import Stop, Stopped


class ThresholdSearch:
    """The outer search over candidate values, with the incumbent and the global bound."""

    def __init__(self, space: ClassSpace, tree: BranchAndPrice, primal: PrimalSchedule, incumbent: Incumbent,
                 *, options: BnpOptions, gap: float, backend: str, stop: Stop, log: Log,
                 near: NearSearch | None = None, max_nodes: int | None = None, target: float = np.inf):
        self.space, self.tree, self.primal, self.incumbent = space, tree, primal, incumbent
        self.options, self.gap, self.backend, self.stop, self.say = options, gap, backend, stop, log
        self.near, self.max_nodes, self.target = near, max_nodes, target
        self.walk_spent = 0.0                   # the stage walk ran out of budget at this threshold
        self.answers: dict[str, int] = {}       # "part: outcome" -> how many probes it answered
        self.links_bind = not bool((space.classes.rho >= space.upper).all())
        self.V = space.candidates()
        self.hi = len(self.V)                   # candidates V[hi:] are refuted
        self.activity = "starting"
        self.trace: list[dict[str, float | None]] = []   # (time, incumbent, bound) at every logged step

    # ------------------------------------------------------------------ state
    def bound(self) -> float:
        top = float(self.V[self.hi - 1]) if self.hi > 0 else 0.0
        return max(self.incumbent.value, top)

    def first_above(self, value: float) -> int:
        return int(np.searchsorted(self.V, value, side="right"))

    def done(self) -> bool:
        """Proven (or within the gap); for a search run as a heuristic, also its node budget
        spent or its target reached."""
        if self.hi <= (self.first_above(self.incumbent.value) if self.incumbent else 0):
            return True
        if self.incumbent.value >= self.target or (self.max_nodes is not None
                                                   and self.tree.stats.nodes >= self.max_nodes):
            return True
        return bool(self.incumbent) and relative_gap(self.incumbent.value, self.bound()) <= self.gap

    def status(self) -> str:
        """The current state in one line (the heartbeat prints it during long steps)."""
        g = relative_gap(self.incumbent.value, self.bound()) if self.incumbent else None
        inc = f"{self.incumbent.value:.6g}" if self.incumbent else "-"
        st, tree = self.tree.stats, self.tree.state
        where = (f"T={tree.T:.6g} node {tree.explored} open {tree.open} depth {tree.depth}" if tree.active
                 else self.activity)
        return (f"  ...  {where}; nodes {st.nodes}, cols {self.tree.master.pool.n}, bound {self.bound():.6g}, "
                f"incumbent {inc}, gap {'-' if g is None else f'{100 * g:.3f}%'}  {self.stop.elapsed():7.2f}s")

    def line(self, T: float, phase: str, outcome: str) -> None:
        g = relative_gap(self.incumbent.value, self.bound()) if self.incumbent else None
        inc = f"{self.incumbent.value:.6g}" if self.incumbent else "-"
        self.trace.append({"time_s": self.stop.elapsed(), "incumbent": self.incumbent.value if self.incumbent
                           else None, "bound": self.bound()})
        self.say(f"  {phase:<4} T={T:<12.6g} {outcome:<23} nodes {self.tree.stats.nodes:>6}  "
                 f"cols {self.tree.master.pool.n:>7}  bound {self.bound():<12.6g} incumbent {inc:<12} "
                 f"gap {'-' if g is None else f'{100 * g:.3f}%':>8}  {self.stop.elapsed():7.2f}s")

    # ------------------------------------------------------------------ probes
    def probe(self, T: float, integer: bool, node_budget: int | None = None) -> Probe:
        """Decide T exactly where no link can bind (configurations); where links bind, try the
        component bound, the stage walk and the group path first; else branch-and-price (only its
        root LP unless ``integer``). The answer names the part that gave it, and is counted."""
        self.tree.stats.thresholds += 1
        self.activity = f"probe at T={T:.6g}"
        answer, by = self._answer(T, integer, node_budget)
        key = f"{by}: {answer.outcome.value}"
        self.answers[key] = self.answers.get(key, 0) + 1
        return replace(answer, by=by)

    def _answer(self, T: float, integer: bool, node_budget: int | None) -> tuple[Probe, str]:
        eligible = self.space.eligible(T)
        opt = self.options
        if opt.configurations and network_free(self.space, T, eligible):
            answer = decide(self.space, eligible, backend=self.backend, stop=self.stop)
            if answer is False:
                return REFUTED, "config"
            if answer:
                return Probe.found(answer), "config"
        elif opt.network_checks:
            checked = component_check(self.space, T, eligible, backend=self.backend, stop=self.stop)
            if checked is not None:
                return checked, "component"
            walked = self.walk(T, eligible)
            if walked is not None and (walked.outcome is Outcome.REFUTED
                                       or self.incumbent.offer(walked.placement) >= T):
                return walked, "walk"
            found = group_path(self.space, T, eligible, opt.path_nodes, backend=self.backend, stop=self.stop)
            if found and self.incumbent.offer(found) >= T:
                return Probe.found(found), "group path"
        return self.tree.feasible_at(T, eligible, root_only=not integer, node_budget=node_budget), "tree"

    def walk(self, T: float, eligible: np.ndarray) -> Probe | None:
        """The stage walk (colgen/bnp/stage_walk.py), skipped at and below a threshold where it ran
        out of budget: lower thresholds leave more links, and more walks, to search."""
        if self.walk_spent >= T:
            return None
        self.activity = f"stage walk at T={T:.6g}"
        walked = stage_walk(self.space, T, eligible, self.options.walk_nodes, stop=self.stop)
        if walked is None:
            self.walk_spent = max(self.walk_spent, T)
        return walked

    def record(self, T: float, phase: str, probe: Probe) -> None:
        if probe.outcome is Outcome.REFUTED:
            self.hi = min(self.hi, int(np.searchsorted(self.V, T, side="left")))
        elif probe.outcome is Outcome.PLACEMENT:
            self.incumbent.offer(probe.placement)
        self.line(T, phase, f"{probe.outcome.value} ({probe.by})" if probe.by else probe.outcome.value)

    # ------------------------------------------------------------------ the search
    def run(self, lp_only: bool = False) -> None:
        """The search; ``lp_only`` stops after the bisection (the root-LP bound, for studies)."""
        V = self.V
        first = self.primal.start()
        if first is not None:
            self.incumbent.offer(first.placement)
            self.line(self.incumbent.value, "init", "greedy")
        if self.options.network_checks and self.links_bind:
            self.activity = "group paths"
            found = best_group_path(self.space, self.options.path_nodes, self.incumbent.value,
                                    backend=self.backend, stop=self.stop)
            if found and self.incumbent.offer(found) >= self.incumbent.value:
                self.line(self.incumbent.value, "init", "group path")
        # Bisection with the cheap answers: exact where no link can bind, the root LP elsewhere.
        a, b = 0, self.hi - 1
        while a <= b:
            mid = (a + b) // 2
            answer = self.probe(float(V[mid]), integer=False)
            self.record(float(V[mid]), "bis", answer)
            if answer.outcome is Outcome.REFUTED:
                b = self.hi - 1
            else:
                a = max(mid + 1, self.first_above(self.incumbent.value) if self.incumbent else 0)
        if lp_only:
            return
        if not self.done() and self.near is not None:
            self.activity = f"searches on the network rounded to {self.near.classes} near classes"
            found = self.near(self.bound(), self.say)
            if found and self.incumbent.offer(found) >= self.incumbent.value:
                self.line(self.incumbent.value, "near", "placement")
        if not self.done():
            self.primal.ladder(self)
        if not self.done():
            self.primal.climb(self)
        budget, cap, top_first = self.tree.options.node_budget, self.hi, True
        while not self.done():
            lo = self.first_above(self.incumbent.value) if self.incumbent else 0
            if lo >= cap:
                budget, cap, top_first = 4 * budget, self.hi, True
            idx = cap - 1 if top_first else (lo + cap - 1) // 2
            top_first = False
            answer = self.probe(float(V[idx]), integer=True, node_budget=budget)
            self.record(float(V[idx]), "int", answer)
            if answer.outcome is Outcome.UNDECIDED:
                cap = idx
                self.primal.climb(self)     # the tree priced new columns: they may hold a better placement
            cap = min(cap, self.hi)


def _space(instance: Instance, options: BnpOptions, prices: np.ndarray | None = None,
           budget: float | None = None) -> tuple[Instance, ClassSpace]:
    """The instance the rules leave (``smaller-k``) and its class space (with prices: split by price)."""
    rules = parse_rules(options.prune)
    if "hierarchical" in rules:
        raise ValueError("the hierarchical rule applies to the full ILP only")
    inst = smaller_k(instance) if "smaller-k" in rules else instance
    space = class_space(inst.tables, symmetry="symmetry" in rules, single_type="same-type" in rules,
                        limits=inst.stage_limits, prices=prices, budget=budget)
    return inst, space


class NearSearch:
    """Threshold searches on the network rounded to near classes (colgen/space/near_symmetry.py),
    run as a primal heuristic, each within a node budget and ending once it reaches the real
    search's bound:

    * rounded **down**: every placement it finds is a placement of the real instance, at least as
      fast there;
    * rounded **up**, where rounding down found nothing that reaches the bound: rounding down
      forbids every link that straddles a threshold (some node pairs of two regions reach it,
      others do not); rounded up, the search finds the fast shape that crosses them, and
      relabelling picks the node pairs that carry the crossings (its placement may be slower on
      the real network than rounded up, and is valued there).

    Every placement found is relabelled on the real network (colgen/bnp/relabel.py); the fastest
    there is the answer."""

    def __init__(self, real: Instance, label: np.ndarray, spaces: dict[str, tuple[Instance, ClassSpace]],
                 options: BnpOptions, *, stop: Stop, backend: str, budget: float | None):
        self.real, self.label, self.spaces = real, label, spaces
        self.options = replace(options, near_symmetry=0.0)
        self.stop, self.backend, self.budget = stop, backend, budget
        self.classes = spaces["down"][1].num_classes

    @classmethod
    def of(cls, inst: Instance, space: ClassSpace, options: BnpOptions, *, stop: Stop, backend: str,
           prices: np.ndarray | None, budget: float | None) -> NearSearch | None:
        """The heuristic when links bind and rounding the network leaves fewer classes, else None."""
        if not options.near_symmetry or not options.network_checks or (space.classes.rho >= space.upper).all():
            return None
        label = near_labels(inst, space.upper / inst.tables.link_scale, options.near_symmetry)
        if label is None:
            return None
        spaces = {how: _space(rounded(inst, label, up=how == "up"), options, prices, budget) for how in ("down", "up")}
        if spaces["down"][1].num_classes >= space.num_classes:
            return None
        return cls(inst, label, spaces, options, stop=stop, backend=backend, budget=budget)

    def __call__(self, target: float, log: Log) -> Placement:
        """The fastest placement (on the real network) found within the node budgets."""
        sub = Log((lambda line: log(f"  near  {line.lstrip()}")) if log.enabled else None)
        best: Placement = ()
        best_value = 0.0
        for how, (inst, space) in self.spaces.items():
            search = _wire(inst, space, self.options, stop=self.stop, gap=0.0, backend=self.backend, log=sub,
                           budget=self.budget, max_nodes=self.options.near_nodes, target=target)
            sub(f"network rounded {how} to {space.num_classes} classes; at most {self.options.near_nodes} nodes")
            with suppress(Stopped):     # the run's deadline: the caller sees it at its next step
                search.run()
            found = search.incumbent.placement
            if found:
                found = relabel(self.real, found, self.label, MAX_SWAPS)
                value = placement_throughput(self.real, found)
                sub(f"rounded {how}: {value:.6g} tokens/s on the real network, relabelled")
                if value > best_value:
                    best, best_value = found, value
            if best_value >= target or self.stop.reason():
                break
        return best


def _engine(instance: Instance, options: BnpOptions, *, stop: Stop, gap: float, backend: str,
            log: Log, prices: np.ndarray | None = None,
            budget: float | None = None) -> tuple[Instance, ClassSpace, ThresholdSearch] | None:
    """The search's parts, wired once (None when the fluid bound already proves infeasibility)."""
    inst, space = _space(instance, options, prices, budget)
    V = space.candidates()
    log(f"bnp: {inst.num_layers} layers, {inst.num_gpus} GPUs in {space.num_classes} classes, "
        f"K={space.max_k}; {len(V)} candidate values; fluid bound {space.upper:.6g}"
        + (f"; budget {budget:.6g} USD per hour" if budget is not None else ""))
    if space.upper <= 0 or not len(V):
        return None
    near = NearSearch.of(inst, space, options, stop=stop, backend=backend, prices=prices, budget=budget)
    return inst, space, _wire(inst, space, options, stop=stop, gap=gap, backend=backend, log=log, budget=budget,
                              near=near)


def _wire(inst: Instance, space: ClassSpace, options: BnpOptions, *, stop: Stop, gap: float, backend: str,
          log: Log, budget: float | None, near: NearSearch | None = None, max_nodes: int | None = None,
          target: float = np.inf) -> ThresholdSearch:
    """A threshold search and its parts on one class space (the real one, or a rounded one)."""
    incumbent = Incumbent(inst, stop.start, budget)
    pool_mip = PoolMip(space, backend, stop)
    tree = BranchAndPrice(space, backend=backend, options=options, stop=stop, log=log, incumbent=incumbent,
                          pool_mip=pool_mip)
    primal = PrimalSchedule(space, tree, incumbent, options)
    return ThresholdSearch(space, tree, primal, incumbent, options=options, gap=gap, backend=backend, stop=stop,
                           log=log, near=near, max_nodes=max_nodes, target=target)


def solve_bnp(instance: Instance, options: BnpOptions | None = None, *, stop: Stop | None = None,
              gap: float = 0.0, backend: str = "auto", log: Log | None = None) -> Result:
    """Branch-and-price over the threshold candidates (see the module docstring); a cost objective
    or limit (``options.objective``, ``budget``, ``min_throughput``, the instance's costs block) is
    answered by colgen/goals.py on :class:`BnpCosts`."""
    options = options or BnpOptions()
    stop = stop or Stop()
    say = as_log(log)
    goal = Goal.of(instance, options.objective, options.budget, options.min_throughput)
    if not goal.plain:
        engine = BnpCosts(instance, options, stop=stop, gap=gap, backend=backend, log=say)
        result = solve_goal(instance, goal, engine, "bnp")
        result.timings["solve"] = stop.elapsed()
        result.statistics.update(engine.statistics())
        return result
    return _fastest(instance, options, stop=stop, gap=gap, backend=backend, log=say)


def _fastest(instance: Instance, options: BnpOptions, *, stop: Stop, gap: float, backend: str, log: Log,
             prices: np.ndarray | None = None, budget: float | None = None) -> Result:
    """The threshold search for the largest throughput (within ``budget`` USD per hour)."""
    say = log
    parts = _engine(instance, options, stop=stop, gap=gap, backend=backend, log=say, prices=prices, budget=budget)
    if parts is None:
        return Result(instance.name, "bnp", "infeasible", (), None, None, timings={"solve": stop.elapsed()})
    _inst, space, search = parts
    status = "optimal"
    with Heartbeat(say, search.status):
        try:
            search.run()
        except Stopped as why:
            status = why.reason
            say(f"  stopped ({status})")
    inc = search.incumbent
    if status == "optimal" and not inc:
        status = "infeasible"
    st, elapsed = search.tree.stats, stop.elapsed()
    statistics = {
        "classes": space.num_classes, "candidates": len(search.V), "columns": search.tree.master.pool.n,
        "master_solves": st.master_solves, "pricing_calls": st.pricing_calls,
        "pricing_time_share": st.pricing_seconds / elapsed if elapsed else 0.0,
        "lp_time_share": st.lp_seconds / elapsed if elapsed else 0.0,
        "nodes": st.nodes, "max_depth": st.max_depth, "thresholds_tested": st.thresholds,
        "network_rows": st.network_rows, "pool_mips": search.tree.pool_mip.runs,
        "time_to_first_incumbent": inc.first_found, "time_to_best": inc.last_improved,
        "near_classes": search.near.classes if search.near is not None else None,
        "answers": dict(sorted(search.answers.items())),
    }
    return Result(instance.name, "bnp", status, inc.placement, inc.value if inc else None,
                  search.bound() if status != "infeasible" else None,
                  timings={"solve": elapsed}, statistics=statistics, trace=search.trace)


def threshold_lp_bound(instance: Instance, stop: Stop | None = None) -> float | None:
    """The global bound after the bisection when every threshold is answered by the decision
    master's root LP: the LP bound of the threshold master (for comparisons with other masters)."""
    stop = stop or Stop()
    parts = _engine(instance, BnpOptions(configurations=False, network_checks=False), stop=stop, gap=0.0,
                    backend="highs", log=Log())
    if parts is None:
        return None
    try:
        parts[2].run(lp_only=True)
    except Stopped:
        return None
    return parts[2].bound()


class BnpCosts(CostEngine):
    """The primitives of colgen/goals.py by branch-and-price.

    ``cheapest_at(T)``: T is raised to the first candidate value >= T (a placement's throughput is
    one); where no link can bind the configuration ILP answers it exactly with a cost objective,
    else the component bound may refute T and the least-cost stage walk (colgen/bnp/stage_walk.py)
    may answer it exactly within its node budget; failing both, the least-cost branch-and-price
    (colgen/bnp/tree.py), started from the greedy's placement at T. One master serves every
    threshold: a frontier walk climbs the thresholds and keeps every column fast enough for the
    next ones (warm starts). ``max_throughput(budget)``: the threshold search with a budget row."""

    def __init__(self, instance: Instance, options: BnpOptions, *, stop: Stop, gap: float = 0.0,
                 backend: str = "auto", log: Log | None = None):
        super().__init__(instance, stop, log)
        self.options, self.gap, self.backend = options, gap, backend
        self.prices = require_prices(instance, "a cost objective or budget")
        self.inst, self.space = _space(instance, options, self.prices)
        self.V = self.space.candidates()
        self.tree: BranchAndPrice | None = None
        self.searches: list[dict] = []
        self.walked = 0

    def candidates(self) -> np.ndarray:
        return self.V

    def _tree(self) -> BranchAndPrice:
        if self.tree is None:
            self.tree = BranchAndPrice(self.space, backend=self.backend, options=self.options, stop=self.stop,
                                       log=self.say, incumbent=Incumbent(self.inst, self.stop.start),
                                       pool_mip=PoolMip(self.space, self.backend, self.stop))
        return self.tree

    def status(self) -> str:
        state = self.tree.state if self.tree is not None else None
        if state is None or not state.active:
            return super().status()
        return (f"  ... least cost at T={state.T:.6g}: {state.explored} nodes, {state.open} open, depth {state.depth}; "
                f"{self.walked} thresholds asked, {self.stop.elapsed():.1f}s")

    def statistics(self) -> dict:
        out = {"classes": self.space.num_classes, "candidates": len(self.V), "thresholds_walked": self.walked}
        if self.tree is not None:
            st = self.tree.stats
            out.update(columns=self.tree.master.pool.n, master_solves=st.master_solves,
                       pricing_calls=st.pricing_calls, nodes=st.nodes)
        if self.searches:
            out["throughput_searches"] = self.searches
        return out

    def max_throughput(self, budget: float | None) -> Answer:
        r = _fastest(self.instance, self.options, stop=self.stop, gap=self.gap, backend=self.backend, log=self.say,
                     prices=self.prices, budget=budget)
        self.searches.append({"budget": budget, "status": r.status, "nodes": r.statistics.get("nodes")})
        return Answer(r.status, r.placement, r.bound)

    def cheapest_at(self, T: float) -> Answer:
        i = int(np.searchsorted(self.V, T * (1 - 1e-12), side="left"))
        self.walked += 1
        if i >= len(self.V):
            return Answer("infeasible")
        T = float(self.V[i])
        space, opt = self.space, self.options
        t0 = self.stop.elapsed()
        eligible = space.eligible(T)
        upper: Placement = ()
        how = "bnp"
        if opt.configurations and network_free(space, T, eligible):
            answer = decide(space, eligible, backend=self.backend, stop=self.stop, cheapest=True)
            if answer is False:
                return self._said(T, Answer("infeasible"), "config", t0)
            if answer:
                return self._said(T, Answer("optimal", answer, space.placement_cost(answer)), "config", t0)
        elif opt.network_checks:
            checked = component_check(space, T, eligible, backend=self.backend, stop=self.stop)
            if checked is not None and checked.outcome is Outcome.REFUTED:
                return self._said(T, Answer("infeasible"), "component", t0)
            if checked is not None:
                upper = checked.placement
            walked = cheapest_walk(space, T, eligible, opt.walk_nodes, stop=self.stop)
            if walked is not None:
                status, found = walked
                cost = space.placement_cost(found) if found else None
                return self._said(T, Answer(status, found, cost), "walk", t0)
        if not space.single_type:
            found = greedy_at(space, T, eligible)
            if found and (not upper or space.placement_cost(found) < space.placement_cost(upper)):
                upper = found
        out = self._tree().cheapest_at(T, eligible, upper)
        return self._said(T, Answer(out.status, out.placement, out.lower), how, t0)

    def _said(self, T: float, answer: Answer, how: str, t0: float) -> Answer:
        cost = f"{self.space.placement_cost(answer.placement):.6g} USD/h" if answer.placement else "-"
        self.say(f"  cost T={T:<12.6g} {answer.status:<11} {how:<9} cheapest {cost:<16} "
                 f"{self.stop.elapsed() - t0:7.2f}s  {self.stop.elapsed():7.2f}s")
        return answer
