"""Benchmark the full joint ILP in its three formulations (the baseline of branch-and-price).

    python scripts/bench_ilp.py [--time-limit 600] [--out benchmarks/ilp]

For the shipped instances and random ones of growing size, records per formulation: allocations,
e-pairs, columns, rows, nonzeros (built, or estimated where the memory guard refuses the model),
build and solve time, status, objective, bound, and the LP-relaxation bound with its distance to
the optimum (taken from branch-and-price). Writes results.json, results.md and command.txt.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchlib import ROOT, SHIPPED, generated, shipped, write_results

from colgen import solve
from colgen.choices import FORMULATIONS
from colgen.errors import ModelTooLargeError
from colgen.ilp.size import estimate
from colgen.ilp.solver import lp_relaxation_bound
from colgen.stop import Stop

RANDOM = [(4, 4, 2), (6, 6, 2), (8, 8, 2), (8, 8, 3), (10, 10, 3), (12, 12, 3), (14, 16, 3), (16, 20, 3)]


def suite():
    for name in SHIPPED:
        yield shipped(name)
    for M, N, K in RANDOM:
        yield generated(f"nodes-{M}x{N}-K{K}", 11, num_layers=M, num_gpus=N, num_types=3, max_k=K,
                        network="nodes", gpus_per_node=4, memory_pressure=0.7)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "ilp"))
    args = ap.parse_args()
    rows = []
    for inst in suite():
        optimum = solve(inst, "bnp", backend="highs", time_limit=args.time_limit).objective
        for f in FORMULATIONS:
            est = estimate(inst, f)
            row = {"instance": inst.name, "formulation": f, "allocations": est.allocations,
                   "pairs": est.pairs, "columns": est.columns, "rows": est.rows, "nonzeros": est.nnz,
                   "estimated_gb": est.memory_bytes / 1e9, "optimum": optimum}
            t0 = time.perf_counter()
            try:
                r = solve(inst, "ilp", formulation=f, backend="highs", time_limit=args.time_limit)
            except ModelTooLargeError:
                row.update(status="refused (memory guard)")
                rows.append(row)
                print(row, flush=True)
                continue
            st = r.statistics
            row.update(columns=st["columns"], rows=st["rows"], nonzeros=st["nonzeros"],
                       build_s=r.timings["build"], solve_s=r.timings["solve"],
                       wall_s=time.perf_counter() - t0,
                       status=r.status, objective=r.objective, bound=r.bound, nodes=st["nodes"])
            lp = lp_relaxation_bound(inst, f, stop=Stop(args.time_limit))
            row["lp_bound"] = lp
            if lp is not None and optimum:
                row["lp_gap"] = lp / optimum - 1
            rows.append(row)
            print(row, flush=True)
    cols = [("instance", "instance"), ("formulation", "formulation"), ("allocations", "allocations"),
            ("pairs", "e-pairs"), ("columns", "columns"), ("rows", "rows"), ("nonzeros", "nonzeros"),
            ("build_s", "build s"), ("solve_s", "solve s"), ("status", "status"), ("objective", "objective"),
            ("bound", "bound"), ("lp_bound", "LP bound"), ("lp_gap", "LP bound / optimum - 1"),
            ("optimum", "optimum (bnp)")]
    notes = [f"Time limit {args.time_limit:g} s per solve (and per LP relaxation), HiGHS, same machine.",
             "Where the memory guard refuses a model, the sizes are its estimate (no enumeration).",
             "The optimum column comes from branch-and-price (exact), to measure the LP bounds."]
    write_results(Path(args.out), "Full joint ILP: three formulations", rows, cols, notes,
                  {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
