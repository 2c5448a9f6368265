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
from colgen.model.performance import MEMORY_RTOL, Shard
from colgen.result import LinkClaim, Report, Result, StageClaim, parse_report, relative_gap

#: Relative tolerance for comparing a claimed throughput with the recomputed one.
CLAIM_RTOL = 1e-6
#: Relative slack of a limit (a budget, a least throughput): sums of prices in floating point.
LIMIT_RTOL = 1e-9
#: Largest relative gap an ``optimal`` result may show when it records no gap limit of its own
#: (``statistics.gap_limit``): the MIP engines' optimality tolerance.
OPTIMAL_GAP = 1e-4


@dataclass
class Verdict:
    """``objective`` is the placement's throughput (tokens/s); ``cost_per_hour`` its USD per hour
    (None when the instance is not priced)."""

    violations: list[str] = field(default_factory=list)
    objective: float | None = None
    cost_per_hour: float | None = None

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
    """Status, objective, bound and gap agree with one another (the bound is an upper bound of a
    throughput, a lower bound of a cost)."""
    claimed, bound, gap = report.objective, report.bound, report.gap
    minimize = report.objective_kind != "throughput"
    if report.status == "infeasible":
        bad("status 'infeasible', but the result holds a placement")
    if report.status == "heuristic" and bound is not None:
        bad(f"status 'heuristic' claims no optimality, but a bound {bound:.6g} is given")
    if bound is not None and objective is not None:
        if not minimize and bound < objective * (1 - CLAIM_RTOL):
            bad(f"claimed bound {bound:.6g} is below the placement's objective {objective:.6g}")
        if minimize and bound > objective * (1 + CLAIM_RTOL):
            bad(f"claimed lower bound {bound:.6g} is above the placement's {report.objective_kind} {objective:.6g}")
    if claimed is None or bound is None:
        if gap is not None:
            bad(f"claimed gap {gap:.6g} without both an objective and a bound")
        if report.status == "optimal":
            bad("status 'optimal' without a bound")
        return
    expected = relative_gap(claimed, bound, minimize)
    if gap is None:
        if expected is not None and math.isfinite(expected):
            bad(f"no gap given; objective and bound make it {expected:.6g}")
    elif expected is None or not math.isfinite(expected) or abs(gap - expected) > 1e-9 + CLAIM_RTOL * expected:
        bad(f"claimed gap {gap:.6g}, but objective and bound make it {expected:.6g}")
    if report.status == "optimal" and expected is not None and expected > _gap_limit(report):
        bad(f"status 'optimal' with a gap of {expected:.6g} between objective and bound")


def _node_link_gbps(instance: Instance, gpu: int, cache: dict[tuple[str | None, str], float]) -> float:
    """The slowest link between two GPUs of this GPU's type in its node (what its tensor-parallel
    group all-reduces over), from the instance's network."""
    me = instance.gpus[gpu]
    key = (me.node, me.type)
    if key not in cache:
        peers = [g.id for g in instance.gpus if g.node == me.node and g.type == me.type]
        cache[key] = min(float(instance.network.bandwidth(i, j)) for i in peers for j in peers if i != j)
    return cache[key]


