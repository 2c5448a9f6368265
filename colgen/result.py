"""Placements and results: what every solver returns and what the verifier checks.

A :class:`Placement` is a list of stages (consecutive layer segments with their GPU ids). A
:class:`Result` adds what the solver proved: objective, bound, gap, status, timings, statistics, the
options it ran with and its convergence trace. :meth:`Result.to_dict` renders the JSON report (the
seed's allocation records with GPU types and nodes, the links between stages with their bandwidth,
the bottleneck in words, a summary line, units, the colgen version); :func:`result_from_dict` reads
one back.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from colgen.choices import OBJECTIVES
from colgen.errors import InputError
from colgen.model.costs import cost_per_hour, usd_per_million_tokens
from colgen.model.instance import Instance, show_value
from colgen.model.performance import Shard, memory_need_gb

#: The units of the numbers in a result report (also written into it).
UNITS = {"throughput": "tokens/s", "bandwidth": "GB/s (1e9 bytes/s)", "memory": "GB (1e9 bytes)",
         "time": "s", "cost_per_hour": "USD per hour", "usd_per_million_tokens": "USD per million tokens"}
#: The unit of each objective (``objective`` and ``bound`` of a result are in it).
OBJECTIVE_UNITS = {"throughput": "tokens/s", "cost": "USD per hour", "cost-per-token": "USD per million tokens"}


@dataclass(frozen=True)
class Stage:
    """Layers ``start_layer..end_layer`` (1-based, inclusive) on the GPUs ``gpu_ids``, in
    ``len(gpu_ids) / tp`` data-parallel replicas of ``tp``-way tensor-parallel groups (each group is
    ``tp`` GPUs of one type in one node)."""

    start_layer: int
    end_layer: int
    gpu_ids: tuple[int, ...]
    tp: int = 1

    @property
    def num_layers(self) -> int:
        return self.end_layer - self.start_layer + 1

    @property
    def replicas(self) -> int:
        return len(self.gpu_ids) // self.tp


Placement = tuple[Stage, ...]


def placement_throughput(instance: Instance, placement: Placement) -> float:
    """End-to-end throughput: the minimum over stage and link throughputs (performance tables)."""
    tab = instance.tables
    values = [tab.stage_throughput(s.num_layers, s.gpu_ids, s.tp) for s in placement]
    values += [tab.link_throughput(a.gpu_ids, b.gpu_ids)
               for a, b in itertools.pairwise(placement)]
    return min(values)


def meets_limits(instance: Instance, placement: Placement) -> bool:
    """Whether the placement keeps the instance's stage limits (number of stages, layers each)."""
    return instance.stage_limits.keeps([s.num_layers for s in placement])


def replica_groups(instance: Instance, stage: Stage) -> list[list[int]]:
    """The stage's GPUs as its replicas: ``tp`` GPUs of one type and node each (in id order)."""
    if stage.tp == 1:
        return [[g] for g in stage.gpu_ids]
    by: dict[tuple[str | None, str], list[int]] = {}
    for g in sorted(stage.gpu_ids):
        by.setdefault((instance.gpus[g].node, instance.gpus[g].type), []).append(g)
    return [ids[i:i + stage.tp] for ids in by.values() for i in range(0, len(ids), stage.tp)]


def placement_cost(instance: Instance, placement: Placement) -> float | None:
    """USD per hour of a placement (colgen/model/costs.py), None when the instance is not priced."""
    return cost_per_hour(instance, [g for s in placement for g in s.gpu_ids])


def relative_gap(objective: float | None, bound: float | None, minimize: bool = False) -> float | None:
    """``(bound - objective) / objective`` for a maximization (Gurobi's convention), ``(objective -
    bound) / objective`` for a minimization (the bound is then a lower bound)."""
    if objective is None or bound is None:
        return None
    ahead = objective - bound if minimize else bound - objective
    if objective <= 0:
        return float("inf") if ahead > 0 else 0.0
    return max(0.0, ahead / objective)


