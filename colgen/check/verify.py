"""Independent verifier: judges a placement from the instance alone.

It deliberately shares nothing with the solvers but the instance's primitive latency functions and
the memory tolerance: stage and link throughputs, memory and the objective are recomputed here with
plain loops over GPU ids. Every violation is reported, not just the first.

A result file is read strictly first (:func:`colgen.result.parse_report`: whole numbers where ids
and layers go, finite numbers everywhere). Its claims are matched to the stages they describe
whatever the order the allocations are listed in; the instance's name is checked before anything
else, and the status and gap must agree with the objective and bound.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from colgen.errors import InputError
from colgen.model.instance import Instance
from colgen.model.performance import MEMORY_RTOL
from colgen.result import LinkClaim, Report, Result, StageClaim, parse_report, relative_gap

#: Relative tolerance for comparing a claimed throughput with the recomputed one.
CLAIM_RTOL = 1e-6
#: Largest relative gap an ``optimal`` result may show when it records no gap limit of its own
#: (``statistics.gap_limit``): the MIP engines' optimality tolerance.
OPTIMAL_GAP = 1e-4


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    objective: float | None = None

    @property
    def ok(self) -> bool:
        return not self.violations


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= CLAIM_RTOL * max(abs(a), abs(b), 1e-12)


def _gap_limit(report: Report) -> float:
    limit = report.statistics.get("gap_limit")
    if isinstance(limit, (int, float)) and not isinstance(limit, bool) and math.isfinite(limit) and 0 <= limit < 1:
        return max(float(limit), OPTIMAL_GAP)
    return OPTIMAL_GAP


def _stage_claims(instance: Instance, claims: list[StageClaim], bad: Any) -> None:
    """The records' own fields: duplicates, segment_size, num_gpus, stage number, GPU types."""
    for pos, c in enumerate(claims):
        where = f"segment {c.start_layer}-{c.end_layer}"
        for g, n in Counter(c.gpu_ids).items():
            if n > 1:
                bad(f"{where} lists GPU {g} {n} times")
        if c.segment_size is not None and c.segment_size != c.end_layer - c.start_layer + 1:
            bad(f"{where}: segment_size {c.segment_size}, but layers {c.start_layer}-{c.end_layer} are "
                f"{c.end_layer - c.start_layer + 1}")
        if c.num_gpus is not None and c.num_gpus != len(c.gpu_ids):
            bad(f"{where}: num_gpus {c.num_gpus}, but it lists {len(c.gpu_ids)} GPU ids")
        if c.stage is not None and c.stage != pos:
            bad(f"{where}: numbered stage {c.stage}, but it is stage {pos} of the pipeline")
        if c.gpu_types is not None and all(0 <= g < instance.num_gpus for g in c.gpu_ids):
            actual = Counter(instance.gpus[g].type for g in set(c.gpu_ids))
            if dict(actual) != c.gpu_types:
                bad(f"{where}: gpu_types {c.gpu_types}, but its GPUs are {dict(actual)}")


def _link_claims(connections: tuple[LinkClaim, ...] | None, stages: int, bad: Any) -> dict[int, LinkClaim]:
    """Connection records by the stage they leave (their from_stage, else their position)."""
    if connections is None:
        return {}
    if len(connections) != max(stages - 1, 0):
        bad(f"{len(connections)} connections listed for {stages} stages")
    out: dict[int, LinkClaim] = {}
    for c in connections:
        frm = c.position if c.from_stage is None else c.from_stage
        to = frm + 1 if c.to_stage is None else c.to_stage
        if to != frm + 1 or not 0 <= frm < stages - 1:
            bad(f"connection {c.position} joins stages {frm} and {to}, not two consecutive stages")
        elif frm in out:
            bad(f"two connections leave stage {frm}")
        else:
            out[frm] = c
    return out


