"""The performance model evaluated into plain arrays, which every solver reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colgen.model.network import Network
from colgen.model.performance import fits, memory_need_gb
from colgen.model.spec import Gpu, GpuType, ModelSpec


@dataclass(frozen=True)
class Tables:
    """The performance model evaluated into plain arrays, indexed ``[L, k, type]``.

    ``tau[L, k, t]`` is the throughput of a stage of ``L`` layers on ``k`` GPUs whose slowest member
    is of type ``t`` (a mixed set takes the minimum over its types, because ``k`` and ``eff(k)``
    are common to all members); ``fits[L, k, t]`` says whether a GPU of type ``t`` has the memory.
    Index 0 of ``L`` and ``k`` is unused. Links are not tabulated per GPU pair: ``network`` holds
    the bandwidth at the level it was given (colgen/model/network.py) and ``link_scale`` turns GB/s
    into tokens/s (``1e9 / (d_model * bytes_per_element)``); :meth:`pair_throughput` and
    :meth:`link_throughput` evaluate links on demand (infinite from a GPU to itself).
    """

    num_layers: int
    max_k: int
    type_names: tuple[str, ...]
    gpu_type: np.ndarray
    tau: np.ndarray
    fits: np.ndarray
    network: Network
    link_scale: float

    @property
    def num_gpus(self) -> int:
        return int(self.gpu_type.shape[0])

    def stage_throughput(self, num_layers: int, gpu_ids: list[int] | tuple[int, ...]) -> float:
        k = len(gpu_ids)
        return float(min(self.tau[num_layers, k, self.gpu_type[g]] for g in gpu_ids))

    def stage_fits(self, num_layers: int, gpu_ids: list[int] | tuple[int, ...]) -> bool:
        k = len(gpu_ids)
        return bool(all(self.fits[num_layers, k, self.gpu_type[g]] for g in gpu_ids))

    def pair_throughput(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray | float:
        """Link throughput (tokens/s) from GPU ``i`` to GPU ``j`` (arrays broadcast; inf where i == j)."""
        return self.network.bandwidth(i, j) * self.link_scale

    def link_throughput(self, src: list[int] | tuple[int, ...], dst: list[int] | tuple[int, ...]) -> float:
        """The link between two stages: the minimum over GPU pairs, through the network's groups."""
        return self.network.min_link(src, dst) * self.link_scale


def build_tables(m: ModelSpec, types: tuple[GpuType, ...], gpus: tuple[Gpu, ...], network: Network, *,
                 max_k: int, dp_efficiency: tuple[float, ...], reserved_gb: float) -> Tables:
    """Evaluate the performance model for every ``L <= M`` and ``k <= K``."""
    M, K = m.num_layers, max_k
    T = len(types)
    tau = np.zeros((M + 1, K + 1, T))
    fit = np.zeros((M + 1, K + 1, T), dtype=bool)
    L = np.arange(1, M + 1, dtype=float)
    for t, gt in enumerate(types):
        for k in range(1, K + 1):
            b = m.batch_size / k
            lat = gt.performance.latency(b)
            tau[1:, k, t] = dp_efficiency[k - 1] * k * b * m.seq_len / (L * lat)
            need = memory_need_gb(L, b, weight_gb_per_layer=m.weight_gb_per_layer,
                                  kv_gb_per_sample_layer=m.kv_gb_per_sample_layer, reserved_gb=reserved_gb)
            fit[1:, k, t] = fits(need, gt.memory_gb)
    index = {t.name: i for i, t in enumerate(types)}
    gpu_type = np.array([index[g.type] for g in gpus], dtype=np.int64)
    for arr in (tau, fit, gpu_type):
        arr.setflags(write=False)
    return Tables(num_layers=M, max_k=K, type_names=tuple(t.name for t in types),
                  gpu_type=gpu_type, tau=tau, fits=fit, network=network,
                  link_scale=1e9 / (m.d_model * m.bytes_per_element))