def si(x: float | None, unit: str = "") -> str:
    """``x`` with three significant digits and an SI prefix: ``si(21143.9, "tokens/s")`` is
    ``'21.1k tokens/s'``."""
    if x is None:
        return "-"
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{prefix}" + (f" {unit}" if unit else "")
    return f"{x:.3g}" + (f" {unit}" if unit else "")


def id_ranges(ids: list[int] | tuple[int, ...]) -> str:
    """``[0, 1, 2, 5]`` as ``'0-2,5'``."""
    out: list[str] = []
    for _, run in itertools.groupby(enumerate(sorted(ids)), key=lambda p: p[1] - p[0]):
        r = [g for _, g in run]
        out.append(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}")
    return ",".join(out)


def gpus_in_words(instance: Instance, gpu_ids: list[int] | tuple[int, ...]) -> str:
    """``2 x L40S (GPUs 8-9, node l40s-0)``: the types, the ids and the nodes of a GPU set."""
    types = Counter(instance.gpus[g].type for g in gpu_ids)
    what = " + ".join(f"{n} x {t}" for t, n in types.items())
    nodes = list(dict.fromkeys(instance.gpus[g].node for g in gpu_ids if instance.gpus[g].node is not None))
    where = (f", node {nodes[0]}" if len(nodes) == 1 else f", nodes {', '.join(nodes)}") if nodes else ""
    return f"{what} (GPU{'s' if len(gpu_ids) > 1 else ''} {id_ranges(gpu_ids)}{where})"


