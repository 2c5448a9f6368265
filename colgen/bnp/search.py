"""Branch-and-price: proven optimal placements without enumerating the allocation space.

The objective is a bottleneck (max-min), so colgen searches over the finite set of values the
optimum can take (every stage and link throughput, :meth:`ClassSpace.candidates`) and answers, for
a target T, "is there a placement with every stage and link at least T?" by branch-and-price on
the decision master (colgen/master.py):

1. *LP phase*: bisection over the candidates with the root LP only. Where the LP is infeasible (a
   converged phase-1 objective above zero, or a Lagrangian bound proving it), T is refuted; the
   largest LP-feasible candidate is the global bound.
2. *Integer phase*: depth-first branch-and-price at the bound, then bisection between the
   incumbent and the bound. Each integral node gives a placement (and often a value above T);
   each exhausted tree refutes T.

Branching is on (i) a stage boundary after layer l, (ii) the GPU count k of the stage covering l,
(iii) whether that stage uses class c, (iv) how many GPUs of class c it uses. Each decision
restricts the unique column covering l, so pricing respects it exactly and, once all are integral,
the stage of every segment is determined (see docs/bnp.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from colgen.backends import get_backend
from colgen.bnp.configurations import decide, network_free
from colgen.bnp.heuristics import greedy_at, greedy_placement, pool_placement
from colgen.model.instance import Instance
from colgen.stop import stop_requested
from colgen.bnp.master import ClassSpace, Master, StarRow, class_space, star_row
from colgen.bnp.pricing import PricingInput, price
from colgen.result import Result, Stage, placement_throughput, relative_gap

FEAS_EPS = 1e-6      # phase-1 objective at or below this is "feasible"
PRICE_EPS = 1e-7     # columns must improve by more than this
INT_EPS = 1e-6       # integrality tolerance for branching quantities
COLUMNS_PER_ROUND = 64
HEURISTIC_EVERY = 16      # DFS nodes between runs of the pool heuristic ...
HEURISTIC_SECONDS = 10.0  # ... or this much tree time, whichever comes first
HEURISTIC_SHARE = 0.3     # pool-heuristic time limit: this share of the tree time since its last run
NODE_BUDGET = 64          # first node budget of a tree in the integer phase (grows fourfold)
ROW_AGE = 200             # master solves after which a star row without dual is dropped
DIVE_SECONDS = 10.0       # time cap of one dive
CLIMB_SECONDS = 10.0      # time cap of one pool MIP while climbing from the incumbent
MULTISTART = 40           # randomized greedy attempts per ladder target
LADDER = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)   # relative steps below the bound
PROGRESS_SECONDS = 5.0    # a progress line at least this often during a long search


def _bits(mask: np.ndarray) -> int:
    return int(sum(1 << int(c) for c in np.nonzero(mask)[0]))


def _universes(rows: list[list[tuple[int, float]]], C: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per layer: the universes of its star rows closed under intersection, each with the summed
    bonus of the rows whose universe contains it; always including "all classes" (bonus 0 unless a
    row says otherwise). Flattened for the kernel: (pointers, uint64 masks, bonuses)."""
    full = (1 << C) - 1
    words = (C + 63) // 64
    ptr, masks, bonus = [0], [], []
    for layer_rows in rows:
        sets = {full} | {u for u, _ in layer_rows}
        frontier = set(sets)
        while frontier:
            new = {a & b for a in frontier for b in sets} - sets
            sets |= new
            frontier = new
        scored = [(sum(g for v, g in layer_rows if u & v == u), u) for u in sets if u]
        for b, u in sorted(scored, reverse=True):          # largest bonus first (pricing prunes)
            masks.append([(u >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(words)])
            bonus.append(b)
        ptr.append(len(masks))
    return (np.array(ptr, dtype=np.int64), np.array(masks, dtype=np.uint64).reshape(-1, words),
            np.array(bonus, dtype=float))


class _Stop(Exception):
    """Time limit or Ctrl-C: unwind to the outer search with what is known."""


class _GiveUp(Exception):
    """A heuristic's own time cap: abandon it, keep searching."""


@dataclass(frozen=True)
class Decision:
    """A branching decision on the stage covering ``layer`` (or the boundary after it)."""

    kind: str          # "cut" | "join" | "k_is" | "k_not" | "count" | "fix" (diving only)
    layer: int
    k: int = 0
    cls: int = 0
    lo: int = 0
    hi: int = 0
    end: int = 0       # "fix": the stage over layer..end is pool column ``column``
    column: int = -1


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
    pool_mips: int = 0
    first_incumbent: float | None = None
    last_improvement: float | None = None
    log: list[str] = field(default_factory=list)


class BranchAndPrice:
    def __init__(self, instance: Instance, space: ClassSpace, backend: str, deadline: float | None,
                 log: Callable[[str], None]):
        self.instance = instance
        self.space = space
        self.M, self.K, self.C = space.num_layers, space.max_k, space.num_classes
        self.avail = space.classes.sizes
        self.groups = space.type_groups() if space.single_type else None
        engine = get_backend(backend, 0, space.num_layers + space.num_classes, log, growing=True)
        self.master = Master(space, engine.new_lp(maximize=False))
        self.deadline = deadline
        self.stats = Stats()
        self.t0 = time.perf_counter()
        self.say = log
        self.give_up: float | None = None   # time cap of the running heuristic (see dive)
        # Set by the outer search: report a placement (returns its value); the incumbent.
        self.on_placement: Callable[[tuple[Stage, ...]], float] = lambda p: 0.0
        self.incumbent: Callable[[], tuple[tuple[Stage, ...], float]] = lambda: ((), 0.0)

    # ------------------------------------------------------------------ restrictions
    def column_mask(self, T: float, decisions: list[Decision]) -> np.ndarray:
        p = self.master.pool
        s, e, k, counts = p.view("start"), p.view("end"), p.view("k"), p.view("counts")
        mask = p.view("tau") >= T
        for d in decisions:
            l = d.layer
            covers = (s <= l) & (e >= l)
            if d.kind == "cut":
                mask &= ~((s <= l) & (e > l))
            elif d.kind == "join":
                mask &= (e != l) & (s != l + 1)
            elif d.kind == "k_is":
                mask &= ~covers | (k == d.k)
            elif d.kind == "k_not":
                mask &= ~covers | (k != d.k)
            elif d.kind == "fix":
                mask &= ~((s <= d.end) & (e >= l))
                mask[d.column] = True
            else:
                mask &= ~covers | ((counts[:, d.cls] >= d.lo) & (counts[:, d.cls] <= d.hi))
        return mask

    def pricing_input(self, eligible: np.ndarray, decisions: list[Decision]) -> PricingInput:
        M, C = self.M, self.C
        no_end = np.zeros(M + 1, dtype=bool)
        cut = np.zeros(M + 1, dtype=bool)
        kmask = np.full(M + 1, -1, dtype=np.int64)
        lo = np.zeros((M + 1, C), dtype=np.int64)
        hi = np.tile(self.avail, (M + 1, 1))
        for d in decisions:
            l = d.layer
            if d.kind == "cut":
                cut[l] = True
            elif d.kind == "join":
                no_end[l] = True
            elif d.kind == "k_is":
                kmask[l] &= np.int64(1) << d.k
            elif d.kind == "k_not":
                kmask[l] &= ~(np.int64(1) << d.k)
            elif d.kind == "fix":
                kmask[l:d.end + 1] = 0          # nothing else may cover the fixed stage's layers
            else:
                lo[l, d.cls] = max(lo[l, d.cls], d.lo)
                hi[l, d.cls] = min(hi[l, d.cls], d.hi)
        pi, w, nu = self.master.duals()
        f_end = np.zeros((M + 1, C))
        f_start = np.zeros((M + 2, C))
        end_u: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
        start_u: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
        for key, y in zip(self.master.net_keys, nu, strict=True):
            if y >= 0:
                continue
            l = key.boundary
            if key.out:       # the stage ending at l pays for c; the one starting at l+1 gains inside G
                f_end[l, key.cls] -= y
                start_u[l + 1].append((_bits(key.inside), -y))
            else:             # the stage starting at l+1 pays for c; the one ending at l gains inside G
                f_start[l + 1, key.cls] -= y
                end_u[l].append((_bits(key.inside), -y))
        end_ptr, end_masks, end_bonus = _universes(end_u, C)
        start_ptr, start_masks, start_bonus = _universes(start_u, C)
        return PricingInput(pi=pi, w=w, f_end=f_end, f_start=f_start, eligible=eligible, avail=self.avail,
                            no_end=no_end, cut=cut, kmask=kmask, lo=lo, hi=hi, end_ptr=end_ptr,
                            end_masks=end_masks, end_bonus=end_bonus, start_ptr=start_ptr,
                            start_masks=start_masks, start_bonus=start_bonus)

    # ------------------------------------------------------------------ one node
    def check_time(self) -> None:
        now = time.perf_counter()
        if stop_requested() or (self.deadline is not None and now > self.deadline):
            raise _Stop
        if self.give_up is not None and now > self.give_up:
            raise _GiveUp

    def node_lp(self, T: float, eligible: np.ndarray, decisions: list[Decision]) -> bool:
        """Column generation at a node; True when its LP is feasible (solution left in the LP)."""
        master, st = self.master, self.stats
        master.drop_idle_rows(ROW_AGE)
        master.enable(self.column_mask(T, decisions))
        restricted = bool(decisions)
        while True:
            self.check_time()
            t = time.perf_counter()
            obj = master.solve()
            st.lp_seconds += time.perf_counter() - t
            st.master_solves += 1
            if obj <= FEAS_EPS:
                rows = self.violated_network_rows(T)
                if not rows:
                    return True
                master.add_network_rows(rows)
                st.network_rows = len(master.net_keys)
                continue
            t = time.perf_counter()
            priced = price(self.pricing_input(eligible, decisions), restricted, COLUMNS_PER_ROUND, PRICE_EPS,
                           self.groups)
            st.pricing_seconds += time.perf_counter() - t
            st.pricing_calls += 1
            # Lagrangian bound: the columns of any solution cover at most M layers in all
            # (sum_a z_a L_a <= M), so no solution gains more than M times the best value per layer.
            if obj - self.M * priced.best_per_layer > FEAS_EPS or not len(priced.value):
                return False
            if not master.add_columns(priced.start, priced.end, priced.counts):
                raise RuntimeError("pricing returned only columns already in the pool (internal error)")

    def violated_network_rows(self, T: float) -> list[StarRow]:
        """Star rows the current LP solution violates at threshold T."""
        reach = self.space.classes.rho >= T              # reach[c, d]: link c -> d fast enough
        if reach.all():
            return []
        p = self.master.pool
        z = self.master.values()
        act = np.nonzero(z > 1e-9)[0]
        out: list[StarRow] = []
        for l in range(1, self.M):
            ends = act[p.end[act] == l]
            starts = act[p.start[act] == l + 1]
            if not len(ends) or not len(starts):
                continue
            used_e, used_s = p.counts[ends] > 0, p.counts[starts] > 0
            # Out-star: mass of "ends at l using c" vs "starts at l+1 inside reach[c]".
            inside_s = (used_s.astype(int) @ (~reach).T.astype(int)) == 0     # [b, c]
            lhs, rhs = z[ends] @ used_e, z[starts] @ inside_s
            out += [star_row(True, l, int(c), reach[c]) for c in np.nonzero(lhs - rhs > 1e-7)[0]]
            # In-star: mass of "starts at l+1 using d" vs "ends at l inside the classes reaching d".
            inside_e = (used_e.astype(int) @ (~reach).astype(int)) == 0       # [a, d]
            lhs, rhs = z[starts] @ used_s, z[ends] @ inside_e
            out += [star_row(False, l, int(d), reach[:, d]) for d in np.nonzero(lhs - rhs > 1e-7)[0]]
        return out

    # ------------------------------------------------------------------ branching
    def branch(self) -> tuple[Decision, Decision] | list[tuple[int, int, np.ndarray]]:
        """Two decisions to branch on (most promising first), or the integral stages."""
        p = self.master.pool
        z = self.master.values()
        act = np.nonzero(z > 1e-9)[0]
        s, e, k, counts = p.start[act], p.end[act], p.k[act], p.counts[act]
        zz = z[act]
        if self.master.net_keys:
            # Links bind: decide first which classes serve which layers (that is what the star
            # rows are about), on the most fractional (layer, class) over all layers.
            use = np.zeros((self.M + 2, self.C))
            np.add.at(use, s, zz[:, None] * (counts > 0))
            np.add.at(use, e + 1, -zz[:, None] * (counts > 0))
            use = np.cumsum(use, axis=0)[1:self.M + 1]
            uf = np.abs(use - np.round(use))
            if uf.max() > INT_EPS:
                l, c = np.unravel_index(int(np.argmax(uf)), uf.shape)
                a = Decision("count", int(l) + 1, cls=int(c), lo=1, hi=int(self.avail[c]))
                b = Decision("count", int(l) + 1, cls=int(c), lo=0, hi=0)
                return (a, b) if use[l, c] >= 0.5 else (b, a)
        x = np.bincount(e, weights=zz, minlength=self.M + 1)[1:self.M]
        frac = np.abs(x - np.round(x))
        if frac.max(initial=0) > INT_EPS:
            l = int(np.argmin(np.abs(x - 0.5))) + 1
            cut, join = Decision("cut", l), Decision("join", l)
            return (cut, join) if x[l - 1] >= 0.5 else (join, cut)
        stages = []
        first = 1
        for last in [*(np.nonzero(np.round(x) == 1)[0] + 1), self.M]:
            covers = (s <= first) & (e >= first)
            mass = zz[covers]
            ks = np.bincount(k[covers], weights=mass, minlength=self.K + 1)
            kf = np.abs(ks - np.round(ks))
            if kf.max() > INT_EPS:
                kk = int(np.argmax(ks))
                a, b = Decision("k_is", first, k=kk), Decision("k_not", first, k=kk)
                return (a, b) if ks[kk] >= 0.5 else (b, a)
            used = (mass[:, None] * (counts[covers] > 0)).sum(axis=0)
            uf = np.abs(used - np.round(used))
            if uf.max() > INT_EPS:
                c = int(np.argmax(uf))
                a = Decision("count", first, cls=c, lo=1, hi=int(self.avail[c]))
                b = Decision("count", first, cls=c, lo=0, hi=0)
                return (a, b) if used[c] >= 0.5 else (b, a)
            n = (mass[:, None] * counts[covers]).sum(axis=0)
            nf = np.abs(n - np.round(n))
            if nf.max() > INT_EPS:
                c = int(np.argmax(nf))
                up = Decision("count", first, cls=c, lo=int(np.ceil(n[c])), hi=int(self.avail[c]))
                down = Decision("count", first, cls=c, lo=0, hi=int(np.floor(n[c])))
                return (up, down) if n[c] - np.floor(n[c]) >= 0.5 else (down, up)
            stages.append((first, int(last), np.round(n).astype(np.int64)))
            first = int(last) + 1
        return stages

    # ------------------------------------------------------------------ one threshold
    def feasible_at(self, T: float, eligible: np.ndarray, root_only: bool = False,
                    node_budget: int | None = None) -> tuple[Stage, ...] | bool | None:
        """A placement with every stage and link >= T, False if there is none (proven), True when
        ``root_only`` and the root LP is feasible, None when ``node_budget`` ran out first."""
        self.master.set_threshold_rows(T)
        self.drop_slow_columns()
        stack: list[list[Decision]] = [[]]
        explored = 0
        last_note = last_heuristic = time.perf_counter()
        while stack:
            best, best_value = self.incumbent()
            if best and best_value >= T:              # settled elsewhere (a heuristic reached T)
                return True if root_only else best
            if node_budget is not None and explored >= node_budget:
                return None
            decisions = stack.pop()
            self.stats.nodes += 1
            explored += 1
            since = time.perf_counter() - last_heuristic
            if explored % HEURISTIC_EVERY == 0 or since > HEURISTIC_SECONDS:
                found = self.pool_heuristic(T, since)
                last_heuristic = time.perf_counter()
                if found:
                    return found
            if time.perf_counter() - last_note > PROGRESS_SECONDS:
                last_note = time.perf_counter()
                self.say(f"       T={T:<12.6g} searching: nodes {explored}, open {len(stack)}, "
                         f"depth {len(decisions)}, cols {self.master.pool.n}  "
                         f"{time.perf_counter() - self.t0:7.2f}s")
            self.stats.max_depth = max(self.stats.max_depth, len(decisions))
            if not self.node_lp(T, eligible, decisions):
                continue
            if root_only:
                return True
            result = self.branch()
            if isinstance(result, tuple):
                first, second = result
                stack.append([*decisions, second])
                stack.append([*decisions, first])
                continue
            return self.space.classes.assign(result)
        return False

    def dive(self, T: float, eligible: np.ndarray, seconds: float) -> tuple[Stage, ...] | None:
        """Primal heuristic: fix the column of largest LP value as a stage, re-price, repeat (no
        backtracking). About one column generation per stage of the pipeline; gives up after
        ``seconds``."""
        self.master.set_threshold_rows(T)
        self.drop_slow_columns()
        decisions: list[Decision] = []
        fixed: set[int] = set()
        self.give_up = time.perf_counter() + seconds
        try:
            while True:
                self.stats.nodes += 1
                if not self.node_lp(T, eligible, decisions):
                    return None
                result = self.branch()
                if not isinstance(result, tuple):
                    return self.space.classes.assign(result)
                z = self.master.values()
                z[list(fixed)] = -1.0
                a = int(np.argmax(z))
                fixed.add(a)
                p = self.master.pool
                decisions.append(Decision("fix", int(p.start[a]), end=int(p.end[a]), column=a))
        except _GiveUp:
            return None
        finally:
            self.give_up = None

    def drop_slow_columns(self) -> None:
        """Columns no faster than the incumbent can serve no threshold still to be tried."""
        _, value = self.incumbent()
        if value > 0:
            self.master.drop_columns(self.master.pool.view("tau") <= value)

    def pool_heuristic(self, T: float, effort: float) -> tuple[Stage, ...] | None:
        """The pool heuristic inside a tree at T, given time in proportion to the tree's ``effort``
        (seconds since its last run): a placement reaching T ends the tree; failing that, any
        placement better than the incumbent is passed on (the tree goes on)."""
        limit = max(2.0, HEURISTIC_SHARE * effort)
        found = self.pool_placement(T, limit)
        if found:
            self.on_placement(found)
            return found
        _, value = self.incumbent()
        if value > 0:
            better = self.pool_placement(value * (1 + 1e-9), limit)
            if better:
                self.on_placement(better)
        return None

    def pool_placement(self, T: float, time_limit: float = 2.0) -> tuple[Stage, ...] | None:
        """Primal heuristic (colgen/heuristics.py): a placement >= T from the pool's columns."""
        self.stats.pool_mips += 1
        return pool_placement(self.space, self.master.pool, T, max(0.05, self.capped(time_limit, 0.25)))

    def capped(self, seconds: float, share: float) -> float:
        """``seconds``, but at most ``share`` of the time left before the deadline."""
        if self.deadline is None:
            return seconds
        return min(seconds, share * (self.deadline - time.perf_counter()))


class ThresholdSearch:
    """The outer search over candidate values, with the incumbent and the global bound."""

    def __init__(self, instance: Instance, space: ClassSpace, bp: BranchAndPrice, configurations: bool,
                 gap: float, say: Callable[[str], None]):
        self.instance, self.space, self.bp = instance, space, bp
        self.configurations, self.gap, self.say = configurations, gap, say
        self.V = space.candidates()
        self.hi = len(self.V)                   # candidates V[hi:] are refuted
        self.t0 = bp.t0
        bp.on_placement = self.offer
        bp.incumbent = lambda: (self.best, self.best_value)
        self.rng = np.random.default_rng(0)
        self.best: tuple[Stage, ...] = ()
        self.best_value = 0.0

    def bound(self) -> float:
        return max(self.best_value, float(self.V[self.hi - 1])) if self.hi > 0 else self.best_value

    def first_above(self, value: float) -> int:
        return int(np.searchsorted(self.V, value, side="right"))

    def line(self, T: float, phase: str, outcome: str) -> None:
        g = relative_gap(self.best_value, self.bound()) if self.best else None
        st = self.bp.stats
        inc = f"{self.best_value:.6g}" if self.best else "-"
        self.say(f"  {phase:<4} T={T:<12.6g} {outcome:<11} nodes {st.nodes:>6}  "
                 f"cols {self.bp.master.pool.n:>7}  bound {self.bound():<12.6g} incumbent {inc:<12} "
                 f"gap {'-' if g is None else f'{100 * g:.3f}%':>8}  {time.perf_counter() - self.t0:7.2f}s")

    def offer(self, placement: tuple[Stage, ...]) -> float:
        """A placement found anywhere; becomes the incumbent if better. Returns its value."""
        value = placement_throughput(self.instance, placement)
        if value > self.best_value:
            self.best, self.best_value = placement, value
            now = time.perf_counter() - self.t0
            st = self.bp.stats
            st.first_incumbent = st.first_incumbent if st.first_incumbent is not None else now
            st.last_improvement = now
        return value

    def probe(self, T: float, integer: bool,
              node_budget: int | None = None) -> tuple[Stage, ...] | bool | None:
        """Decide T exactly where no link can bind (configurations), else by branch-and-price
        (only its root LP unless ``integer``; None when the node budget ran out)."""
        self.bp.stats.thresholds += 1
        eligible = self.space.eligible(T)
        if self.configurations and network_free(self.space, T, eligible):
            answer = decide(self.space, eligible)
            if answer is not None:
                return answer
        return self.bp.feasible_at(T, eligible, root_only=not integer, node_budget=node_budget)

    def record(self, T: float, phase: str, answer: tuple[Stage, ...] | bool | None) -> None:
        if answer is None:
            self.line(T, phase, "undecided")
        elif answer is False:
            self.hi = min(self.hi, int(np.searchsorted(self.V, T, side="left")))
            self.line(T, phase, "refuted")
        elif answer is True:
            self.line(T, phase, "lp-feasible")
        else:
            self.offer(answer)
            self.line(T, phase, "placement")

    def done(self) -> bool:
        if self.hi <= (self.first_above(self.best_value) if self.best else 0):
            return True
        return bool(self.best) and relative_gap(self.best_value, self.bound()) <= self.gap

    def ladder(self) -> None:
        """Incumbents near the bound: at targets stepping down from it, the root LP (which prices
        columns for that target) and the pool heuristic; failing that, a dive halfway between."""
        top = float(self.V[self.hi - 1]) if self.hi > 0 else 0.0
        for step in LADDER:
            if self.hi == 0:
                return
            T = float(self.V[min(self.hi - 1, int(np.searchsorted(self.V, top * (1 - step), side="left")))])
            if self.best_value >= T:
                break
            answer = self.probe(T, integer=False)
            if answer is not True:
                self.record(T, "heur", answer)
                if answer is False:
                    continue
                break
            found = self.bp.pool_placement(T) or self.multistart(T)
            if found:
                self.offer(found)
                self.line(T, "heur", "placement")
                break
        self.dive_between()

    def climb(self) -> None:
        """Better incumbents from below: just above the incumbent, the root LP prices columns for
        that target and the pool MIP looks for a placement among them; repeat while it succeeds
        (each step is cheap near the incumbent, where the LP is far from tight)."""
        while not self.done():
            T = float(self.V[self.first_above(self.best_value)])
            answer = self.probe(T, integer=False)
            if answer is not True:                 # refuted, or decided exactly with a placement
                self.record(T, "clmb", answer)
                continue
            found = self.bp.pool_placement(T, self.bp.capped(CLIMB_SECONDS, 0.15))
            if not found:
                return
            self.offer(found)
            self.line(T, "clmb", "placement")

    def multistart(self, T: float) -> tuple[Stage, ...] | None:
        """Randomized greedy attempts at T (cheap: milliseconds each)."""
        if self.space.single_type:
            return None
        eligible = self.space.eligible(T)
        for _ in range(MULTISTART):
            found = greedy_at(self.space, T, eligible, self.rng)
            if found:
                return found
        return None

    def dive_between(self) -> None:
        """A dive at the candidate halfway between the incumbent and the bound."""
        lo_idx = self.first_above(self.best_value) if self.best else 0
        if lo_idx >= self.hi:
            return
        T = float(self.V[(lo_idx + self.hi - 1) // 2])
        found = self.bp.dive(T, self.space.eligible(T), self.bp.capped(DIVE_SECONDS, 0.2))
        if found:
            self.offer(found)
            self.line(T, "dive", "placement")

    def run(self, lp_only: bool = False) -> None:
        """The search; ``lp_only`` stops after the bisection (the root-LP bound, for studies)."""
        V = self.V
        if not self.space.single_type:           # the greedy mixes types freely
            found = greedy_placement(self.space)
            if found:
                self.offer(found)
                self.line(self.best_value, "init", "greedy")
        # Bisection with the cheap answers: exact where no link can bind, the root LP elsewhere.
        a, b = 0, self.hi - 1
        while a <= b:
            mid = (a + b) // 2
            answer = self.probe(float(V[mid]), integer=False)
            self.record(float(V[mid]), "bis", answer)
            if answer is False:
                b = self.hi - 1
            else:
                a = max(mid + 1, self.first_above(self.best_value) if self.best else 0)
        if lp_only:
            return
        # Integer phase for what the root LP left open. Trees get a node budget: the top
        # candidate first, then bisection below it; a tree that runs out of budget caps the
        # search from above until the gap below is closed, then the budget grows and the search
        # starts again from the top.
        if not self.done():
            self.ladder()
        if not self.done():
            self.climb()
        budget, cap, top_first = NODE_BUDGET, self.hi, True
        while not self.done():
            lo_idx = self.first_above(self.best_value) if self.best else 0
            if lo_idx >= cap:
                budget, cap, top_first = 4 * budget, self.hi, True
            idx = cap - 1 if top_first else (lo_idx + cap - 1) // 2
            top_first = False
            answer = self.probe(float(V[idx]), integer=True, node_budget=budget)
            self.record(float(V[idx]), "int", answer)
            if answer is None:
                cap = idx
                self.climb()       # the tree priced new columns: they may hold a better placement
            cap = min(cap, self.hi)


def solve_bnp(instance: Instance, *, time_limit: float | None = None, gap: float = 0.0,
              backend: str = "auto", log: Callable[[str], None] | None = None,
              configurations: bool = True, symmetry: bool = True, single_type: bool = False) -> Result:
    """Branch-and-price over the threshold candidates. ``configurations=False`` answers every
    threshold by the positional branch-and-price, also where no link can bind; ``symmetry=False``
    keeps every GPU a class of its own (both for ablations); ``single_type`` restricts stages to
    one GPU type (the heuristic same-type rule)."""
    say = log or (lambda _m: None)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    space = class_space(instance.tables, symmetry=symmetry, single_type=single_type)
    V = space.candidates()
    say(f"bnp: {instance.num_layers} layers, {instance.num_gpus} GPUs in {space.num_classes} classes, "
        f"K={space.max_k}; {len(V)} candidate values; fluid bound {space.upper:.6g}")
    if space.upper <= 0 or not len(V):
        return Result(instance.name, "bnp", "infeasible", (), None, None,
                      timings={"solve": time.perf_counter() - t0}, statistics={"classes": space.num_classes})
    bp = BranchAndPrice(instance, space, backend, deadline, say)
    search = ThresholdSearch(instance, space, bp, configurations, gap, say)
    status = "optimal"
    try:
        search.run()
    except _Stop:
        status = "interrupted" if stop_requested() else "time_limit"
        say(f"  stopped ({status})")
    if status == "optimal" and not search.best:
        status = "infeasible"
    st = bp.stats
    elapsed = time.perf_counter() - t0
    statistics = {
        "classes": space.num_classes, "candidates": len(V), "columns": bp.master.pool.n,
        "master_solves": st.master_solves, "pricing_calls": st.pricing_calls,
        "pricing_time_share": st.pricing_seconds / elapsed if elapsed else 0.0,
        "lp_time_share": st.lp_seconds / elapsed if elapsed else 0.0,
        "nodes": st.nodes, "max_depth": st.max_depth, "thresholds_tested": st.thresholds,
        "network_rows": st.network_rows, "pool_mips": st.pool_mips,
        "time_to_first_incumbent": st.first_incumbent, "time_to_best": st.last_improvement,
    }
    best = search.best
    return Result(instance.name, "bnp", status, best, search.best_value if best else None,
                  search.bound() if status != "infeasible" else None,
                  timings={"solve": elapsed}, statistics=statistics)


def threshold_lp_bound(instance: Instance, time_limit: float | None = None) -> float | None:
    """The global bound after the bisection when every threshold is answered by the decision
    master's root LP: the LP bound of the threshold master (for comparisons with other masters)."""
    t0 = time.perf_counter()
    space = class_space(instance.tables)
    if space.upper <= 0 or not len(space.candidates()):
        return None
    bp = BranchAndPrice(instance, space, "highs", None if time_limit is None else t0 + time_limit,
                        lambda _m: None)
    search = ThresholdSearch(instance, space, bp, configurations=False, gap=0.0, say=lambda _m: None)
    try:
        search.run(lp_only=True)
    except _Stop:
        return None
    return search.bound()
