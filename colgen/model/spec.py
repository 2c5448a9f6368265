"""The parts of an instance: the model, the GPU types and the GPUs (validated, immutable)."""

from __future__ import annotations

from collections.abc import Sequence
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
    num_heads: int | None = None
    num_kv_heads: int | None = None
    kv_weight_share: float = 0.0
    """Share of the layer's weights in the key and value projections (they shard differently under
    tensor parallelism when there are fewer KV heads than GPUs); 0 when only the total is known."""


@dataclass(frozen=True)
class GpuType:
    name: str
    memory_gb: float
    performance: LatencyModel
    catalogue: str | None = None
    price_per_hour: float | None = None        #: USD per GPU-hour


@dataclass(frozen=True)
class Gpu:
    id: int
    type: str
    node: str | None
    price_per_hour: float | None = None        #: USD per hour (its entry's price, else its type's)


@dataclass(frozen=True)
class StageLimits:
    """Constraints on the pipeline's stages (the original solver's, and users' own)."""

    max_stages: int | None = None
    min_layers: int = 1
    max_layers: int | None = None

    def allows_length(self, num_layers: int) -> bool:
        return num_layers >= self.min_layers and (self.max_layers is None or num_layers <= self.max_layers)

    def keeps(self, lengths: Sequence[int]) -> bool:
        """Whether a pipeline of stages of these lengths (layers) keeps the limits."""
        if self.max_stages is not None and len(lengths) > self.max_stages:
            return False
        return all(self.allows_length(n) for n in lengths)


@dataclass(frozen=True)
class Costs:
    """How placements are priced, and the budgets they must meet (all in USD).

    ``charge``: ``used`` (only the placement's GPUs are paid for: rented) or ``all`` (the whole
    cluster: owned). A job of ``job_tokens`` tokens with ``job_max_usd`` and ``job_max_hours``
    bounds the price per token and the throughput."""

    charge: str = "used"
    max_usd_per_hour: float | None = None
    max_usd_per_million_tokens: float | None = None
    job_tokens: float | None = None
    job_max_usd: float | None = None
    job_max_hours: float | None = None
