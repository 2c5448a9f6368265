"""colgen's result next to what the original solver reported, on the original's own configurations.

    python scripts/legacy_side_by_side.py [--time-limit 120] [--markdown]

Imports hal and large (tests/data/legacy, in the original's format) with the original's
``--generate-network 400 200`` and medium (instances/legacy/medium, its own matrix), prices from the
original's cloud table at AWS where the pool has no dollar_per_hour (as the original's runs did with
``--cloud-provider AWS``), solves each with colgen's branch-and-price and prints both sides.

The two columns are not the same computation: the original's throughput formula (notes in
docs/legacy.md) differs from colgen's (docs/problem.md), so equal placements get different numbers;
the comparison shows what each reports for the same configuration. A row whose colgen placement
breaks an imported constraint (max_stages, min_layers_per_stage) would say so (the solvers enforce
them, so none should).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from colgen.api import solve
from colgen.io.legacy import import_legacy
from colgen.model.instance import instance_from_dict

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "legacy"
SPECS = DATA / "cloud" / "cloud_instances_specs.csv"

#: (label, folder, import options, what the original reported, where that comes from)
CASES = [
    ("hal, batch 32", DATA / "hal", {"generate_network": (400, 200), "batch_size": 32},
     "8 stages x (32 V100: TP4, 10 layers each); 11,890.46 tok/s; $97.92/h; $2.2875/M tokens",
     "gangmuk/LLM_placement_solver config/hal/output-20251115_162932 (best of its batch sweep)"),
    ("hal, batch 64", DATA / "hal", {"generate_network": (400, 200), "batch_size": 64},
     "8 stages x (64 V100: TP8, 10 layers each); 23,551.52 tok/s; $195.84/h; $2.3098/M tokens",
     "same run, batch_64 rows"),
    ("large, batch 64", DATA / "large", {"generate_network": (400, 200)},
     "not reported (no run of this pool found)", "-"),
    ("medium, batch 32", ROOT / "instances" / "legacy" / "medium", {"batch_size": 32},
     "1 stage (2 A100: TP2, 32 layers); 2,035.99 tok/s; $8.19/h; $1.1177/M tokens",
     "gangmuk README (config version of that run unknown)"),
]


def describe(inst, result) -> tuple[str, str]:
    """(placement in words, cost per hour and per million tokens)."""
    if result.placement is None or not result.placement:
        return result.status, "-"
    stages = result.placement
    parts = []
    for s in stages:
        types = sorted({inst.gpus[g].type for g in s.gpu_ids})
        shape = f" (TP{s.tp} x {s.replicas})" if s.tp > 1 else ""
        parts.append(f"{s.end_layer - s.start_layer + 1} layers on {len(s.gpu_ids)} {'+'.join(types)}{shape}")
    used = [g for s in stages for g in s.gpu_ids]
    limits = inst.stage_limits
    broken = []
    if limits.max_stages is not None and len(stages) > limits.max_stages:
        broken.append(f"{len(stages)} stages > max_stages {limits.max_stages}")
    short = min(s.end_layer - s.start_layer + 1 for s in stages)
    if short < limits.min_layers:
        broken.append(f"a stage of {short} layers < min_layers_per_stage {limits.min_layers}")
    words = (f"{len(stages)} stages on {len(used)} GPUs ({', '.join(parts[:3])}{', ...' if len(parts) > 3 else ''}); "
             f"{result.objective:,.2f} tok/s")
    if broken:
        words += " [breaks " + "; ".join(broken) + " (an internal error: the solvers enforce them)]"
    prices = [inst.gpus[g].price_per_hour for g in used]
    if any(p is None for p in prices):
        return words, "no prices"
    hourly = sum(prices)
    per_m = hourly / (3600 * result.objective) * 1e6
    return words, f"${hourly:,.2f}/h; ${per_m:.4f}/M tokens"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    rows = []
    for label, folder, options, original, source in CASES:
        doc, _ = import_legacy(folder, cloud_specs=SPECS, cloud_provider="AWS", **options)
        inst = instance_from_dict(doc)
        start = time.perf_counter()
        result = solve(inst, "bnp", time_limit=args.time_limit)
        took = time.perf_counter() - start
        words, cost = describe(inst, result)
        status = f"{result.status} in {took:.1f} s"
        rows.append((label, f"K={inst.max_gpus_per_segment}, TP {','.join(map(str, inst.tp_degrees))}", status, words,
                     cost, original, source))
    if args.markdown:
        print("| configuration | imported | colgen | colgen's placement | colgen's cost | the original reported "
              "| source |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    for label, imported, status, words, cost, original, source in rows:
        print(f"{label} ({imported})\n  colgen:   {status}: {words}; {cost}\n  original: {original}\n"
              f"            ({source})")


if __name__ == "__main__":
    main()
