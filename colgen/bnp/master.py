"""The restricted master problem of branch-and-price, in GPU-class space.

Decision version: for a target throughput T, is there a placement whose every stage reaches T and
whose every link between consecutive stages reaches T? Its LP relaxation (phase 1):

    min  sum_l s_l
    s.t. sum_{a covers l} z_a + s_l = 1                       for every layer l       (cover)
         sum_a n_ac z_a <= |c|                                 for every GPU class c   (capacity)
         sum_{a ends at l, c in a} z_a
           - sum_{b starts at l+1, b inside G} z_b <= 0        out-star (l, c, G)
         sum_{b starts at l+1, d in b} z_b
           - sum_{a ends at l, a inside G} z_a <= 0            in-star (l, d, G)
         z, s >= 0

over a pool of columns a = (segment s..e, GPU count n_ac per class) whose throughput reaches T.
With a budget (the class space's ``budget``), one more row ``sum_a cost_a z_a <= B`` with
``cost_a = sum_c n_ac price_c``. For the least cost at T (colgen/bnp/tree.py, ``cheapest_at``) the
same LP has a second phase: once phase 1 reaches zero, the slacks are fixed at zero and the
objective becomes ``min sum_a cost_a z_a`` (:meth:`Master.set_cost_phase`); adding columns keeps
it feasible, and a star row separated in phase 2 sends it back to phase 1.
An out-star row says "if the stage ending at l uses class c, the next stage uses only classes
of G", where G holds the classes c reaches at throughput >= T; it is exact for integral points
and dominates every pairwise conflict row. A star row stays valid for any higher T (its G only
shrinks), so rows are kept and switched off (row bound +inf) when T drops below their validity.
Rows are separated lazily. Columns whose throughput is below T, or that a branching decision
forbids, keep their place with upper bound 0, so the pool serves every T and node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from colgen.backends import IncrementalLP
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop, Stopped

INF = np.inf


@dataclass(frozen=True)
class StarRow:
    """Network row at the boundary after layer ``boundary``. Out-star (``out``): if the stage
    ending there uses class ``cls``, the next stage lies inside ``inside``. In-star: if the stage
    starting after it uses ``cls``, the stage before lies inside ``inside``."""

    out: bool
    boundary: int
    cls: int
    inside: np.ndarray = field(compare=False, hash=False)
    key: bytes = field(default=b"", repr=False)

    def __hash__(self) -> int:
        return hash((self.out, self.boundary, self.cls, self.key))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, StarRow) and (self.out, self.boundary, self.cls, self.key)
                == (other.out, other.boundary, other.cls, other.key))

    def valid_at(self, rho: np.ndarray, T: float) -> bool:
        reach = rho[self.cls] >= T if self.out else rho[:, self.cls] >= T
        return bool(np.all(~reach | self.inside))


def star_row(out: bool, boundary: int, cls: int, inside: np.ndarray) -> StarRow:
    inside = np.asarray(inside, dtype=bool)
    return StarRow(out, boundary, cls, inside, np.packbits(inside).tobytes())


def _bits(mask: np.ndarray) -> int:
    return int(sum(1 << int(c) for c in np.nonzero(mask)[0]))


@dataclass(frozen=True)
class Universes:
    """Per boundary layer, the class sets ("universes") of its star rows closed under intersection,
    each with the summed bonus of the rows whose universe contains it, flattened for the pricing
    kernel: the universes at layer l are ``masks[ptr[l]:ptr[l + 1]]`` (uint64 bit words), largest
    bonus first; "all classes" is always among them."""

    ptr: np.ndarray
    masks: np.ndarray
    bonus: np.ndarray

    @classmethod
    def close(cls, rows: list[list[tuple[int, float]]], C: int) -> Universes:
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
        return cls(np.array(ptr, dtype=np.int64), np.array(masks, dtype=np.uint64).reshape(-1, words),
                   np.array(bonus, dtype=float))


@dataclass(frozen=True)
class Duals:
    """The master's duals in the form pricing reads (layers and boundaries 1-based):

    ``pi[l]`` cover duals; ``w[c] >= 0`` per-GPU class prices (capacity rows); ``f_end[e, c]`` and
    ``f_start[s, c]`` fixed charges of using class c in a stage ending at e / starting at s (star
    rows in which using c costs); ``end`` / ``start`` the universes with bonuses of the star rows in
    which staying inside a class set pays, for stages ending at e / starting at s."""

    pi: np.ndarray
    w: np.ndarray
    f_end: np.ndarray
    f_start: np.ndarray
    end: Universes
    start: Universes
    per_stage: float = 0.0
    """The charge of every column for the stage-count row (0 without ``max_stages``)."""
    cost_weight: float = 0.0
    """How much of each class's price ``w`` already holds: the budget row's dual, plus 1 in the cost
    phase (``w[c]`` = capacity dual + ``cost_weight * price[c]``)."""


def _key(start: int, end: int, shape: int, counts: np.ndarray) -> bytes:
    return np.concatenate([[start, end, shape], counts]).astype(np.int64).tobytes()


class Pool:
    """Columns generated so far (grows by doubling): segment, stage shape (index into the class
    space's shapes), GPU count per class, throughput."""

    FIELDS = ("start", "end", "shape", "tau", "counts")

    def __init__(self, C: int):
        self.n = 0
        self.start = np.zeros(64, dtype=np.int64)
        self.end = np.zeros(64, dtype=np.int64)
        self.shape = np.zeros(64, dtype=np.int64)
        self.tau = np.zeros(64)
        self.counts = np.zeros((64, C), dtype=np.int64)
        self.keys: dict[bytes, int] = {}

    def _grow(self, need: int) -> None:
        cap = len(self.start)
        if need <= cap:
            return
        new = max(need, 2 * cap)
        for name in self.FIELDS:
            old = getattr(self, name)
            arr = np.zeros((new, *old.shape[1:]), dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)

    def add(self, start: np.ndarray, end: np.ndarray, shape: np.ndarray, counts: np.ndarray,
            tau: np.ndarray) -> np.ndarray:
        """Append the columns not yet in the pool; return the indices of the new ones."""
        fresh = []
        for i in range(len(start)):
            key = _key(start[i], end[i], shape[i], counts[i])
            if key not in self.keys:
                self.keys[key] = self.n + len(fresh)
                fresh.append(i)
        fresh = np.array(fresh, dtype=np.int64)
        m = len(fresh)
        self._grow(self.n + m)
        sl = slice(self.n, self.n + m)
        self.start[sl], self.end[sl] = start[fresh], end[fresh]
        self.counts[sl] = counts[fresh]
        self.shape[sl] = shape[fresh]
        self.tau[sl] = tau[fresh]
        self.n += m
        return np.arange(self.n - m, self.n)

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.n]

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the columns in ``mask`` (in order)."""
        idx = np.nonzero(mask)[0]
        for name in self.FIELDS:
            arr = getattr(self, name)
            arr[: len(idx)] = arr[idx]
        self.n = len(idx)
        self.keys = {_key(self.start[i], self.end[i], self.shape[i], self.counts[i]): i for i in range(self.n)}


class Master:
    """The phase-1 LP above over a growing pool, on any :class:`IncrementalLP` engine."""

    def __init__(self, space: ClassSpace, lp: IncrementalLP):
        self.space = space
        self.lp = lp
        M, C = space.num_layers, space.num_classes
        self.M, self.C = M, C
        self.pool = Pool(C)
        lp.add_rows(np.ones(M), np.ones(M))                                   # cover
        lp.add_rows(np.full(C, -INF), space.classes.sizes.astype(float))       # capacity
        self.max_stages = space.limits.max_stages
        if self.max_stages is not None:                                        # sum_a z_a <= max_stages
            lp.add_rows(np.array([-INF]), np.array([float(self.max_stages)]))
        self.price = space.price
        self.row_budget = M + C + (self.max_stages is not None)
        if space.budget is not None:                                           # sum_a cost_a z_a <= budget
            lp.add_rows(np.array([-INF]), np.array([float(space.budget)]))
        self.R = self.row_budget + (space.budget is not None)                  # the first star row
        self.cost_phase = False
        # Artificial slacks s_l: columns 0..M-1, cost 1.
        lp.add_cols(np.ones(M), np.zeros(M), np.full(M, INF),
                    sp.csc_matrix((np.ones(M), (np.arange(M), np.arange(M))), shape=(self.R, M)))
        self.net_keys: list[StarRow] = []
        self.net_index: dict[StarRow, int] = {}
        self.key_boundary = np.zeros(0, dtype=np.int64)
        self.key_cls = np.zeros(0, dtype=np.int64)
        self.key_out = np.zeros(0, dtype=bool)
        self.key_inside = np.zeros((0, C), dtype=bool)
        self.solves = 0
        self.last_binding = np.zeros(0, dtype=np.int64)   # per star row: last solve it had a dual
        self.active_net = np.zeros(0, dtype=bool)
        self.upper = np.zeros(0)                 # current upper bound of every pool column

    # ---- columns
    def _column_matrix(self, idx: np.ndarray) -> sp.csc_matrix:
        """Coefficients of pool columns ``idx`` on every row of the LP."""
        p = self.pool
        rows, cols, vals = [], [], []
        for j, a in enumerate(idx):
            s, e = int(p.start[a]), int(p.end[a])
            layers = np.arange(s - 1, e)
            rows.append(layers)
            cols.append(np.full(len(layers), j))
            vals.append(np.ones(len(layers)))
            used = np.nonzero(p.counts[a])[0]
            rows.append(self.M + used)
            cols.append(np.full(len(used), j))
            vals.append(p.counts[a, used].astype(float))
            if self.max_stages is not None:
                rows.append(np.array([self.M + self.C]))
                cols.append(np.array([j]))
                vals.append(np.ones(1))
            if self.row_budget < self.R:
                rows.append(np.array([self.row_budget]))
                cols.append(np.array([j]))
                vals.append(np.array([float(p.counts[a] @ self.price)]))
        net = self._net_coefficients(idx, np.arange(len(self.net_keys)))
        coo = net.tocoo()
        rows.append(coo.row + self.R)
        cols.append(coo.col)
        vals.append(coo.data)
        return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.lp.num_rows, len(idx)))

    def _net_coefficients(self, cols: np.ndarray, rows: list[int] | np.ndarray) -> sp.csr_matrix:
        """Star-row coefficients (``rows`` of ``net_keys``) on pool columns ``cols``, in bulk."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows) or not len(cols):
            return sp.csr_matrix((len(rows), len(cols)))
        p = self.pool
        start, end = p.start[cols][:, None], p.end[cols][:, None]
        used = p.counts[cols] > 0
        boundary, cls, out = self.key_boundary[rows], self.key_cls[rows], self.key_out[rows]
        ends_at, starts_after = end == boundary, start == boundary + 1
        mine = np.where(out, ends_at, starts_after)            # the side whose class use is counted
        other = np.where(out, starts_after, ends_at)           # the side that must stay inside
        outside = used.astype(np.int32) @ (~self.key_inside[rows]).T.astype(np.int32)
        vals = (mine & used[:, cls]).astype(float) - (other & (outside == 0)).astype(float)
        return sp.csr_matrix(vals.T)

    def add_columns(self, start: np.ndarray, end: np.ndarray, shape: np.ndarray, counts: np.ndarray) -> int:
        """Add new columns, enabled (duplicates are ignored); returns how many were new."""
        tau = self.space.column_tau(end - start + 1, shape, counts)
        idx = self.pool.add(start, end, shape, counts, tau)
        if len(idx):
            cost = self.column_costs(idx) if self.cost_phase else np.zeros(len(idx))
            self.lp.add_cols(cost, np.zeros(len(idx)), np.full(len(idx), INF), self._column_matrix(idx))
            self.upper = np.concatenate([self.upper, np.full(len(idx), INF)])
        return len(idx)

    def drop_columns(self, drop: np.ndarray) -> int:
        """Delete pool columns (``drop`` over the pool), e.g. those no faster than the incumbent:
        no threshold the search can still try admits them. Returns how many."""
        idx = np.nonzero(drop)[0]
        if len(idx):
            self.lp.delete_cols(idx + self.M)
            self.pool.keep(~drop)
            self.upper = self.upper[~drop]
        return len(idx)

    def enable(self, allowed: np.ndarray) -> None:
        """Set the pool columns' upper bounds: +inf where ``allowed``, 0 elsewhere."""
        new = np.where(allowed, INF, 0.0)
        changed = np.nonzero(new != self.upper)[0]
        if len(changed):
            self.lp.set_col_bounds(changed + self.M, np.zeros(len(changed)), new[changed])
            self.upper = new

    def column_costs(self, idx: np.ndarray | None = None) -> np.ndarray:
        """USD per hour of pool columns ``idx`` (all by default)."""
        counts = self.pool.view("counts") if idx is None else self.pool.counts[idx]
        return counts @ self.price if self.price is not None else np.zeros(len(counts))

    def set_cost_phase(self, on: bool) -> None:
        """Phase 2 (``on``): slacks fixed at zero, objective the columns' cost. Phase 1: slacks free
        at cost 1, columns free of cost."""
        if on == self.cost_phase:
            return
        if on and self.price is None:
            raise ValueError("the cost phase needs prices")
        M, n = self.M, self.pool.n
        slacks = np.arange(M)
        self.lp.set_col_costs(slacks, np.zeros(M) if on else np.ones(M))
        self.lp.set_col_bounds(slacks, np.zeros(M), np.zeros(M) if on else np.full(M, INF))
        self.lp.set_col_costs(np.arange(M, M + n), self.column_costs() if on else np.zeros(n))
        self.cost_phase = on

    # ---- network rows
    def add_network_rows(self, keys: list[StarRow]) -> None:
        keys = [key for key in keys if key not in self.net_index]
        if not keys:
            return
        first = len(self.net_keys)
        for i, key in enumerate(keys):
            self.net_index[key] = first + i
            self.net_keys.append(key)
        self.key_boundary = np.r_[self.key_boundary, [k.boundary for k in keys]]
        self.key_cls = np.r_[self.key_cls, [k.cls for k in keys]]
        self.key_out = np.r_[self.key_out, [k.out for k in keys]]
        self.key_inside = np.vstack([self.key_inside, [k.inside for k in keys]])
        A = self._net_coefficients(np.arange(self.pool.n), np.arange(first, len(self.net_keys)))
        A = sp.hstack([sp.csr_matrix((len(keys), self.M)), A]).tocsr()
        self.lp.add_rows(np.full(len(keys), -INF), np.zeros(len(keys)), A)
        self.active_net = np.concatenate([self.active_net, np.ones(len(keys), dtype=bool)])
        self.last_binding = np.concatenate([self.last_binding, np.full(len(keys), self.solves)])

    def drop_idle_rows(self, age: int) -> int:
        """Delete the star rows whose dual has been zero for ``age`` solves (they only slow the LP
        down; separation adds them back if they are ever violated again). Returns how many."""
        idle = np.nonzero(self.solves - self.last_binding > age)[0]
        if not len(idle):
            return 0
        self.lp.delete_rows(idle + self.R)
        keep = np.ones(len(self.net_keys), dtype=bool)
        keep[idle] = False
        self.net_keys = [k for k, kept in zip(self.net_keys, keep, strict=True) if kept]
        self.net_index = {k: i for i, k in enumerate(self.net_keys)}
        for name in ("key_boundary", "key_cls", "key_out", "key_inside", "active_net", "last_binding"):
            setattr(self, name, getattr(self, name)[keep])
        return len(idle)

    def set_threshold_rows(self, T: float) -> None:
        """A star row is valid while every class its GPU class reaches at T lies inside its G."""
        if not self.net_keys:
            return
        want = np.array([key.valid_at(self.space.classes.rho, T) for key in self.net_keys])
        changed = np.nonzero(want != self.active_net)[0]
        if len(changed):
            self.lp.set_row_bounds(changed + self.R, np.full(len(changed), -INF),
                                   np.where(want[changed], 0.0, INF))
            self.active_net = want

    # ---- solving
    def solve(self, stop: Stop | None = None) -> float:
        """The LP's optimum; ``inf`` when it is infeasible (phase 2 only: phase 1 always has a
        solution)."""
        status = self.lp.solve(stop)
        if status == "infeasible" and self.cost_phase:
            return INF
        if status != "optimal":
            if status in ("time_limit", "interrupted"):    # the engine saw the deadline first
                raise Stopped(status)
            raise RuntimeError(f"master LP ended with status {status}")
        self.solves += 1
        if self.net_keys:
            binding = np.abs(self.lp.duals()[self.R:]) > 1e-12
            self.last_binding[binding] = self.solves
        return self.lp.objective()

    def values(self) -> np.ndarray:
        """z of the pool columns."""
        return self.lp.primal()[self.M:]

    def duals(self) -> Duals:
        """The LP's duals as pricing reads them (see :class:`Duals`)."""
        y = self.lp.duals()
        M, C = self.M, self.C
        pi = np.concatenate([[0.0], y[:M]])
        w = np.maximum(0.0, -y[M:M + C])
        per_stage = float(max(0.0, -y[M + C])) if self.max_stages is not None else 0.0
        weight = (1.0 if self.cost_phase else 0.0) + (max(0.0, -float(y[self.row_budget]))
                                                      if self.row_budget < self.R else 0.0)
        if weight > 0:      # a column pays its cost in the objective and prices it on the budget row
            w = w + weight * self.price
        nu = np.minimum(0.0, y[self.R:])
        f_end = np.zeros((M + 1, C))
        f_start = np.zeros((M + 2, C))
        end_u: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
        start_u: list[list[tuple[int, float]]] = [[] for _ in range(M + 2)]
        for key, v in zip(self.net_keys, nu, strict=True):
            if v >= 0:
                continue
            l = key.boundary
            if key.out:       # the stage ending at l pays for c; the one starting at l+1 gains inside G
                f_end[l, key.cls] -= v
                start_u[l + 1].append((_bits(key.inside), -v))
            else:             # the stage starting at l+1 pays for c; the one ending at l gains inside G
                f_start[l + 1, key.cls] -= v
                end_u[l].append((_bits(key.inside), -v))
        return Duals(pi, w, f_end, f_start, Universes.close(end_u, C), Universes.close(start_u, C), per_stage,
                     weight)

    def violated_rows(self, T: float) -> list[StarRow]:
        """Star rows the current LP solution violates at threshold T (separation)."""
        reach = self.space.classes.rho >= T              # reach[c, d]: link c -> d fast enough
        if reach.all():
            return []
        p = self.pool
        z = self.values()
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
