"""The performance model evaluated into plain arrays, which every solver reads.

A stage has a *shape* s: ``r[s]`` data-parallel replicas of ``t[s]``-way tensor-parallel groups,
``k[s] = r[s] * t[s]`` GPUs in all (:class:`Shapes`; index 0 is unused, and with tensor parallelism
off the shapes are ``k = 1..K`` in order, so ``s == k``). Arrays are indexed ``[L, s, type]``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from colgen.model.network import Network
from colgen.model.performance import Shard, allreduce_seconds, fits, memory_need_gb
from colgen.model.spec import Gpu, GpuType, ModelSpec


@dataclass(frozen=True)
class Shapes:
    """The stage shapes: ``r[s]`` replicas of ``t[s]`` GPUs, ``k[s]`` GPUs (index 0 unused), ordered
    by k, then t."""

    r: np.ndarray
    t: np.ndarray
    k: np.ndarray

    @classmethod
    def of(cls, max_k: int, degrees: tuple[int, ...]) -> Shapes:
        pairs = [(k // t, t) for k in range(1, max_k + 1) for t in sorted(degrees) if k % t == 0]
        r = np.array([0] + [p[0] for p in pairs], dtype=np.int64)
        t = np.array([0] + [p[1] for p in pairs], dtype=np.int64)
        for a in (r, t, r * t):
            a.setflags(write=False)
        return cls(r=r, t=t, k=r * t)

    @property
    def count(self) -> int:
        """Number of shapes (the last index)."""
        return len(self.r) - 1

    @property
    def tensor_parallel(self) -> bool:
        return bool((self.t[1:] > 1).any())

    def index(self, k: int, t: int = 1) -> int:
        """The shape with k GPUs in t-way groups (0 when there is none)."""
        hit = np.nonzero((self.k == k) & (self.t == t))[0]
        return int(hit[0]) if len(hit) and k > 0 else 0


@dataclass(frozen=True)
class Tables:
    """The performance model as arrays.

    ``tau[L, s, type]`` is the throughput of a stage of ``L`` layers and shape ``s`` whose slowest
    member is of that type, counting compute only (a mixed set takes the minimum over its types:
    shape and efficiency are common to all members); with tensor parallelism a group's two
    all-reduces per layer add ``comm_gb[s] / bandwidth`` seconds, where the bandwidth is the slowest
    link between GPUs of the group's type in its node (:meth:`tp_gbps`): :meth:`tau_with` evaluates
    that. ``fits[L, s, type]``: whether a GPU of that type holds its share of the layers.
    Links are not tabulated per GPU pair: ``network`` holds the bandwidth at the level it was given
    (colgen/model/network.py) and ``link_scale`` turns GB/s into tokens/s (``1e9 / (d_model *
    bytes_per_element)``).
    """

    num_layers: int
    max_k: int
    type_names: tuple[str, ...]
    gpu_type: np.ndarray
    gpu_node: tuple[str | None, ...]
    shapes: Shapes
    tau: np.ndarray
    fits: np.ndarray
    latency: np.ndarray          #: [s, type] per-layer seconds of one replica, compute only
    comm_gb: np.ndarray          #: [s] all-reduce seconds per layer times GB/s (0 for t = 1)
    work: np.ndarray             #: [s] tokens per replica and layer-second: (B / r) * seq_len * r * eff(r)
    network: Network
    link_scale: float

    @property
    def num_gpus(self) -> int:
        return int(self.gpu_type.shape[0])

    def tau_with(self, num_layers: np.ndarray | int, s: int, type_: int, gbps: float) -> np.ndarray | float:
        """Throughput of shape s on GPUs of one type whose groups all-reduce over ``gbps``."""
        seconds = self.latency[s, type_] + (self.comm_gb[s] / gbps if self.comm_gb[s] else 0.0)
        return self.work[s] / (num_layers * seconds)

    def tp_gbps(self, node: str | None, type_: int) -> float:
        """The slowest link between two GPUs of this type in this node (inf for a lone GPU): what a
        tensor-parallel group drawn from them all-reduces over."""
        return self._tp_links.get((node, type_), np.inf)

    @property
    def _tp_links(self) -> dict[tuple[str | None, int], float]:
        cached = self.__dict__.get("_tp_cache")
        if cached is None:
            members: dict[tuple[str | None, int], list[int]] = defaultdict(list)
            for g, node in enumerate(self.gpu_node):
                if node is not None:
                    members[(node, int(self.gpu_type[g]))].append(g)
            cached = {}
            for key, ids in members.items():
                if len(ids) > 1:
                    a = np.array(ids)
                    bw = self.network.bandwidth(a[:, None], a[None, :])
                    cached[key] = float(np.min(np.where(np.eye(len(a), dtype=bool), np.inf, bw)))
            object.__setattr__(self, "_tp_cache", cached)
        return cached

    def groups(self, gpu_ids: list[int] | tuple[int, ...], t: int) -> dict[tuple[str | None, int], int] | None:
        """GPUs per (node, type) of a stage in t-way groups, or None when they cannot form them
        (a group is t GPUs of one type in one node)."""
        count: dict[tuple[str | None, int], int] = defaultdict(int)
        for g in gpu_ids:
            count[(self.gpu_node[g], int(self.gpu_type[g]))] += 1
        if t > 1 and any(node is None or n % t for (node, _), n in count.items()):
            return None
        return count

    def stage_throughput(self, num_layers: int, gpu_ids: list[int] | tuple[int, ...], t: int = 1) -> float:
        """Throughput of a stage: the slowest of its groups (0 when they cannot form t-way groups)."""
        s = self.shapes.index(len(gpu_ids), t)
        count = self.groups(gpu_ids, t)
        if not s or count is None:
            return 0.0
        if t == 1:
            return float(min(self.tau[num_layers, s, self.gpu_type[g]] for g in gpu_ids))
        return float(min(self.tau_with(num_layers, s, ty, self.tp_gbps(node, ty)) for node, ty in count))

    def stage_fits(self, num_layers: int, gpu_ids: list[int] | tuple[int, ...], t: int = 1) -> bool:
        s = self.shapes.index(len(gpu_ids), t)
        return bool(s) and self.groups(gpu_ids, t) is not None and bool(
            all(self.fits[num_layers, s, self.gpu_type[g]] for g in gpu_ids))

    def pair_throughput(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray | float:
        """Link throughput (tokens/s) from GPU ``i`` to GPU ``j`` (arrays broadcast; inf where i == j)."""
        return self.network.bandwidth(i, j) * self.link_scale

    def link_throughput(self, src: list[int] | tuple[int, ...], dst: list[int] | tuple[int, ...]) -> float:
        """The link between two stages: the minimum over GPU pairs, through the network's groups."""
        return self.network.min_link(src, dst) * self.link_scale