@dataclass
class Result:
    """A solver's answer. ``objective`` is the value of ``placement`` for ``objective_kind``: its
    throughput (tokens/s, the default), its cost (USD per hour) or its USD per million tokens;
    ``bound`` a proven bound on the optimum (upper for throughput, lower for the costs). ``goal``:
    the limits the placement had to meet (colgen/model/costs.py, ``Goal.to_dict``), None for
    today's problem. ``options`` are the options it ran with (common ones and the method's own);
    ``trace`` is its convergence: ``{"time_s", "incumbent", "bound"}`` records, the incumbent's
    objective (None before the first placement) and the proven bound over time.

    >>> from colgen import load_instance, solve
    >>> inst = load_instance("instances/seed-tiny.json")
    >>> r = solve(inst, "brute")
    >>> r.status, len(r.placement), r.trace[-1]["bound"] == r.objective
    ('optimal', 2, True)
    >>> report = r.to_dict(inst)
    >>> report["summary"]  # doctest: +ELLIPSIS
    '2 stages on 4 of 4 GPUs (2 x A100, 2 x V100), throughput ... tokens/s; bottleneck: ...'
    """

    instance: str
    method: str
    status: str
    placement: Placement
    objective: float | None
    bound: float | None
    timings: dict[str, float] = field(default_factory=dict)
    statistics: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    trace: list[dict[str, float | None]] = field(default_factory=list)
    objective_kind: str = "throughput"
    goal: dict[str, Any] | None = None

    @property
    def minimize(self) -> bool:
        return self.objective_kind != "throughput"

    @property
    def gap(self) -> float | None:
        return relative_gap(self.objective, self.bound, self.minimize)

    def to_dict(self, instance: Instance) -> dict[str, Any]:
        """The JSON report; throughputs are evaluated with the instance's performance tables."""
        from colgen import __version__

        tab = instance.tables
        m = instance.model
        B = m.batch_size
        bytes_per_token = m.d_model * m.bytes_per_element
        allocations, values = [], []
        for i, s in enumerate(self.placement):
            thr = tab.stage_throughput(s.num_layers, s.gpu_ids, s.tp)
            shard = Shard.of(s.tp, m.num_kv_heads, m.kv_weight_share)
            values.append((thr, {"kind": "stage", "stage": i}))
            allocations.append({
                "stage": i,
                "segment": {"start_layer": s.start_layer, "end_layer": s.end_layer,
                            "segment_size": s.num_layers},
                "gpu_ids": list(s.gpu_ids),
                "gpu_types": dict(Counter(instance.gpus[g].type for g in s.gpu_ids)),
                "nodes": list(dict.fromkeys(instance.gpus[g].node for g in s.gpu_ids)),
                "gpus": [{"id": g, "type": instance.gpus[g].type, "node": instance.gpus[g].node}
                         for g in s.gpu_ids],
                "num_gpus": len(s.gpu_ids),
                "tensor_parallel": s.tp,
                "replicas": replica_groups(instance, s),
                "throughput": thr,
                "workload_per_gpu": B / s.replicas,
                "memory_gb_per_gpu": float(memory_need_gb(
                    s.num_layers, B / s.replicas, weight_gb_per_layer=m.weight_gb_per_layer,
                    kv_gb_per_sample_layer=m.kv_gb_per_sample_layer, reserved_gb=instance.reserved_memory_gb,
                    shard=shard)),
            })
        connections = []
        for i, (a, b) in enumerate(itertools.pairwise(self.placement)):
            thr = tab.link_throughput(a.gpu_ids, b.gpu_ids)
            pair = min((tab.link_throughput((x,), (y,)), x, y) for x in a.gpu_ids for y in b.gpu_ids)
            values.append((thr, {"kind": "link", "from_stage": i, "to_stage": i + 1}))
            connections.append({
                "from_stage": i, "to_stage": i + 1, "throughput": thr,
                "bandwidth_gbps": thr * bytes_per_token / 1e9,
                "slowest_pair": {"from_gpu": pair[1], "to_gpu": pair[2],
                                 "from_node": instance.gpus[pair[1]].node, "to_node": instance.gpus[pair[2]].node},
            })
        bottleneck = None
        if values:
            thr, bottleneck = min(values, key=lambda v: v[0])
            bottleneck = {**bottleneck, "throughput": thr, "text": self._bottleneck_words(instance, bottleneck, thr)}
        used = sorted({g for s in self.placement for g in s.gpu_ids})
        throughput = min(v for v, _ in values) if values else None
        cost = placement_cost(instance, self.placement) if self.placement else None
        return {
            "colgen_version": __version__,
            "instance": self.instance,
            "method": self.method,
            "status": self.status,
            "objective_kind": self.objective_kind,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap if self.gap is None or math.isfinite(self.gap) else None,
            "throughput": throughput,
            "cost_per_hour": cost,
            "usd_per_million_tokens": usd_per_million_tokens(cost, throughput),
            "goal": self.goal,
            "units": {**UNITS, "objective": OBJECTIVE_UNITS[self.objective_kind]},
            "summary": self._summary(instance, used, bottleneck, throughput, cost),
            "num_stages": len(self.placement),
            "gpus_used": len(used),
            "gpus_total": instance.num_gpus,
            "bottleneck": bottleneck,
            "allocations": allocations,
            "connections": connections,
            "timings": self.timings,
            "statistics": self.statistics,
            "options": self.options,
            "trace": self.trace,
        }

    def _bottleneck_words(self, instance: Instance, where: dict[str, Any], thr: float) -> str:
        if where["kind"] == "stage":
            s = self.placement[where["stage"]]
            layers = f"layer {s.start_layer}" if s.num_layers == 1 else f"layers {s.start_layer}-{s.end_layer}"
            return (f"stage {where['stage']}: {layers} on "
                    f"{gpus_in_words(instance, s.gpu_ids)}, {si(thr, 'tokens/s')}")
        a, b = self.placement[where["from_stage"]], self.placement[where["to_stage"]]
        m = instance.model
        bw = thr * m.d_model * m.bytes_per_element / 1e9
        return (f"the link from stage {where['from_stage']} to stage {where['to_stage']}: "
                f"{gpus_in_words(instance, a.gpu_ids)} -> {gpus_in_words(instance, b.gpu_ids)}, "
                f"{bw:.3g} GB/s = {si(thr, 'tokens/s')}")

    def _summary(self, instance: Instance, used: list[int], bottleneck: dict[str, Any] | None,
                 throughput: float | None, cost: float | None) -> str:
        if not self.placement:
            return f"{self.status}: no placement"
        types = Counter(instance.gpus[g].type for g in used)
        what = ", ".join(f"{n} x {t}" for t, n in types.items())
        return (f"{len(self.placement)} stage{'s' if len(self.placement) > 1 else ''} on {len(used)} of "
                f"{instance.num_gpus} GPUs ({what}), throughput {si(throughput, 'tokens/s')}"
                f"{money(cost, throughput)}; bottleneck: {bottleneck['text'] if bottleneck else '-'}")


