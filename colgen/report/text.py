"""Human-readable text: what an instance is, and what a result says."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np

from colgen.model.hf import Analysis
from colgen.model.instance import Instance
from colgen.model.performance import gpu_throughput
from colgen.result import Result, id_ranges, usd
from colgen.space.allocations import space_sizes
from colgen.space.feasibility import why_infeasible


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.4g}"


def describe_instance(inst: Instance) -> str:
    m = inst.model
    tab = inst.tables
    K = inst.max_gpus_per_segment
    lines = [f"instance {inst.name}" + (f": {inst.description}" if inst.description else "")]
    lines.append(
        f"model {m.name}: {m.num_layers} layers, d_model {m.d_model}, {m.bytes_per_element:g} bytes/element, "
        f"seq_len {m.seq_len}, batch {m.batch_size:g}"
        + (f" (from the Hugging Face config {inst.model_source})" if inst.model_source else ""))
    lines.append(
        f"  memory per layer: {m.weight_gb_per_layer:.4g} GB weights + {m.kv_gb_per_sample_layer:.4g} GB "
        f"per sample (whole model: {m.num_layers * m.weight_gb_per_layer:.4g} GB weights)")
    lines.append(f"  stages: at most {K} GPUs, eff(k) = {', '.join(f'{e:g}' for e in inst.dp_efficiency)};"
                 f" reserved {inst.reserved_memory_gb:g} GB per GPU")
    counts = Counter(g.type for g in inst.gpus)
    lines.append(f"GPU types ({inst.num_gpus} GPUs):")
    lines.append(f"  {'type':<10} {'count':>5} {'mem GB':>7} {'performance':<20} {'tok/s 1 layer @B':>17}"
                 f"  max layers for k=1..K")
    for t, gt in enumerate(inst.gpu_types):
        thr = gpu_throughput(gt.performance, m.batch_size, 1, m.seq_len)
        max_layers = []
        for k in range(1, K + 1):
            fit = np.nonzero(tab.fits[1:, k, t])[0]
            max_layers.append(str(int(fit[-1]) + 1 if fit.size else 0))
        model = gt.performance.kind + (f":{gt.catalogue}" if gt.catalogue else "")
        lines.append(f"  {gt.name:<10} {counts.get(gt.name, 0):>5} {gt.memory_gb:>7g} {model:<20} "
                     f"{_si(thr):>17}  {'/'.join(max_layers)}")
    by_node: dict[str | None, Counter[str]] = defaultdict(Counter)
    for g in inst.gpus:
        by_node[g.node][g.type] += 1
    if any(n is not None for n in by_node):
        alike: dict[str, list[str]] = defaultdict(list)
        for node, c in by_node.items():
            alike[" + ".join(f"{n}x{t}" for t, n in sorted(c.items()))].append(str(node))
        lines.append(f"nodes ({len(by_node)}):")
        for content, names in alike.items():
            shown = ", ".join(names[:3]) + (f", ... ({len(names)} nodes)" if len(names) > 3 else "")
            lines.append(f"  {content}: {shown}")
    prices = [g.price_per_hour for g in inst.gpus]
    if any(p is not None for p in prices):
        by_type: dict[str, set[float | None]] = defaultdict(set)
        for g in inst.gpus:
            by_type[g.type].add(g.price_per_hour)
        shown = "; ".join(f"{t} {', '.join('none' if p is None else usd(p) for p in sorted(ps, key=lambda p: p or 0))}"
                          for t, ps in by_type.items())
        whole = sum(p for p in prices if p is not None)
        c = inst.costs
        lines.append(f"prices per GPU-hour: {shown}; the whole cluster {usd(whole)}/h"
                     + ("" if all(p is not None for p in prices) else " (GPUs without a price left out)")
                     + f"; charge: {c.charge} ({'GPUs in use' if c.charge == 'used' else 'the whole cluster'})")
        limits = [f"{name} {value:g}" for name, value in (
            ("max_usd_per_hour", c.max_usd_per_hour), ("max_usd_per_million_tokens", c.max_usd_per_million_tokens),
            ("job_tokens", c.job_tokens), ("job_max_usd", c.job_max_usd), ("job_max_hours", c.job_max_hours))
            if value is not None]
        if limits:
            lines.append(f"  costs: {', '.join(limits)}")
    levels = inst.network.levels()
    if levels.size:
        lines.append(f"network: {levels.size} distinct bandwidths, {levels.min():g}..{levels.max():g} GB/s"
                     f" = {_si(levels.min() * tab.link_scale)}..{_si(levels.max() * tab.link_scale)} tokens/s"
                     " per link")
    lines.append("allocation space (memory-feasible):")
    lines.append(f"  {'K':>3} {'segments':>9} {'allocations':>26}")
    for s in space_sizes(tab):
        lines.append(f"  {s.max_k:>3} {s.segments:>9} {s.allocations:>26,}")
    reason = why_infeasible(inst)
    if reason:
        lines.append(f"infeasible: {reason}")
    return "\n".join(lines)


def describe_result(inst: Instance, result: Result) -> str:
    """The placement in the user's terms: a head line with the proof, a summary line, one row per
    stage (layers, GPUs by node, types, memory, throughput) and per link (bandwidth, nodes,
    throughput), every number with its unit, and the bottleneck marked.

    >>> from colgen import load_instance, solve
    >>> inst = load_instance("instances/seed-tiny.json")
    >>> print(describe_result(inst, solve(inst, "brute")))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
    brute: optimal, throughput 232298 tokens/s, bound 232298 tokens/s, gap 0.0000%
    2 stages on 4 of 4 GPUs (2 x A100, 2 x V100), throughput 232k tokens/s; bottleneck: stage 1: layers 2-4 ...
      stage  layers   GPUs (node: ids)             types          memory/GPU       throughput
          0    1      n1: 2-3                      2 V100           0.673 GB    279k tokens/s
             |        link 200 GB/s (n1 -> n0)                                 24.4M tokens/s
          1    2-4    n0: 0-1                      2 A100            2.02 GB    232k tokens/s  <- bottleneck
    """
    report = result.to_dict(inst)
    gap = report["gap"]
    head = f"{result.method}: {result.status}"
    what = {"throughput": "throughput", "cost": "cost", "cost-per-token": "cost"}
    if result.objective is not None:
        head += f", {what[result.objective_kind]} {_value(result.objective_kind, result.objective)}"
    if result.bound is not None:
        head += f", bound {_value(result.objective_kind, result.bound)}"
    if gap is not None:
        head += f", gap {100 * gap:.4f}%"
    lines = [head]
    if result.statistics.get("infeasible_because"):
        lines.append(f"infeasible: {result.statistics['infeasible_because']}")
    if not report["allocations"]:
        return "\n".join(lines)
    lines.append(report["summary"])
    b = report["bottleneck"]
    width = max(28, *(len(_gpus_by_node(inst, a["gpu_ids"])) for a in report["allocations"]))
    lines.append(f"  {'stage':>5}  {'layers':<8} {'GPUs (node: ids)':<{width}} {'types':<14} {'memory/GPU':>10} "
                 f"{'throughput':>16}")
    for a, c in zip(report["allocations"], report["connections"] + [None], strict=False):
        seg = a["segment"]
        types = " + ".join(f"{n} {t}" for t, n in a["gpu_types"].items())
        mark = "  <- bottleneck" if b["kind"] == "stage" and b["stage"] == a["stage"] else ""
        layers = (f"{seg['start_layer']:>3}-{seg['end_layer']:<4}" if seg["end_layer"] > seg["start_layer"]
                  else f"{seg['start_layer']:>3}     ")
        lines.append(f"  {a['stage']:>5}  {layers} "
                     f"{_gpus_by_node(inst, a['gpu_ids']):<{width}} {types:<14} {a['memory_gb_per_gpu']:>7.3g} GB "
                     f"{_si(a['throughput']):>7} tokens/s{mark}")
        if c is not None:
            pair = c["slowest_pair"]
            nodes = ("" if pair["from_node"] is None or pair["to_node"] is None
                     else f" (inside {pair['from_node']})" if pair["from_node"] == pair["to_node"]
                     else f" ({pair['from_node']} -> {pair['to_node']})")
            text = f"link {c['bandwidth_gbps']:.3g} GB/s{nodes}"
            mark = "  <- bottleneck" if b["kind"] == "link" and b["from_stage"] == c["from_stage"] else ""
            lines.append(f"  {'':>5}  {'|':<8} {text:<{width + 26}} {_si(c['throughput']):>7} tokens/s{mark}")
    return "\n".join(lines)


def _value(kind: str, x: float) -> str:
    if kind == "throughput":
        return f"{x:.6g} tokens/s"
    return f"{usd(x)} per hour" if kind == "cost" else f"{usd(x)} per million tokens"


def describe_frontier(inst: Instance, report: dict) -> str:
    """What ``colgen pareto`` prints: one line per non-dominated placement, in increasing throughput."""
    lines = [f"{report['method']}: {report['status']}, {len(report['points'])} non-dominated placement"
             f"{'s' if len(report['points']) != 1 else ''} (throughput against USD per hour)"]
    if report.get("infeasible_because"):
        lines.append(f"infeasible: {report['infeasible_because']}")
    if not report["points"]:
        return "\n".join(lines)
    lines.append(f"  {'throughput':>16} {'USD/h':>10} {'USD/M tokens':>13} {'stages':>6}  GPUs")
    for p in report["points"]:
        types = Counter(inst.gpus[g].type for a in p["allocations"] for g in a["gpu_ids"])
        gpus = ", ".join(f"{n} x {t}" for t, n in types.items())
        lines.append(f"  {_si(p['throughput']):>7} tokens/s {usd(p['cost_per_hour']):>10} "
                     f"{usd(p['usd_per_million_tokens']):>13} {len(p['allocations']):>6}  {gpus}")
    return "\n".join(lines)


def _gpus_by_node(inst: Instance, gpu_ids: list[int]) -> str:
    by_node: dict[str | None, list[int]] = defaultdict(list)
    for g in gpu_ids:
        by_node[inst.gpus[g].node].append(g)
    return "; ".join(id_ranges(ids) if node is None else f"{node}: {id_ranges(ids)}" for node, ids in by_node.items())


def describe_pruning(rows: list[dict]) -> str:
    """The table of ``colgen prune-report``."""
    head = (f"{'rule':<13} {'kind':<9} {'allocations':>16} {'-> after':>14} {'e-pairs':>16} {'-> after':>16} "
            f"{'ILP cols':>10} {'rows':>8} {'nonzeros':>11}")
    solved = any("status" in r for r in rows)
    if solved:
        head += f" {'build s':>8} {'solve s':>8} {'status':>11} {'objective':>12}"
    lines = [head]

    def n(v: object) -> str:
        return "-" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.4g}"

    for r in rows:
        line = (f"{r['rule']:<13} {r['kind']:<9} {n(r.get('allocations_before')):>16} "
                f"{n(r.get('allocations_after')):>14} {n(r.get('pairs_before')):>16} "
                f"{n(r.get('pairs_after')):>16} {n(r.get('columns')):>10} {n(r.get('rows')):>8} "
                f"{n(r.get('nonzeros')):>11}")
        if solved:
            line += (f" {n(r.get('build_s')):>8} {n(r.get('solve_s')):>8} {r.get('status', '-'):>11} "
                     f"{n(r.get('objective')):>12}")
        if r.get("note"):
            line += f"  ({r['note']})"
        lines.append(line)
    return "\n".join(lines)


def describe_hf_model(source: str, analysis: Analysis, block: dict, notices: list[str]) -> str:
    """What ``colgen model CONFIG.json`` prints: the model in words, the converter's notes, and the
    model block to paste into an instance."""
    a = analysis
    bpe = block["bytes_per_element"]
    big = a.max_layer
    lines = [f"{block['name']} ({source}; model_type {a.model_type or '?'})"]
    ffn = ("experts (see below)" if a.ffn_dim is None else
           f"FFN {a.ffn_dim}, {'gated (gate, up, down: SwiGLU)' if a.gated_ffn else 'not gated (up, down)'}")
    lines.append(f"  {a.num_layers} decoder layers, d_model {a.d_model}, {ffn}")
    if a.attention == "mla":
        lines.append(f"  attention: {a.num_heads} heads, multi-head latent attention (DeepSeek MLA), "
                     f"{a.kv_elements_per_token} cached elements per token per layer")
    elif a.num_kv_heads == a.num_heads:
        lines.append(f"  attention: {a.num_heads} heads, multi-head (every head its own keys and values), "
                     f"head_dim {a.head_dim}")
    else:
        lines.append(f"  attention: {a.num_heads} heads, {a.num_kv_heads} key/value heads (grouped-query: "
                     f"{a.num_heads // a.num_kv_heads} query heads share one), head_dim {a.head_dim}")
    lines.append(f"  bytes per element: {bpe:g}" + (
        f" (torch_dtype {a.dtype_name})" if a.dtype_name else ""))
    weight = big.total * bpe / 1e9
    kv = block.get("kv_gb_per_sample_layer", block["seq_len"] * a.kv_elements_per_token * bpe / 1e9)
    lines.append(f"  per layer: {big.total:,} parameters = {weight:.4g} GB; KV cache {kv * 1e3:.4g} MB per "
                 f"sample at seq_len {block['seq_len']}")
    total = sum(layer.total for layer in a.layers) * bpe / 1e9
    outside = (a.embedding_params + a.lm_head_params) * bpe / 1e9
    lines.append(f"  all layers: {total:.4g} GB of weights" + (
        f" (+ {outside:.3g} GB of embeddings and LM head, not decoder layers: not placed)" if outside else ""))
    if a.moe is not None:
        moe = next(layer for layer in a.layers if layer.kind == "moe")
        lines.append(f"  mixture of experts: {a.moe['experts']} experts per MoE layer, {a.moe['active']} per token. "
                     f"Modelled: memory holds every expert ({moe.total:,} parameters per layer); the roofline "
                     f"latency model charges compute for all of them too ({moe.total / moe.active:.2f}x the "
                     f"{moe.active:,} a token uses), so compute-bound stage throughputs are pessimistic")
    lines.append("notes:")
    lines += [f"  - {n}" for n in notices]
    lines.append("model block (paste it into an instance, or give {\"hf_config\": PATH, \"seq_len\": ..., "
                 "\"batch_size\": ...}):")
    lines.append(json.dumps(block, indent=1))
    return "\n".join(lines)
