"""The cluster's network at the level it is given: groups of GPUs, never all GPU pairs.

GPUs are partitioned into *groups*: the nodes of a topology, or one group per GPU when the input is
a GPU-by-GPU matrix. The bandwidth (GB/s) from GPU i to a different GPU j is

* ``within[g]`` when both are in group g;
* otherwise the between-group value of (group(i), group(j)): an entry of ``dense`` (a G x G group
  matrix, matrix input), or the pair's override (``pairs``/``values``, sparse, stored in both
  directions) and else ``default`` (topology input).

A GPU never talks to itself: the bandwidth from a GPU to itself is ``inf`` and is never used.
Nothing here is N x N unless the input was (:meth:`Network.dense_gbps` expands it on request, for
small instances and tests only). Link throughput (tokens/s) is bandwidth times
``1e9 / (d_model * bytes_per_element)``; :class:`~colgen.model.tables.Tables` applies that factor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

INF = float("inf")
#: Group pairs up to which :meth:`Network.min_link` loops in Python (numpy beyond).
LOOP_PAIRS = 4096


@dataclass(frozen=True, eq=False)
class Network:
    """GPUs in groups, bandwidth per group (see the module docstring). Arrays are read-only.

    ``group_of[i]`` is the group of GPU i, ``names[g]`` the name of group g (the node, or the GPU
    id for matrix input), ``within[g]`` the GB/s between two GPUs of g (not used for a one-GPU
    group), ``default`` the GB/s between groups without an override (``nan`` with ``dense``),
    ``pairs[p] = (a, b)`` (a != b, sorted) a group pair with its own ``values[p]`` GB/s (topology
    links, symmetric: both directions are stored), ``dense`` the G x G between-group matrix (matrix
    input; its diagonal is not used). ``kind`` is ``"topology"`` or ``"matrix"``.
    """

    kind: str
    group_of: np.ndarray
    names: tuple[str, ...] = field(repr=False)
    within: np.ndarray = field(repr=False)
    default: float = float("nan")
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64), repr=False)
    values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    dense: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for arr in (self.group_of, self.within, self.pairs, self.values, self.dense):
            if arr is not None:
                arr.setflags(write=False)
        if len(self.within) != self.num_groups or (self.sizes == 0).any():
            raise ValueError("every group needs a within-value and at least one GPU")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_matrix(cls, matrix: np.ndarray, copy: bool = True) -> Network:
        """Every GPU its own group; ``matrix[i, j]`` GB/s from GPU i to GPU j (diagonal ignored).
        ``copy=False`` takes over a float array the caller no longer uses."""
        n = matrix.shape[0]
        dense = np.array(matrix, dtype=float, copy=True if copy else None)
        np.fill_diagonal(dense, INF)
        return cls(kind="matrix", group_of=np.arange(n, dtype=np.int64), names=tuple(str(i) for i in range(n)),
                   within=np.full(n, INF), dense=dense)

    @classmethod
    def from_topology(cls, group_of: np.ndarray, names: Sequence[str], within: np.ndarray, default: float,
                      links: Mapping[tuple[int, int], float]) -> Network:
        """Groups (nodes) with their within-group GB/s, a default between groups, and symmetric
        overrides ``links[(a, b)]`` for group pairs a != b (one direction suffices)."""
        both: dict[tuple[int, int], float] = {}
        for (a, b), v in links.items():
            if a == b:
                raise ValueError("a link joins two different groups")
            both[(a, b)] = both[(b, a)] = float(v)
        keys = sorted(both)
        pairs = np.array(keys, dtype=np.int64).reshape(-1, 2)
        values = np.array([both[k] for k in keys], dtype=float)
        return cls(kind="topology", group_of=np.array(group_of, dtype=np.int64), names=tuple(names),
                   within=np.asarray(within, dtype=float), default=float(default), pairs=pairs, values=values)

    # ------------------------------------------------------------------ sizes
    @property
    def num_gpus(self) -> int:
        return int(self.group_of.shape[0])

    @property
    def num_groups(self) -> int:
        return len(self.names)

    @cached_property
    def sizes(self) -> np.ndarray:
        """GPUs per group."""
        out = np.bincount(self.group_of, minlength=self.num_groups)
        out.setflags(write=False)
        return out

    @cached_property
    def _keys(self) -> np.ndarray:
        return self.pairs[:, 0] * self.num_groups + self.pairs[:, 1]

    # ------------------------------------------------------------------ queries
    def between(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """GB/s between groups ``a`` and ``b`` (arrays broadcast; meaningful where a != b)."""
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        if self.dense is not None:
            return self.dense[a, b]
        out = np.full(a.shape, self.default)
        if len(self._keys):
            key = a * self.num_groups + b
            pos = np.minimum(np.searchsorted(self._keys, key), len(self._keys) - 1)
            hit = self._keys[pos] == key
            out[hit] = self.values[pos[hit]]
        return out

    def group_bandwidth(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """GB/s from a GPU of group ``a`` to a *different* GPU of group ``b`` (arrays broadcast)."""
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        return np.where(a == b, self.within[a], self.between(a, b))

    @cached_property
    def _scalar(self) -> tuple[list[int], list[float], dict[tuple[int, int], float]]:
        overrides = {(int(a), int(b)): float(v) for (a, b), v in zip(self.pairs, self.values, strict=True)}
        return self.group_of.tolist(), self.within.tolist(), overrides

    def bandwidth(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray | float:
        """GB/s from GPU ``i`` to GPU ``j`` (arrays broadcast; ``inf`` where i == j). A float for
        scalar arguments (answered without numpy, for loops over pairs)."""
        if isinstance(i, int | np.integer) and isinstance(j, int | np.integer):
            if i == j:
                return INF
            group_of, within, overrides = self._scalar
            a, b = group_of[i], group_of[j]
            if a == b:
                return within[a]
            return float(self.dense[a, b]) if self.dense is not None else overrides.get((a, b), self.default)
        i, j = np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
        out = np.where(i == j, INF, self.group_bandwidth(self.group_of[i], self.group_of[j]))
        return float(out) if out.ndim == 0 else out

    def min_link(self, src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray) -> float:
        """Min GB/s over the pairs (i in ``src``, j in ``dst``, i != j), through their groups
        (``inf`` when there is no such pair). Plain Python for stage-sized sets (a GPU pair costs
        about a microsecond), numpy when the sets meet many groups."""
        group_of, within, overrides = self._scalar
        gs: dict[int, set[int]] = {}
        gd: dict[int, set[int]] = {}
        for i in src:
            gs.setdefault(group_of[i], set()).add(int(i))
        for j in dst:
            gd.setdefault(group_of[j], set()).add(int(j))
        if len(gs) * len(gd) > LOOP_PAIRS:
            us, ud = np.fromiter(gs, np.int64, len(gs)), np.fromiter(gd, np.int64, len(gd))
            vals = self.between(us[:, None], ud[None, :])
            best = float(vals[us[:, None] != ud[None, :]].min(initial=INF))
        else:
            best = INF
            for a in gs:
                for b in gd:
                    if a != b:
                        v = float(self.dense[a, b]) if self.dense is not None else overrides.get((a, b), self.default)
                        best = min(best, v)
        for g in gs.keys() & gd.keys():
            # Both sets meet group g: its within-value counts only through two different GPUs.
            if len(gs[g] | gd[g]) >= 2:
                best = min(best, within[g])
        return best

    def levels(self) -> np.ndarray:
        """The distinct GB/s values between two different GPUs, ascending (empty for one GPU)."""
        parts = [self.within[self.sizes >= 2]]
        G = self.num_groups
        if self.dense is not None:
            parts.append(self.dense[~np.eye(G, dtype=bool)])
        else:
            parts.append(self.values)
            if len(self.values) < G * (G - 1):          # some group pair keeps the default
                parts.append(np.array([self.default]))
        return np.unique(np.concatenate(parts))

    def dense_gbps(self) -> np.ndarray:
        """The N x N GPU matrix (``inf`` on the diagonal), read-only. Quadratic in N: for small
        instances only (tests, the GPU-level full ILP)."""
        out = self.group_bandwidth(self.group_of[:, None], self.group_of[None, :]).astype(float)
        np.fill_diagonal(out, INF)
        out.setflags(write=False)
        return out