def money(cost: float | None, throughput: float | None) -> str:
    """``', $12.3/h, $0.456 per million tokens'`` (empty when the instance is not priced)."""
    if cost is None:
        return ""
    per_m = usd_per_million_tokens(cost, throughput)
    return f", {usd(cost)}/h" + (f", {usd(per_m)} per million tokens" if per_m is not None else "")


def usd(x: float | None) -> str:
    """``$1,234``, ``$12.35``, ``$0.0123``: dollars to four significant digits or to the cent."""
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"${x:,.0f}"
    if abs(x) >= 1:
        return f"${x:.2f}"
    return f"${x:.3g}"


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
    tp: int = 1


@dataclass(frozen=True)
class LinkClaim:
    position: int
    from_stage: int | None
    to_stage: int | None
    throughput: float | None


@dataclass(frozen=True)
class Report:
    """A result file read strictly: every field of the right type, every number finite. ``goal``
    holds the limits the result claims to meet (``max_usd_per_hour``, ``min_throughput``,
    ``max_usd_per_million_tokens``: numbers or None)."""

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
    objective_kind: str = "throughput"
    throughput: float | None = None
    cost_per_hour: float | None = None
    usd_per_million_tokens: float | None = None
    goal: dict[str, float | None] = field(default_factory=dict)


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
            gpu_types=gpu_types,
            tp=1 if a.get("tensor_parallel") is None else _whole(a["tensor_parallel"], f"{where}.tensor_parallel",
                                                                 "a tensor-parallel degree")))
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
    kind = data.get("objective_kind", "throughput")
    if kind not in OBJECTIVES:
        raise InputError("objective_kind", f"{show_value(kind)} is not an objective colgen writes",
                         f"one of {', '.join(OBJECTIVES)}")
    goal: dict[str, float | None] = {}
    if data.get("goal") is not None:
        block = _object(data["goal"], "goal")
        goal = {key: _optional(block, key, f"goal.{key}")
                for key in ("max_usd_per_hour", "min_throughput", "max_usd_per_million_tokens")}
    return Report(instance=instance, method=method, status=status,
                  objective=_optional(data, "objective", "objective"), bound=_optional(data, "bound", "bound"),
                  gap=_optional(data, "gap", "gap"), stages=tuple(stages), connections=connections,
                  statistics=stats, timings=timings, objective_kind=kind,
                  throughput=_optional(data, "throughput", "throughput"),
                  cost_per_hour=_optional(data, "cost_per_hour", "cost_per_hour"),
                  usd_per_million_tokens=_optional(data, "usd_per_million_tokens", "usd_per_million_tokens"),
                  goal=goal)


def result_from_dict(data: Any) -> Result:
    """Read a result report (as written by :meth:`Result.to_dict`), strictly."""
    r = parse_report(data)
    ordered = sorted(r.stages, key=lambda c: (c.start_layer, c.position))
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    trace = data.get("trace") if isinstance(data.get("trace"), list) else []
    goal = data.get("goal") if isinstance(data.get("goal"), dict) else None
    return Result(instance=r.instance or "", method=r.method, status=r.status,
                  placement=tuple(Stage(c.start_layer, c.end_layer, c.gpu_ids, c.tp) for c in ordered),
                  objective=r.objective, bound=r.bound, timings=dict(r.timings), statistics=dict(r.statistics),
                  options=dict(options), trace=list(trace), objective_kind=r.objective_kind,
                  goal=dict(goal) if goal is not None else None)
