"""The parts of an instance: the model, the GPU types and the GPUs (validated, immutable)."""

from __future__ import annotations

from dataclasses import dataclass

from colgen.model.performance import LatencyModel


@dataclass(frozen=True)
class ModelSpec:
    """The LLM: ``num_layers`` decoder layers run over batches of ``batch_size`` sequences."""

    name: str
    num_layers: int
    d_model: int
    bytes_per_element: float
    seq_len: int
    batch_size: float
    weight_gb_per_layer: float
    kv_gb_per_sample_layer: float
    params_per_layer: float


@dataclass(frozen=True)
class GpuType:
    name: str
    memory_gb: float
    performance: LatencyModel
    catalogue: str | None = None


@dataclass(frozen=True)
class Gpu:
    id: int
    type: str
    node: str | None