def _status(report: Report, objective: float | None, bad: Any) -> None:
    """Status, objective, bound and gap agree with one another."""
    claimed, bound, gap = report.objective, report.bound, report.gap
    if report.status == "infeasible":
        bad("status 'infeasible', but the result holds a placement")
    if report.status == "heuristic" and bound is not None:
        bad(f"status 'heuristic' claims no optimality, but a bound {bound:.6g} is given")
    if bound is not None and objective is not None and bound < objective * (1 - CLAIM_RTOL):
        bad(f"claimed bound {bound:.6g} is below the placement's objective {objective:.6g}")
    if claimed is None or bound is None:
        if gap is not None:
            bad(f"claimed gap {gap:.6g} without both an objective and a bound")
        if report.status == "optimal":
            bad("status 'optimal' without a bound")
        return
    expected = relative_gap(claimed, bound)
    if gap is None:
        if expected is not None and math.isfinite(expected):
            bad(f"no gap given; objective and bound make it {expected:.6g}")
    elif expected is None or not math.isfinite(expected) or abs(gap - expected) > 1e-9 + CLAIM_RTOL * expected:
        bad(f"claimed gap {gap:.6g}, but objective and bound make it {expected:.6g}")
    if report.status == "optimal" and expected is not None and expected > _gap_limit(report):
        bad(f"status 'optimal' with a gap of {expected:.6g} between objective and bound")


def verify(instance: Instance, result: Result | Mapping[str, Any]) -> Verdict:
    """Check coverage, exclusivity, K, memory, every throughput, the claimed objective, bound, gap
    and status.

    ``result`` is a :class:`~colgen.result.Result` or a result report (its JSON, as a dict).

    >>> from colgen import load_instance, solve
    >>> inst = load_instance("instances/seed-tiny.json")
    >>> report = solve(inst, "brute").to_dict(inst)
    >>> verify(inst, report).ok
    True
    >>> report["allocations"][0]["gpu_ids"] = [0]          # a GPU in two stages, another one idle
    >>> verify(inst, report).violations[-1]
    'GPU 0 serves two stages (layers from 1 and from 2)'
    """
    v = Verdict()
    bad = v.violations.append
    try:
        report = parse_report(result.to_dict(instance) if isinstance(result, Result) else result)
    except InputError as exc:
        bad(str(exc))
        return v
    if report.instance is not None and report.instance != instance.name:
        bad(f"the result is for instance '{report.instance}', not '{instance.name}'")
        return v
    if not report.stages:
        bad("the result holds no placement")
        return v
    m = instance.model
    M, N, K = m.num_layers, instance.num_gpus, instance.max_gpus_per_segment
    claims = sorted(report.stages, key=lambda c: (c.start_layer, c.position))
    _stage_claims(instance, claims, bad)
    stages: list[tuple[int, int, list[int]]] = [(c.start_layer, c.end_layer, sorted(set(c.gpu_ids))) for c in claims]

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
        claimed = claims[idx].throughput
        if claimed is not None and not _close(claimed, thr):
            bad(f"segment {start}-{end}: claimed throughput {claimed:.6g}, recomputed {thr:.6g}")

    # Links between consecutive stages.
    links = _link_claims(report.connections, len(stages), bad)
    per_token_bytes = m.d_model * m.bytes_per_element
    for idx, (a, b) in enumerate(itertools.pairwise(stages)):
        bw = min(float(instance.network.bandwidth(i, j)) for i in a[2] for j in b[2])
        thr = bw * 1e9 / per_token_bytes
        values.append(thr)
        if idx in links:
            claimed = links[idx].throughput
            if claimed is not None and not _close(claimed, thr):
                bad(f"link after layer {a[1]}: claimed throughput {claimed:.6g}, recomputed {thr:.6g}")

    v.objective = min(values)
    claimed = report.objective
    if claimed is None:
        bad("no objective claimed")
    elif not _close(claimed, v.objective):
        bad(f"claimed objective {claimed:.6g}, recomputed {v.objective:.6g}")
    _status(report, v.objective, bad)
    return v