def build_tables(m: ModelSpec, types: tuple[GpuType, ...], gpus: tuple[Gpu, ...], network: Network, *,
                 max_k: int, dp_efficiency: tuple[float, ...], reserved_gb: float,
                 tp_degrees: tuple[int, ...] = (1,)) -> Tables:
    """Evaluate the performance model for every ``L <= M`` and shape."""
    M, K = m.num_layers, max_k
    shapes = Shapes.of(K, tp_degrees)
    S, T = shapes.count, len(types)
    tau = np.zeros((M + 1, S + 1, T))
    fit = np.zeros((M + 1, S + 1, T), dtype=bool)
    latency = np.full((S + 1, T), np.inf)
    comm = np.zeros(S + 1)
    work = np.zeros(S + 1)
    L = np.arange(1, M + 1, dtype=float)
    for s in range(1, S + 1):
        r, t = int(shapes.r[s]), int(shapes.t[s])
        b = m.batch_size / r
        shard = Shard.of(t, m.num_kv_heads, m.kv_weight_share)
        work[s] = dp_efficiency[r - 1] * r * b * m.seq_len
        comm[s] = allreduce_seconds(t, b, m.seq_len, m.d_model, m.bytes_per_element, 1.0)
        need = memory_need_gb(L, b, weight_gb_per_layer=m.weight_gb_per_layer,
                              kv_gb_per_sample_layer=m.kv_gb_per_sample_layer, reserved_gb=reserved_gb, shard=shard)
        for ty, gt in enumerate(types):
            latency[s, ty] = gt.performance.latency(b, shard)
            tau[1:, s, ty] = work[s] / (L * latency[s, ty])
            fit[1:, s, ty] = fits(need, gt.memory_gb)
    index = {t.name: i for i, t in enumerate(types)}
    gpu_type = np.array([index[g.type] for g in gpus], dtype=np.int64)
    for arr in (tau, fit, gpu_type, latency, comm, work):
        arr.setflags(write=False)
    return Tables(num_layers=M, max_k=K, type_names=tuple(t.name for t in types), gpu_type=gpu_type,
                  gpu_node=tuple(g.node for g in gpus), shapes=shapes, tau=tau, fits=fit, latency=latency,
                  comm_gb=comm, work=work, network=network, link_scale=1e9 / (m.d_model * m.bytes_per_element))