def verify(instance: Instance, result: Result | Mapping[str, Any]) -> Verdict:
    """Check coverage, exclusivity, K, memory, every throughput, the cost (USD per hour and per
    million tokens, from the GPUs' prices), every limit (the instance's budgets and deadline, the
    result's goal), the claimed objective, bound, gap and status.

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
    degrees = [c.tp for c in claims]

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
    limits = instance.stage_limits
    if limits.max_stages is not None and len(stages) > limits.max_stages:
        bad(f"{len(stages)} stages, at most {limits.max_stages} allowed (parallelism.max_stages)")
    for start, end, _ in stages:
        if not limits.allows_length(end - start + 1):
            bad(f"segment {start}-{end} has {end - start + 1} layers, allowed {limits.min_layers}.."
                f"{limits.max_layers if limits.max_layers is not None else M} (parallelism.*_layers_per_stage)")

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

    # Tensor-parallel groups: t GPUs of one type in one node, t an allowed degree.
    for (start, end, gpus), t in zip(stages, degrees, strict=True):
        if t not in instance.tp_degrees:
            bad(f"segment {start}-{end}: tensor-parallel degree {t} is not allowed "
                f"(parallelism.tensor_parallel_degrees: {list(instance.tp_degrees)})")
        elif t > 1:
            per_group = Counter((instance.gpus[g].node, instance.gpus[g].type) for g in gpus)
            split = [f"{n} x {ty} in node {node}" for (node, ty), n in per_group.items() if node is None or n % t]
            if split:
                bad(f"segment {start}-{end}: {', '.join(split)} cannot form {t}-way tensor-parallel groups "
                    "(a group is GPUs of one type in one node)")
    if v.violations:
        return v

    # Memory and stage throughput, from the formulas (docs/problem.md).
    values: list[float] = []
    links_in_nodes: dict[tuple[str | None, str], float] = {}
    for idx, ((start, end, gpus), t) in enumerate(zip(stages, degrees, strict=True)):
        L, k = end - start + 1, len(gpus)
        r = k // t
        b = m.batch_size / r
        shard = Shard.of(t, m.num_kv_heads, m.kv_weight_share)
        slowest = float("inf")
        for g in gpus:
            gt = instance.gpu_types[instance.type_index[instance.gpus[g].type]]
            need = (L * m.weight_gb_per_layer * shard.weights + L * m.kv_gb_per_sample_layer * shard.kv * b
                    + instance.reserved_memory_gb)
            if need > gt.memory_gb * (1 + MEMORY_RTOL):
                bad(f"GPU {g} ({gt.name}, {gt.memory_gb:g} GB) needs {need:.4g} GB for layers "
                    f"{start}-{end} with {k} GPUs" + (f" in {t}-way tensor parallelism" if t > 1 else ""))
            seconds = gt.performance.latency(b, shard)
            if t > 1:     # two ring all-reduces of the activations over the node's slowest link of this type
                ring = 2.0 * (t - 1) / t * b * m.seq_len * m.d_model * m.bytes_per_element
                seconds += 2.0 * ring / (_node_link_gbps(instance, g, links_in_nodes) * 1e9)
            slowest = min(slowest, b * m.seq_len / (L * seconds))
        thr = r * slowest * instance.dp_efficiency[r - 1]
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
    if report.throughput is not None and not _close(report.throughput, v.objective):
        bad(f"claimed throughput {report.throughput:.6g}, recomputed {v.objective:.6g}")
    per_m = _costs(instance, report, sorted(owner), v, bad)
    value = {"throughput": v.objective, "cost": v.cost_per_hour, "cost-per-token": per_m}[report.objective_kind]
    claimed = report.objective
    if claimed is None:
        bad("no objective claimed")
    elif value is None:
        bad(f"objective '{report.objective_kind}' claimed, but the instance has no price for every GPU")
    elif not _close(claimed, value):
        unit = {"throughput": "", "cost": " (USD per hour)", "cost-per-token": " (USD per million tokens)"}
        bad(f"claimed objective {claimed:.6g}, recomputed {value:.6g}{unit[report.objective_kind]}")
    _status(report, value, bad)
    return v


def _costs(instance: Instance, report: Report, used: list[int], v: Verdict, bad: Any) -> float | None:
    """Cost per hour and per million tokens, recomputed from the GPUs' prices; the claims and every
    limit (the instance's costs block and the result's goal). Returns USD per million tokens."""
    prices = [g.price_per_hour for g in instance.gpus]
    thr = v.objective
    if any(p is None for p in prices):
        for name, claim in (("cost_per_hour", report.cost_per_hour),
                            ("usd_per_million_tokens", report.usd_per_million_tokens)):
            if claim is not None:
                bad(f"claimed {name} {claim:.6g}, but the instance has no price for every GPU")
        if report.goal.get("max_usd_per_hour") is not None or report.goal.get("max_usd_per_million_tokens") is not None:
            bad("the result claims a budget, but the instance has no price for every GPU")
        _least(instance, report, thr, bad)
        return None
    paid = range(len(prices)) if instance.costs.charge == "all" else used
    cost = math.fsum(prices[g] for g in paid)
    v.cost_per_hour = cost
    per_m = cost * 1e6 / (3600.0 * thr) if thr > 0 else math.inf
    if report.cost_per_hour is not None and not _close(report.cost_per_hour, cost):
        bad(f"claimed cost_per_hour {report.cost_per_hour:.6g}, recomputed {cost:.6g} USD per hour")
    if report.usd_per_million_tokens is not None and not _close(report.usd_per_million_tokens, per_m):
        bad(f"claimed usd_per_million_tokens {report.usd_per_million_tokens:.6g}, recomputed {per_m:.6g}")
    c = instance.costs
    caps = [(c.max_usd_per_hour, cost, "USD per hour", "costs.max_usd_per_hour"),
            (report.goal.get("max_usd_per_hour"), cost, "USD per hour", "the result's budget"),
            (c.max_usd_per_million_tokens, per_m, "USD per million tokens", "costs.max_usd_per_million_tokens"),
            (report.goal.get("max_usd_per_million_tokens"), per_m, "USD per million tokens",
             "the result's cap")]
    if c.job_tokens is not None and c.job_max_usd is not None:
        caps.append((c.job_max_usd, cost * c.job_tokens / (3600.0 * thr) if thr > 0 else math.inf,
                     f"USD for the job of {c.job_tokens:.6g} tokens", "costs.job_max_usd"))
    for limit, value, unit, where in caps:
        if limit is not None and value > limit * (1 + LIMIT_RTOL):
            bad(f"{value:.6g} {unit}, above the limit of {limit:.6g} ({where})")
    _least(instance, report, thr, bad)
    return per_m


def _least(instance: Instance, report: Report, thr: float, bad: Any) -> None:
    """A job's deadline and the result's least throughput."""
    c = instance.costs
    if c.job_tokens is not None and c.job_max_hours is not None:
        hours = c.job_tokens / (3600.0 * thr) if thr > 0 else math.inf
        if hours > c.job_max_hours * (1 + LIMIT_RTOL):
            bad(f"the job of {c.job_tokens:.6g} tokens takes {hours:.6g} hours, above the limit of "
                f"{c.job_max_hours:.6g} (costs.job_max_hours)")
    least = report.goal.get("min_throughput")
    if least is not None and thr < least * (1 - LIMIT_RTOL):
        bad(f"throughput {thr:.6g} tokens/s, below the result's least throughput {least:.6g}")


def verify_frontier(instance: Instance, frontier: Mapping[str, Any]) -> list[str]:
    """Check a frontier report (``colgen pareto``): every point is a valid placement whose
    throughput, USD per hour and per million tokens are as claimed and that meets the report's limits
    (its ``goal``) and the instance's; the points are in increasing throughput and cost, none
    dominating another. Returns the violations (empty: valid)."""
    out: list[str] = []
    points = frontier.get("points") if isinstance(frontier, Mapping) else None
    if not isinstance(points, list):
        return ["the frontier holds no list of points"]
    goal = frontier.get("goal") if isinstance(frontier.get("goal"), Mapping) else {}
    last: tuple[float, float] | None = None
    for i, p in enumerate(points):
        if not isinstance(p, Mapping):
            out.append(f"point {i} is not an object")
            continue
        cost = p.get("cost_per_hour")
        report = {**p, "instance": frontier.get("instance"), "status": "heuristic", "objective": p.get("throughput"),
                  "goal": {**goal, "max_usd_per_hour": cost}}
        verdict = verify(instance, report)
        out += [f"point {i}: {v}" for v in verdict.violations]
        if verdict.ok and verdict.cost_per_hour is not None:
            here = (float(verdict.objective), float(verdict.cost_per_hour))
            if last is not None and not (here[0] > last[0] and here[1] > last[1]):
                out.append(f"point {i} ({here[0]:.6g} tokens/s, {here[1]:.6g} USD/h) does not follow point {i - 1} "
                           f"({last[0]:.6g} tokens/s, {last[1]:.6g} USD/h) in increasing throughput and cost")
            last = here
    return out
