"""Compare the LP bounds of the two master problems of the branch-and-price design notes.

    python scripts/compare_masters.py [--time-limit 600] [--out benchmarks/masters]

(a) "max t" master: maximize t with a throughput row per layer, cover and capacity rows (and the
    network rows); its LP over all columns is the compact ILP's relaxation, computed here on the
    class-count allocations (the same LP value: symmetric columns aggregate).
(b) threshold master (colgen's): the largest candidate T whose decision LP is feasible.
Both against the optimum from branch-and-price. Writes results.json, results.md, command.txt.
"""

from __future__ import annotations

import argparse
import time
from math import comb
from pathlib import Path

from bench_bnp import suite
from benchlib import ROOT, write_results

from colgen import solve
from colgen.backends.highs import HighsBackend
from colgen.bnp.search import threshold_lp_bound
from colgen.ilp.model import build
from colgen.space.class_space import class_space
from colgen.space.pruning import prune
from colgen.stop import Stop


def max_t_lp_bound(inst, time_limit: float) -> float | None:
    classes = class_space(inst.tables).classes.count
    M, K = inst.num_layers, inst.max_gpus_per_segment
    if sum(comb(classes + k - 1, k) for k in range(1, K + 1)) * M * (M + 1) // 2 > 5_000_000:
        return None                       # too many class-count columns to write down
    space = prune(inst, ["symmetry"])
    model = build(space.instance, "compact", space.alloc)
    out = HighsBackend().solve(model.model, stop=Stop(time_limit), relax=True)
    return None if out.objective is None or out.status != "optimal" else out.objective * model.scale


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "masters"))
    args = ap.parse_args()
    rows = []
    for inst in suite():
        opt = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
        row = {"instance": inst.name, "optimum": opt.objective if opt.status == "optimal" else None}
        t0 = time.perf_counter()
        row["a_bound"] = max_t_lp_bound(inst, args.time_limit)
        row["a_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        row["b_bound"] = threshold_lp_bound(inst, Stop(args.time_limit))
        row["b_s"] = time.perf_counter() - t0
        for k in ("a", "b"):
            if row[f"{k}_bound"] and row["optimum"]:
                row[f"{k}_gap"] = row[f"{k}_bound"] / row["optimum"] - 1
        rows.append(row)
        print(row, flush=True)
    cols = [("instance", "instance"), ("optimum", "optimum"), ("a_bound", "(a) max-t LP"),
            ("a_gap", "(a) above optimum"), ("a_s", "(a) s"), ("b_bound", "(b) threshold LP"),
            ("b_gap", "(b) above optimum"), ("b_s", "(b) s")]
    notes = ["(a): LP relaxation of the max-t master over all (class-count) columns, solved directly.",
             "(b): colgen's threshold master, root LP by column generation at every bisection step.",
             "Optimum: branch-and-price (blank where it was not proven within the time limit)."]
    write_results(Path(args.out), "Master problems: LP bound against the optimum", rows, cols, notes,
                  {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
