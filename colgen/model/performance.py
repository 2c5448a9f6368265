"""Performance model: per-layer latency of a GPU type, and the throughput and memory formulas.

Units: seconds, tokens/s, GB = 1e9 bytes, GB/s. The formulas (see docs/problem.md):

* one GPU running ``L`` layers at per-GPU batch ``b`` (samples of ``seq_len`` tokens) delivers
  ``b * seq_len / (L * latency(b))`` tokens/s, where ``latency(b)`` is the per-layer latency;
* a stage of ``k`` GPUs splits the batch ``B`` evenly: ``k * min_g thr(type_g, B/k, L) * eff(k)``;
* a GPU holding ``L`` layers of a stage of ``k`` GPUs needs
  ``L * weight_gb_per_layer + L * kv_gb_per_sample_layer * B/k + reserved_memory_gb``;
* a link from GPU i to GPU j carries ``bw_GBps(i, j) * 1e9 / (d_model * bytes_per_element)``
  tokens/s (one d_model activation per token crosses each stage boundary).

:class:`~colgen.model.tables.Tables` evaluates all of this once into plain arrays, which every solver reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from colgen.errors import InputError

#: Relative slack when comparing memory need with capacity, so that a segment that fills a GPU
#: exactly is not rejected by floating-point noise. Every solver and the verifier use it.
MEMORY_RTOL = 1e-9

ArrayLike = TypeVar("ArrayLike", float, np.ndarray)


class LatencyModel(Protocol):
    """Per-layer forward latency (seconds) of one GPU at per-GPU batch ``b``."""

    kind: str

    def latency(self, b: float) -> float: ...

    def check_batch(self, b: float, field: str) -> None: ...


@dataclass(frozen=True)
class Affine:
    """``alpha_s + beta_s * b``: exact, the model of tests and hand-made instances."""

    alpha_s: float
    beta_s: float
    kind: str = "affine"

    def latency(self, b: float) -> float:
        return self.alpha_s + self.beta_s * b

    def check_batch(self, b: float, field: str) -> None:
        if self.latency(b) <= 0.0:
            raise InputError(field, f"latency at batch {b:g} is not positive",
                             "give alpha_s > 0 or beta_s > 0")


@dataclass(frozen=True)
class Profile:
    """Measured per-layer latency at listed batch sizes, linearly interpolated in between."""

    batch_sizes: tuple[float, ...]
    latency_s: tuple[float, ...]
    kind: str = "profile"

    def latency(self, b: float) -> float:
        return float(np.interp(b, self.batch_sizes, self.latency_s))

    def check_batch(self, b: float, field: str) -> None:
        lo, hi = self.batch_sizes[0], self.batch_sizes[-1]
        if not lo * (1 - 1e-12) <= b <= hi * (1 + 1e-12):
            raise InputError(
                field, f"per-GPU batch {b:g} is outside the measured range [{lo:g}, {hi:g}]",
                "measure that batch size, or change model.batch_size or "
                "parallelism.max_gpus_per_segment (a stage of k GPUs runs batch_size/k each)")


@dataclass(frozen=True)
class Roofline:
    """Latency from specs: ``max(flops / (peak * eff), bytes / (bandwidth * eff))`` per layer.

    ``flops_per_sample``, ``bytes_fixed`` and ``bytes_per_sample`` come from the model shapes
    (see :func:`roofline_for`); the GPU contributes its peak dense FP16/BF16 TFLOPS and HBM GB/s.
    """

    tflops: float
    hbm_gbps: float
    efficiency: float
    flops_per_sample: float
    bytes_fixed: float
    bytes_per_sample: float
    kind: str = "roofline"

    def latency(self, b: float) -> float:
        compute = b * self.flops_per_sample / (self.tflops * 1e12 * self.efficiency)
        memory = (self.bytes_fixed + b * self.bytes_per_sample) / (self.hbm_gbps * 1e9 * self.efficiency)
        return max(compute, memory)

    def check_batch(self, b: float, field: str) -> None:
        return None


def roofline_for(tflops: float, hbm_gbps: float, efficiency: float, *, params_per_layer: float,
                 d_model: int, seq_len: int, bytes_per_element: float,
                 kv_gb_per_sample_layer: float) -> Roofline:
    """Roofline of one decoder layer running a forward pass over ``b`` full sequences.

    FLOPs per token: ``2 * params`` for the matrix products plus ``2 * d_model * seq_len`` for
    causal attention (QK^T and AV over on average seq_len/2 earlier tokens). Bytes: the layer's
    weights once, plus per sample its KV/activation footprint and the d_model activations in and out.
    """
    flops_per_token = 2.0 * params_per_layer + 2.0 * d_model * seq_len
    act_bytes = 2.0 * seq_len * d_model * bytes_per_element
    return Roofline(
        tflops=tflops, hbm_gbps=hbm_gbps, efficiency=efficiency,
        flops_per_sample=flops_per_token * seq_len,
        bytes_fixed=params_per_layer * bytes_per_element,
        bytes_per_sample=kv_gb_per_sample_layer * 1e9 + act_bytes,
    )


def gpu_throughput(model: LatencyModel, b: float, num_layers: int, seq_len: int) -> float:
    """Tokens/s of one GPU running ``num_layers`` layers at per-GPU batch ``b``."""
    return b * seq_len / (num_layers * model.latency(b))


def memory_need_gb(num_layers: ArrayLike, per_gpu_batch: float, *, weight_gb_per_layer: float,
                   kv_gb_per_sample_layer: float, reserved_gb: float) -> ArrayLike:
    """Memory one GPU needs to hold ``num_layers`` layers at per-GPU batch ``per_gpu_batch``."""
    return (num_layers * weight_gb_per_layer + num_layers * kv_gb_per_sample_layer * per_gpu_batch
            + reserved_gb)


def fits(need_gb: ArrayLike, memory_gb: float) -> ArrayLike:
    """The single memory comparison every part of colgen uses."""
    return need_gb <= memory_gb * (1.0 + MEMORY_RTOL)
