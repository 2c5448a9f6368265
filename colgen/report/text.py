"""Human-readable text: what an instance is, and what a result says."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from colgen.model.instance import Instance
from colgen.model.performance import gpu_throughput
from colgen.result import Result
from colgen.space.allocations import fitting_gpu_counts, space_sizes


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
        f"seq_len {m.seq_len}, batch {m.batch_size:g}")
    lines.append(
        f"  memory per layer: {m.weight_gb_per_layer:.4g} GB weights + {m.kv_gb_per_sample_layer:.4g} GB "
        f"per sample (whole model: {m.num_layers * m.weight_gb_per_layer:.4g} GB weights)")
    lines.append(f"  stages: at most {K} GPUs, eff(k) = {', '.join(f'{e:g}' for e in inst.dp_efficiency)};"
                 f" reserved {inst.reserved_memory_gb:g} GB per GPU")
    counts = Counter(g.type for g in inst.gpus)
    n_fit = fitting_gpu_counts(tab)
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
    levels = inst.network.levels()
    if levels.size:
        lines.append(f"network: {levels.size} distinct bandwidths, {levels.min():g}..{levels.max():g} GB/s"
                     f" = {_si(levels.min() * tab.link_scale)}..{_si(levels.max() * tab.link_scale)} tokens/s"
                     " per link")
    lines.append("allocation space (memory-feasible):")
    lines.append(f"  {'K':>3} {'segments':>9} {'allocations':>26}")
    for s in space_sizes(tab):
        lines.append(f"  {s.max_k:>3} {s.segments:>9} {s.allocations:>26,}")
    if int(n_fit[1:, 1].max(initial=0)) == 0 and int(n_fit[1:, 1:].max(initial=0)) == 0:
        lines.append("  no GPU can hold even one layer: the instance is infeasible")
    return "\n".join(lines)


def describe_result(inst: Instance, result: Result) -> str:
    report = result.to_dict(inst)
    gap = report["gap"]
    head = f"{result.method}: {result.status}"
    if result.objective is not None:
        head += f", throughput {result.objective:.6g} tokens/s"
    if result.bound is not None:
        head += f", bound {result.bound:.6g}"
    if gap is not None:
        head += f", gap {100 * gap:.4f}%"
    lines = [head]
    if not report["allocations"]:
        return "\n".join(lines)
    lines.append(f"  {'stage':>5} {'layers':>9} {'GPUs':<28} {'types':<18} {'tokens/s':>12}")
    for a, c in zip(report["allocations"], report["connections"] + [None], strict=False):
        seg = a["segment"]
        ids = ",".join(map(str, a["gpu_ids"]))
        types = "+".join(f"{n}x{t}" for t, n in a["gpu_types"].items())
        lines.append(f"  {a['stage']:>5} {seg['start_layer']:>4}-{seg['end_layer']:<4} {ids:<28} "
                     f"{types:<18} {a['throughput']:>12.6g}")
        if c is not None:
            lines.append(f"  {'':>5} {'link':>9} {'':<28} {'':<18} {c['throughput']:>12.6g}")
    b = report["bottleneck"]
    lines.append("  bottleneck: " + (f"stage {b['stage']}" if b["kind"] == "stage"
                                     else f"link {b['from_stage']}->{b['to_stage']}"))
    return "\n".join(lines)


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
