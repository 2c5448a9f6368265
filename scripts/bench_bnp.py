"""Benchmark branch-and-price against the full ILP, side by side on one machine.

    python scripts/bench_bnp.py [--time-limit 600] [--out benchmarks/bnp] [--ilp-formulations LIST]

Solves the shipped instances and random families of growing size with ``bnp`` and with the full
ILP (every formulation; the memory guard refuses what cannot be built) under the same time limit,
and writes results.json, results.md and command.txt: time to proven optimum, final gap, nodes,
columns, and the ratio ILP time / bnp time. Solve times are the solve call's wall time, after a
warm-up that fills the numba cache; interpreter start-up is measured once, separately.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchlib import ROOT, SHIPPED, generated, shipped, startup_seconds, write_results

from colgen import solve
from colgen.check.verify import verify
from colgen.choices import FORMULATIONS
from colgen.errors import ModelTooLargeError

#: Targets of the branch-and-price issue: (instance, seconds to proven optimum or None, gap).
TARGETS = {"seed-demo": (1.0, 0.0), "mixed-80x65": (5.0, 0.0), "legacy-medium": (5.0, 0.0),
           "large-126x256": (60.0, 0.0)}
DISTINCT = "distinct-64x32"


def suite():
    for name in SHIPPED:
        yield shipped(name)
    for M, N, K in [(6, 8, 3), (8, 10, 3), (10, 12, 3), (12, 16, 4)]:      # the ILP can still be built
        yield generated(f"nodes-{M}x{N}-K{K}", 3, num_layers=M, num_gpus=N, num_types=3, max_k=K,
                        network="nodes", gpus_per_node=2, memory_pressure=0.8)
    for M, N, K in [(16, 16, 4), (32, 32, 4), (64, 64, 8), (96, 128, 8)]:  # growing, compute-bound
        yield generated(f"uniform-{M}x{N}-K{K}", 5, num_layers=M, num_gpus=N, num_types=4, max_k=K,
                        network="uniform", memory_pressure=0.7)
    for M, N, K in [(16, 16, 3), (24, 32, 4)]:                              # links bind
        yield generated(f"nodes-{M}x{N}-K{K}", 5, num_layers=M, num_gpus=N, num_types=3, max_k=K,
                        network="nodes", gpus_per_node=4, memory_pressure=0.7)
    for seed in (1, 2, 3):                                                  # nothing to aggregate
        yield generated(f"{DISTINCT}-s{seed}", seed, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                        network="distinct", memory_pressure=0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "bnp"))
    ap.add_argument("--ilp-formulations", default=",".join(FORMULATIONS))
    args = ap.parse_args()
    formulations = [f for f in args.ilp_formulations.split(",") if f]
    solve(shipped("seed-tiny"), "bnp")                  # warm-up: numba compiles or loads its cache
    rows = []
    for inst in suite():
        r = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
        assert not r.placement or verify(inst, r).ok
        st = r.statistics
        row = {"instance": inst.name, "layers": inst.num_layers, "gpus": inst.num_gpus,
               "K": inst.max_gpus_per_segment, "classes": st["classes"], "bnp_status": r.status,
               "bnp_s": r.timings["solve"], "bnp_objective": r.objective, "bnp_bound": r.bound,
               "bnp_gap": r.gap, "nodes": st["nodes"], "columns": st["columns"],
               "pricing_share": st.get("pricing_time_share"),
               "first_incumbent_s": st.get("time_to_first_incumbent")}
        best_ilp = None
        for f in formulations:
            t0 = time.perf_counter()
            try:
                ilp = solve(inst, "ilp", formulation=f, backend="highs", time_limit=args.time_limit)
            except ModelTooLargeError:
                row[f"ilp_{f}"] = "refused"
                continue
            wall = time.perf_counter() - t0
            row[f"ilp_{f}"] = f"{ilp.status} {wall:.3g}s"
            if ilp.status == "optimal":
                same = r.objective is not None and abs(ilp.objective - r.objective) <= 1e-6 * r.objective
                row[f"ilp_{f}_same"] = same
                if best_ilp is None or wall < best_ilp[1]:
                    best_ilp = (f, wall)
            elif best_ilp is None:
                row.setdefault("ilp_unsolved_after_s", wall)
        if best_ilp and r.status == "optimal":
            row["best_ilp"] = best_ilp[0]
            row["ratio"] = best_ilp[1] / r.timings["solve"]
        elif r.status == "optimal" and "ilp_unsolved_after_s" in row:
            row["ratio"] = f">{row['ilp_unsolved_after_s'] / r.timings['solve']:.3g}"
        target = TARGETS.get(inst.name) or ((None, 0.01) if inst.name.startswith(DISTINCT) else None)
        if target:
            seconds, gap = target
            fast = seconds is None or r.timings["solve"] <= seconds
            met = r.gap is not None and r.gap <= gap + 1e-12 and fast
            what = f"gap <= {gap:.0%}" if gap else "optimal"
            within = seconds if seconds else args.time_limit
            row["target"] = f"{what} in {within:g} s: {'met' if met else 'MISSED'}"
        rows.append(row)
        print(row, flush=True)
    cols = [("instance", "instance"), ("layers", "M"), ("gpus", "N"), ("K", "K"), ("classes", "classes"),
            ("bnp_status", "bnp status"), ("bnp_s", "bnp s"), ("bnp_gap", "gap"), ("nodes", "nodes"),
            ("columns", "columns"), ("bnp_objective", "objective"), ("best_ilp", "best ILP"),
            ("ratio", "ILP s / bnp s")]
    cols += [(f"ilp_{f}", f"ILP {f}") for f in formulations]
    cols += [("target", "target")]
    same = [v for r in rows for k, v in r.items() if k.endswith("_same")]
    notes = [f"Time limit {args.time_limit:g} s per solve; HiGHS; one process, numba cache warm.",
             f"Interpreter start-up (import of colgen's solvers): {startup_seconds():.2f} s, not included.",
             "ILP columns: status and wall time (build + solve); 'refused': the memory guard's estimate "
             "exceeds the machine's memory.",
             f"ILP optima equal to bnp's: {sum(same)} of {len(same)} ILP runs that proved optimality."]
    write_results(Path(args.out), "Branch-and-price vs the full ILP", rows, cols, notes,
                  {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
