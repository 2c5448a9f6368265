"""Placements and results: what every solver returns and what the verifier checks.

A :class:`Placement` is a list of stages (consecutive layer segments with their GPU ids). A
:class:`Result` adds what the solver proved: objective, bound, gap, status, timings, statistics.
:meth:`Result.to_dict` renders the JSON report (the seed's allocation records, plus connections and
the bottleneck); :func:`result_from_dict` reads one back.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from colgen.errors import InputError
from colgen.model.instance import Instance


@dataclass(frozen=True)
class Stage:
    """Layers ``start_layer..end_layer`` (1-based, inclusive) on the GPUs ``gpu_ids``."""

    start_layer: int
    end_layer: int
    gpu_ids: tuple[int, ...]

    @property
    def num_layers(self) -> int:
        return self.end_layer - self.start_layer + 1


Placement = tuple[Stage, ...]


def placement_throughput(instance: Instance, placement: Placement) -> float:
    """End-to-end throughput: the minimum over stage and link throughputs (performance tables)."""
    tab = instance.tables
    values = [tab.stage_throughput(s.num_layers, s.gpu_ids) for s in placement]
    values += [tab.link_throughput(a.gpu_ids, b.gpu_ids)
               for a, b in itertools.pairwise(placement)]
    return min(values)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``(bound - objective) / objective`` (Gurobi's convention for a maximization)."""
    if objective is None or bound is None:
        return None
    if objective <= 0:
        return float("inf") if bound > objective else 0.0
    return max(0.0, (bound - objective) / objective)


@dataclass
class Result:
    """A solver's answer. ``objective`` is the throughput of ``placement`` (tokens/s), ``bound`` a
    proven upper bound on the optimum."""

    instance: str
    method: str
    status: str
    placement: Placement
    objective: float | None
    bound: float | None
    timings: dict[str, float] = field(default_factory=dict)
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound)

    def to_dict(self, instance: Instance) -> dict[str, Any]:
        """The JSON report; throughputs are evaluated with the instance's performance tables."""
        tab = instance.tables
        B = instance.model.batch_size
        allocations, values = [], []
        for i, s in enumerate(self.placement):
            thr = tab.stage_throughput(s.num_layers, s.gpu_ids)
            values.append((thr, {"kind": "stage", "stage": i}))
            allocations.append({
                "stage": i,
                "segment": {"start_layer": s.start_layer, "end_layer": s.end_layer,
                            "segment_size": s.num_layers},
                "gpu_ids": list(s.gpu_ids),
                "gpu_types": dict(Counter(instance.gpus[g].type for g in s.gpu_ids)),
                "num_gpus": len(s.gpu_ids),
                "throughput": thr,
                "workload_per_gpu": B / len(s.gpu_ids),
            })
        connections = []
        for i, (a, b) in enumerate(zip(self.placement, self.placement[1:], strict=False)):
            thr = tab.link_throughput(a.gpu_ids, b.gpu_ids)
            values.append((thr, {"kind": "link", "from_stage": i, "to_stage": i + 1}))
            connections.append({"from_stage": i, "to_stage": i + 1, "throughput": thr})
        bottleneck = min(values, key=lambda v: v[0])[1] if values else None
        return {
            "instance": self.instance,
            "method": self.method,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "bottleneck": bottleneck,
            "allocations": allocations,
            "connections": connections,
            "timings": self.timings,
            "statistics": self.statistics,
        }


def result_from_dict(data: Any) -> Result:
    """Read a result report (as written by :meth:`Result.to_dict`)."""
    if not isinstance(data, dict):
        raise InputError("(result)", "is not a JSON object", "give a result written by colgen solve")
    allocs = data.get("allocations")
    if not isinstance(allocs, list):
        raise InputError("allocations", "missing or not a list", "give a result written by colgen solve")
    stages = []
    for i, a in enumerate(allocs):
        try:
            seg = a["segment"]
            stages.append(Stage(int(seg["start_layer"]), int(seg["end_layer"]),
                                tuple(int(g) for g in a["gpu_ids"])))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"allocations[{i}]", "needs segment.start_layer, segment.end_layer and "
                             "gpu_ids (integers)", "give a result written by colgen solve") from None
    return Result(instance=str(data.get("instance", "")), method=str(data.get("method", "")),
                  status=str(data.get("status", "")), placement=tuple(stages),
                  objective=data.get("objective"), bound=data.get("bound"),
                  timings=dict(data.get("timings") or {}), statistics=dict(data.get("statistics") or {}))
