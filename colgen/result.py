"""Placements and results: what every solver returns and what the verifier checks.

A :class:`Placement` is a list of stages (consecutive layer segments with their GPU ids). A
:class:`Result` adds what the solver proved: objective, bound, gap, status, timings, statistics.
:meth:`Result.to_dict` renders the JSON report (the seed's allocation records, plus connections and
the bottleneck); :func:`result_from_dict` reads one back.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from colgen.errors import InputError
from colgen.model.instance import Instance, show_value


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
            "gap": self.gap if self.gap is None or math.isfinite(self.gap) else None,
            "bottleneck": bottleneck,
            "allocations": allocations,
            "connections": connections,
            "timings": self.timings,
            "statistics": self.statistics,
        }


#: Every status a result can carry (colgen/api.py, the engines' outcomes).
STATUSES = ("optimal", "infeasible", "time_limit", "interrupted", "node_limit", "heuristic", "unbounded", "error")

_FIX = "give a result written by colgen solve"


@dataclass(frozen=True)
class StageClaim:
    """One allocation record of a result file, as written (``position`` in the file)."""

    position: int
    start_layer: int
    end_layer: int
    gpu_ids: tuple[int, ...]
    throughput: float | None = None
    segment_size: int | None = None
    num_gpus: int | None = None
    stage: int | None = None
    gpu_types: dict[str, int] | None = None


@dataclass(frozen=True)
class LinkClaim:
    position: int
    from_stage: int | None
    to_stage: int | None
    throughput: float | None


@dataclass(frozen=True)
class Report:
    """A result file read strictly: every field of the right type, every number finite."""

    instance: str | None
    method: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    stages: tuple[StageClaim, ...]
    connections: tuple[LinkClaim, ...] | None
    statistics: dict[str, Any]
    timings: dict[str, Any]


def _whole(value: Any, where: str, what: str = "a whole number") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, f"{show_value(value)} is not {what}", _FIX)
    return value


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(where, f"{show_value(value)} is not a number", _FIX)
    try:
        out = float(value)
    except OverflowError:
        out = float("inf")
    if not math.isfinite(out):
        raise InputError(where, f"{show_value(value)} is not a finite number", _FIX)
    return out


def _optional(data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    return None if value is None else _finite(value, where)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InputError(where, f"{show_value(value)} is not an object", _FIX)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(where, f"{'missing' if value is None else show_value(value) + ' is not a list'}", _FIX)
    return value


def parse_report(data: Any) -> Report:
    """Read a result report strictly; :class:`InputError` names the first bad field."""
    if not isinstance(data, dict):
        raise InputError("(result)", "is not a JSON object", _FIX)
    stages = []
    for i, a in enumerate(_list(data.get("allocations"), "allocations")):
        where = f"allocations[{i}]"
        a = _object(a, where)
        seg = _object(a.get("segment"), f"{where}.segment")
        for key in ("start_layer", "end_layer"):
            if key not in seg:
                raise InputError(f"{where}.segment.{key}", "missing", _FIX)
        ids = _list(a.get("gpu_ids"), f"{where}.gpu_ids")
        gpu_types = a.get("gpu_types")
        if gpu_types is not None:
            gpu_types = {str(t): _whole(n, f"{where}.gpu_types.{t}")
                         for t, n in _object(gpu_types, f"{where}.gpu_types").items()}
        stages.append(StageClaim(
            position=i,
            start_layer=_whole(seg["start_layer"], f"{where}.segment.start_layer", "a layer number"),
            end_layer=_whole(seg["end_layer"], f"{where}.segment.end_layer", "a layer number"),
            gpu_ids=tuple(_whole(g, f"{where}.gpu_ids[{j}]", "a GPU id (a whole number)") for j, g in enumerate(ids)),
            throughput=_optional(a, "throughput", f"{where}.throughput"),
            segment_size=None if seg.get("segment_size") is None
            else _whole(seg["segment_size"], f"{where}.segment.segment_size"),
            num_gpus=None if a.get("num_gpus") is None else _whole(a["num_gpus"], f"{where}.num_gpus"),
            stage=None if a.get("stage") is None else _whole(a["stage"], f"{where}.stage"),
            gpu_types=gpu_types))
    connections = None
    if data.get("connections") is not None:
        connections = []
        for i, c in enumerate(_list(data["connections"], "connections")):
            where = f"connections[{i}]"
            c = _object(c, where)
            connections.append(LinkClaim(
                i, None if c.get("from_stage") is None else _whole(c["from_stage"], f"{where}.from_stage"),
                None if c.get("to_stage") is None else _whole(c["to_stage"], f"{where}.to_stage"),
                _optional(c, "throughput", f"{where}.throughput")))
        connections = tuple(connections)
    status = data.get("status")
    if status not in STATUSES:
        raise InputError("status", f"{show_value(status)} is not a status colgen writes",
                         f"one of {', '.join(STATUSES)}")
    instance = data.get("instance")
    if instance is not None and not isinstance(instance, str):
        raise InputError("instance", f"{show_value(instance)} is not an instance name", _FIX)
    method = data.get("method", "")
    if not isinstance(method, str):
        raise InputError("method", f"{show_value(method)} is not a method name", _FIX)
    stats, timings = data.get("statistics") or {}, data.get("timings") or {}
    _object(stats, "statistics")
    _object(timings, "timings")
    return Report(instance=instance, method=method, status=status,
                  objective=_optional(data, "objective", "objective"), bound=_optional(data, "bound", "bound"),
                  gap=_optional(data, "gap", "gap"), stages=tuple(stages), connections=connections,
                  statistics=stats, timings=timings)


def result_from_dict(data: Any) -> Result:
    """Read a result report (as written by :meth:`Result.to_dict`), strictly."""
    r = parse_report(data)
    ordered = sorted(r.stages, key=lambda c: (c.start_layer, c.position))
    return Result(instance=r.instance or "", method=r.method, status=r.status,
                  placement=tuple(Stage(c.start_layer, c.end_layer, c.gpu_ids) for c in ordered),
                  objective=r.objective, bound=r.bound, timings=dict(r.timings), statistics=dict(r.statistics))
