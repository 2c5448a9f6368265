"""Performance model: per-layer latency of a GPU type, and the throughput and memory formulas.

Units: seconds, tokens/s, GB = 1e9 bytes, GB/s. The formulas (see docs/problem.md):

* one GPU running ``L`` layers at per-GPU batch ``b`` (samples of ``seq_len`` tokens) delivers
  ``b * seq_len / (L * latency(b))`` tokens/s, where ``latency(b)`` is the per-layer latency;
* a stage of ``k`` GPUs splits the batch ``B`` evenly: ``k * min_g thr(type_g, B/k, L) * eff(k)``;
* a GPU holding ``L`` layers of a stage of ``k`` GPUs needs
  ``L * weight_gb_per_layer + L * kv_gb_per_sample_layer * B/k + reserved_memory_gb``;
* a link from GPU i to GPU j carries ``bw_GBps(i, j) * 1e9 / (d_model * bytes_per_element)``
  tokens/s (one d_model activation per token crosses each stage boundary);
* under tensor parallelism of degree t (Megatron-LM), a :class:`Shard` says which share of a
  layer's weights, KV cache and work one GPU of a t-way group holds, and every layer adds two ring
  all-reduces of the layer's activations (:func:`allreduce_seconds`).

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


@dataclass(frozen=True)
class Shard:
    """What one GPU of a t-way tensor-parallel group holds of a layer (Megatron-LM; GQA as in vLLM).

    Query, output and FFN matrices split t ways. Key/value heads split t ways while there are at
    least t of them; with fewer, each GPU keeps whole KV heads, one of the ``num_kv_heads`` (they are
    replicated): ``kv = max(1/t, 1/num_kv_heads)``. ``weights``: the share of the layer's weights
    (``kv_weight_share`` of them are K/V projections), ``kv``: of its KV cache, ``work``: of its
    matrix-product FLOPs (as the weights), ``attention``: of its attention FLOPs (split by query heads).
    """

    degree: int = 1
    weights: float = 1.0
    kv: float = 1.0
    work: float = 1.0
    attention: float = 1.0

    @classmethod
    def of(cls, t: int, num_kv_heads: int | None, kv_weight_share: float) -> Shard:
        if t == 1:
            return cls()
        kv = 1.0 / t if num_kv_heads is None else max(1.0 / t, 1.0 / num_kv_heads)
        weights = (1.0 - kv_weight_share) / t + kv_weight_share * kv
        return cls(degree=t, weights=weights, kv=kv, work=weights, attention=1.0 / t)


NO_SHARD = Shard()


def allreduce_seconds(t: int, per_replica_batch: float, seq_len: int, d_model: int, bytes_per_element: float,
                      gbps: float) -> float:
    """Per-layer time of a t-way group's two ring all-reduces (after attention, after the FFN) of the
    layer's activations, ``b * seq_len * d_model`` elements, over its slowest internal link:
    ``2 * 2 (t-1)/t * bytes / bandwidth`` (the NCCL ring formula)."""
    if t == 1:
        return 0.0
    size = per_replica_batch * seq_len * d_model * bytes_per_element
    return 2.0 * 2.0 * (t - 1) / t * size / (gbps * 1e9)


class LatencyModel(Protocol):
    """Per-layer forward latency (seconds) of one GPU at per-GPU batch ``b``; with a :class:`Shard`,
    of one GPU of a tensor-parallel group (compute only: the all-reduces are added by the caller)."""

    kind: str

    def latency(self, b: float, shard: Shard = NO_SHARD) -> float: ...

    def check_batch(self, b: float, field: str) -> None: ...


@dataclass(frozen=True)
class Affine:
    """``alpha_s + beta_s * b``: exact, the model of tests and hand-made instances."""

    alpha_s: float
    beta_s: float
    kind: str = "affine"

    def latency(self, b: float, shard: Shard = NO_SHARD) -> float:
        """Under tensor parallelism the layer's time splits t ways (an ideal split: the affine
        model does not say which part is weights and which is work)."""
        return (self.alpha_s + self.beta_s * b) / shard.degree

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

    def latency(self, b: float, shard: Shard = NO_SHARD) -> float:
        """Under tensor parallelism the measured time splits t ways (as for :class:`Affine`)."""
        return float(np.interp(b, self.batch_sizes, self.latency_s)) / shard.degree

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

    The FLOPs (matrix products, attention) and bytes (weights, KV cache, activations) per sample
    come from the model shapes (see :func:`roofline_for`); the GPU contributes its peak dense
    FP16/BF16 TFLOPS and HBM GB/s. Under tensor parallelism each GPU does its :class:`Shard` of the
    work and reads its share of weights and KV cache; the activations in and out are whole.
    """

    tflops: float
    hbm_gbps: float
    efficiency: float
    flops_matmul_per_sample: float
    flops_attention_per_sample: float
    weight_bytes: float
    kv_bytes_per_sample: float
    activation_bytes_per_sample: float
    kind: str = "roofline"

    def latency(self, b: float, shard: Shard = NO_SHARD) -> float:
        flops = b * (self.flops_matmul_per_sample * shard.work + self.flops_attention_per_sample * shard.attention)
        moved = (self.weight_bytes * shard.weights
                 + b * (self.kv_bytes_per_sample * shard.kv + self.activation_bytes_per_sample))
        return max(flops / (self.tflops * 1e12 * self.efficiency), moved / (self.hbm_gbps * 1e9 * self.efficiency))

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
    return Roofline(
        tflops=tflops, hbm_gbps=hbm_gbps, efficiency=efficiency,
        flops_matmul_per_sample=2.0 * params_per_layer * seq_len,
        flops_attention_per_sample=2.0 * d_model * seq_len * seq_len,
        weight_bytes=params_per_layer * bytes_per_element,
        kv_bytes_per_sample=kv_gb_per_sample_layer * 1e9,
        activation_bytes_per_sample=2.0 * seq_len * d_model * bytes_per_element,
    )


def gpu_throughput(model: LatencyModel, b: float, num_layers: int, seq_len: int) -> float:
    """Tokens/s of one GPU running ``num_layers`` layers at per-GPU batch ``b``."""
    return b * seq_len / (num_layers * model.latency(b))


def memory_need_gb(num_layers: ArrayLike, per_gpu_batch: float, *, weight_gb_per_layer: float,
                   kv_gb_per_sample_layer: float, reserved_gb: float, shard: Shard = NO_SHARD) -> ArrayLike:
    """Memory one GPU needs to hold ``num_layers`` layers at per-replica batch ``per_gpu_batch``
    (its shard of them, in a tensor-parallel group)."""
    return (num_layers * weight_gb_per_layer * shard.weights
            + num_layers * kv_gb_per_sample_layer * shard.kv * per_gpu_batch + reserved_gb)


def fits(need_gb: ArrayLike, memory_gb: float) -> ArrayLike:
    """The single memory comparison every part of colgen uses."""
    return need_gb <= memory_gb * (1.0 + MEMORY_RTOL)
