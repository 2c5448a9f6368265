"""Cost-aware placement: the exact throughput-cost frontier and the cheapest placement for a target,
branch-and-price side by side with the full ILP.

    python scripts/bench_cost.py [--time-limit 60] [--out benchmarks/cost]

Cases (the cost issue's targets):

* the whole frontier (``colgen pareto``) of two small generated clusters with a price per type
  (where the full ILP can finish), of the seed demo and of large-126x256 with list prices
  (instances/*-priced.json), and of 64 GPUs with all-distinct links (where links bind), by
  branch-and-price and by the full ILP (compact formulation; the memory guard refuses what cannot
  be built);
* the cheapest placement reaching 80 % of the maximum throughput (``colgen solve --objective cost
  --min-throughput X``) on a generated cluster of 1,024 GPUs with a price per type, and on
  large-126x256; the maximum throughput is found first by an untimed solve.

Every frontier is re-checked point by point by the verifier (``verify_frontier``), every placement
by ``verify``; the throughput-objective point of each frontier is compared with ``colgen solve``.
Times are the call's wall time in one process after a warm-up that fills the numba cache.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchlib import ROOT, generated, shipped, startup_seconds, write_results

from colgen import pareto, solve
from colgen.check.verify import verify, verify_frontier
from colgen.errors import ModelTooLargeError
from colgen.model.instance import Instance

#: (case, seconds) targets of the issue.
TARGETS = {"seed-demo-priced frontier": 2.0, "large-126x256-priced frontier": 60.0,
           "priced-1024x160 cheapest at 80 %": 10.0}


def frontier_row(inst: Instance, method: str, time_limit: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        report = pareto(inst, method, time_limit=time_limit, backend="highs")
    except ModelTooLargeError:
        return {"status": "refused"}
    wall = time.perf_counter() - t0
    assert not verify_frontier(inst, report)
    pts = report["points"]
    row = {"status": report["status"], "s": wall, "points": len(pts),
           "thresholds": report["statistics"].get("thresholds_walked")}
    if pts:
        row.update(min_usd_h=pts[0]["cost_per_hour"], max_usd_h=pts[-1]["cost_per_hour"],
                   max_throughput=pts[-1]["throughput"])
    row["pairs"] = [(p["throughput"], p["cost_per_hour"]) for p in pts]
    return row


def same_points(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Two frontiers with the same points (throughput to the MIP's tolerance, cost to a cent's share)."""
    return len(a) == len(b) and all(abs(x - y) <= 1e-6 * x and abs(c - d) <= 1e-9 * max(c, 1.0)
                                    for (x, c), (y, d) in zip(a, b, strict=True))


def cheapest_row(inst: Instance, method: str, target: float, time_limit: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        r = solve(inst, method, objective="cost", min_throughput=target, time_limit=time_limit, backend="highs")
    except ModelTooLargeError:
        return {"status": "refused"}
    wall = time.perf_counter() - t0
    assert not r.placement or verify(inst, r).ok
    return {"status": r.status, "s": wall, "usd_h": r.objective, "bound_usd_h": r.bound, "gap": r.gap}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "cost"))
    args = ap.parse_args()
    solve(shipped("seed-tiny"), "bnp")                  # warm-up: numba compiles or loads its cache
    rows: list[dict[str, Any]] = []

    def add(case: str, inst: Instance, bnp: dict[str, Any], ilp: dict[str, Any], **extra: Any) -> None:
        row = {"case": case, "gpus": inst.num_gpus, "layers": inst.num_layers, **extra,
               **{f"bnp_{k}": v for k, v in bnp.items()}, **{f"ilp_{k}": v for k, v in ilp.items()}}
        if bnp.get("status") == "optimal" and ilp.get("status") == "optimal":
            row["ratio"] = ilp["s"] / bnp["s"]
            if "pairs" in bnp:
                row["same_frontier"] = same_points(bnp["pairs"], ilp["pairs"])
        elif bnp.get("status") == "optimal" and "s" in ilp:
            row["ratio"] = f">{ilp['s'] / bnp['s']:.3g}"
        if case in TARGETS:
            met = bnp.get("status") == "optimal" and bnp["s"] <= TARGETS[case]
            row["target"] = f"optimal in {TARGETS[case]:g} s: {'met' if met else 'MISSED'}"
        rows.append(row)
        print(row, flush=True)

    small = [generated(f"priced-nodes-{M}x{N}-K3", 3, num_layers=M, num_gpus=N, num_types=3, max_k=3, network="nodes",
                       gpus_per_node=2, memory_pressure=0.8, prices="types") for M, N in [(6, 8), (8, 10)]]
    distinct = generated("priced-distinct-64x32", 1, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                         network="distinct", prices="types")      # links bind: the least-cost stage walk
    for inst in [*small, shipped("seed-demo-priced"), shipped("large-126x256-priced"), distinct]:
        name = inst.name
        bnp = frontier_row(inst, "bnp", args.time_limit)
        fastest = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
        same = bnp.get("max_throughput") is not None and fastest.status == "optimal" and (
            abs(bnp["max_throughput"] - fastest.objective) <= 1e-9 * fastest.objective)
        add(f"{name} frontier", inst, bnp, frontier_row(inst, "ilp", args.time_limit), top_equals_solve=same)

    big = generated("priced-1024x160", 7, num_layers=160, num_gpus=1024, num_types=4, max_k=8, network="uniform",
                    memory_pressure=0.7, prices="types")
    for inst in (shipped("large-126x256-priced"), big):
        fastest = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
        target = 0.8 * fastest.objective
        add(f"{inst.name} cheapest at 80 %", inst, cheapest_row(inst, "bnp", target, args.time_limit),
            cheapest_row(inst, "ilp", target, args.time_limit), target_tokens_s=target)

    cols = [("case", "case"), ("gpus", "N"), ("layers", "M"), ("bnp_status", "bnp status"), ("bnp_s", "bnp s"),
            ("bnp_points", "points"), ("bnp_thresholds", "thresholds asked"), ("bnp_min_usd_h", "cheapest $/h"),
            ("bnp_max_usd_h", "fastest $/h"), ("bnp_usd_h", "least $/h"), ("top_equals_solve", "top = solve"),
            ("ilp_status", "ILP status"), ("ilp_s", "ILP s"), ("ilp_points", "ILP points"), ("ilp_usd_h", "ILP $/h"),
            ("same_frontier", "same points"), ("ratio", "ILP s / bnp s"),
            ("target", "target")]
    notes = [f"Time limit {args.time_limit:g} s per call; HiGHS; one process, numba cache warm; the full ILP in its "
             "compact formulation ('refused': the memory guard's estimate exceeds the machine's memory).",
             f"Interpreter start-up (import of colgen's solvers): {startup_seconds():.2f} s, not included.",
             "Frontier rows: every non-dominated (throughput, USD per hour) placement, each verified; 'thresholds "
             "asked': least-cost solves the walk made. 'top = solve': the frontier's fastest point has the "
             "throughput colgen solve proves optimal. Cheapest rows: the least USD per hour reaching 80 % of the "
             "maximum throughput. 'same points': bnp's and the ILP's frontiers agree point by point."]
    write_results(Path(args.out), "Cost-aware placement: frontier and cheapest placement, bnp vs the full ILP",
                  rows, cols, notes, {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
