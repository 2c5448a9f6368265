"""Independent verifier: judges a placement from the instance alone.

It deliberately shares nothing with the solvers but the instance's primitive latency functions and
the memory tolerance: stage and link throughputs, memory and the objective are recomputed here with
plain loops over GPU ids. Every violation is reported, not just the first.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from colgen.model.instance import Instance
from colgen.model.performance import MEMORY_RTOL
from colgen.result import Result

#: Relative tolerance for comparing a claimed throughput with the recomputed one.
CLAIM_RTOL = 1e-6


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    objective: float | None = None

    @property
    def ok(self) -> bool:
        return not self.violations


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= CLAIM_RTOL * max(abs(a), abs(b), 1e-12)


def _claim(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def verify(instance: Instance, result: Result | Mapping[str, Any]) -> Verdict:
    """Check coverage, exclusivity, K, memory, every throughput and the claimed objective/bound.

    ``result`` is a :class:`~colgen.result.Result` or a result report (its JSON, as a dict).

    >>> from colgen import load_instance, solve
    >>> inst = load_instance("instances/seed-tiny.json")
    >>> report = solve(inst, "brute").to_dict(inst)
    >>> verify(inst, report).ok
    True
    >>> report["allocations"][0]["gpu_ids"] = [0]          # a GPU in two stages, another one idle
    >>> verify(inst, report).violations[0]  # doctest: +ELLIPSIS
    'GPU 0 ...'
    """
    report = result.to_dict(instance) if isinstance(result, Result) else result
    v = Verdict()
    bad = v.violations.append
    allocs = report.get("allocations")
    if not isinstance(allocs, list) or not allocs:
        bad("the result holds no placement")
        return v
    m = instance.model
    M, N, K = m.num_layers, instance.num_gpus, instance.max_gpus_per_segment
    stages: list[tuple[int, int, list[int]]] = []
    for i, a in enumerate(allocs):
        try:
            seg = a["segment"]
            start, end = int(seg["start_layer"]), int(seg["end_layer"])
            gpus = [int(g) for g in a["gpu_ids"]]
        except (KeyError, TypeError, ValueError):
            bad(f"allocation {i}: needs segment.start_layer, segment.end_layer and gpu_ids")
            continue
        if "segment_size" in seg and seg["segment_size"] != end - start + 1:
            bad(f"allocation {i}: segment_size {seg['segment_size']} != {end - start + 1}")
        stages.append((start, end, gpus))
    stages.sort(key=lambda s: s[0])

    # Coverage of 1..M by consecutive segments.
    expected = 1
    for start, end, _ in stages:
        if start > end:
            bad(f"segment {start}-{end} is empty")
        if start != expected:
            kind = "gap in coverage" if start > expected else "overlap"
            bad(f"{kind}: segment {start}-{end} starts where layer {expected} was due")
        expected = max(expected, end + 1)
    if expected != M + 1:
        bad(f"coverage ends at layer {expected - 1}, the model has {M} layers")

    # GPUs: valid ids, at most K per stage, each in at most one stage.
    owner: dict[int, int] = {}
    for start, end, gpus in stages:
        if not 1 <= len(gpus) <= K:
            bad(f"segment {start}-{end} has {len(gpus)} GPUs, allowed 1..{K}")
        for g in gpus:
            if not 0 <= g < N:
                bad(f"segment {start}-{end}: GPU {g} does not exist (ids 0..{N - 1})")
            elif g in owner:
                bad(f"GPU {g} serves two stages (layers from {owner[g]} and from {start})")
            else:
                owner[g] = start
    if v.violations:
        return v

    # Memory and stage throughput, from the formulas.
    values: list[float] = []
    for idx, (start, end, gpus) in enumerate(stages):
        L, k = end - start + 1, len(gpus)
        b = m.batch_size / k
        slowest = float("inf")
        for g in gpus:
            gt = instance.gpu_types[instance.type_index[instance.gpus[g].type]]
            need = L * m.weight_gb_per_layer + L * m.kv_gb_per_sample_layer * b + instance.reserved_memory_gb
            if need > gt.memory_gb * (1 + MEMORY_RTOL):
                bad(f"GPU {g} ({gt.name}, {gt.memory_gb:g} GB) needs {need:.4g} GB for layers "
                    f"{start}-{end} with {k} GPUs")
            slowest = min(slowest, b * m.seq_len / (L * gt.performance.latency(b)))
        thr = k * slowest * instance.dp_efficiency[k - 1]
        values.append(thr)
        claimed = _claim(allocs[idx], "throughput")
        if claimed is not None and not _close(claimed, thr):
            bad(f"segment {start}-{end}: claimed throughput {claimed:.6g}, recomputed {thr:.6g}")

    # Links between consecutive stages.
    links = report.get("connections") or []
    if report.get("connections") is not None and len(links) != len(stages) - 1:
        bad(f"{len(links)} connections listed for {len(stages)} stages")
    per_token_bytes = m.d_model * m.bytes_per_element
    for idx, (a, b) in enumerate(itertools.pairwise(stages)):
        bw = min(float(instance.network.bandwidth(i, j)) for i in a[2] for j in b[2])
        thr = bw * 1e9 / per_token_bytes
        values.append(thr)
        if idx < len(links):
            claimed = _claim(links[idx], "throughput")
            if claimed is not None and not _close(claimed, thr):
                bad(f"link after layer {a[1]}: claimed throughput {claimed:.6g}, recomputed {thr:.6g}")

    v.objective = min(values)
    claimed = _claim(report, "objective")
    if claimed is None:
        bad("no objective claimed")
    elif not _close(claimed, v.objective):
        bad(f"claimed objective {claimed:.6g}, recomputed {v.objective:.6g}")
    bound = _claim(report, "bound")
    if bound is not None and bound < v.objective * (1 - CLAIM_RTOL):
        bad(f"claimed bound {bound:.6g} is below the placement's objective {v.objective:.6g}")
    return v
