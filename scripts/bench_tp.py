"""Tensor parallelism and stage limits: the shipped instances with tensor-parallel degrees.

    python scripts/bench_tp.py [--time-limit 60] [--out benchmarks/tp]

Solves seed-demo with degrees [1, 2] and large-126x256 with [1, 2, 4, 8] (targets: proven optimal
within 1 s and 60 s), each also without tensor parallelism for comparison, and the shipped legacy
instances as imported (with their stage limits); every placement is verified. Solve times are the
solve call's wall time after a warm-up (numba cache filled); interpreter start-up is apart.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchlib import ROOT, shipped, startup_seconds, write_results

from colgen import solve
from colgen.check.verify import verify
from colgen.model.instance import instance_from_dict

CASES = [("seed-demo", [1, 2], 1.0), ("large-126x256", [1, 2, 4, 8], 60.0),
         ("legacy-tiny", None, None), ("legacy-small", None, None), ("legacy-medium", None, None)]


def with_degrees(name: str, degrees: list[int] | None):
    inst = shipped(name)
    if degrees is None:
        return inst
    doc = dict(inst.spec)
    doc["parallelism"] = {**doc["parallelism"], "tensor_parallel_degrees": degrees}
    doc["name"] = f"{name}-tp{''.join(map(str, degrees))}"
    return instance_from_dict(doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "tp"))
    args = ap.parse_args()
    solve(shipped("seed-tiny"), "bnp")                       # warm-up: numba compiles or loads its cache
    rows = []
    for name, degrees, target in CASES:
        for inst in ([with_degrees(name, degrees), shipped(name)] if degrees else [shipped(name)]):
            t0 = time.perf_counter()
            r = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
            took = time.perf_counter() - t0
            assert not r.placement or verify(inst, r).ok
            used_tp = sorted({s.tp for s in r.placement})
            row = {"instance": inst.name, "degrees": ",".join(map(str, inst.tp_degrees)),
                   "limits": str(inst.stage_limits.__dict__), "status": r.status, "seconds": took,
                   "objective": r.objective, "gap": r.gap, "stages": len(r.placement),
                   "tp_used": ",".join(map(str, used_tp)), "classes": r.statistics.get("classes")}
            if target is not None and inst.tp_degrees != (1,):
                met = r.status == "optimal" and took <= target
                row["target"] = f"optimal in {target:g} s: {'met' if met else 'MISSED'}"
            rows.append(row)
            print(row, flush=True)
    cols = [("instance", "instance"), ("degrees", "TP degrees"), ("classes", "classes"), ("status", "status"),
            ("seconds", "solve s"), ("objective", "throughput"), ("gap", "gap"), ("stages", "stages"),
            ("tp_used", "degrees used"), ("limits", "stage limits"), ("target", "target")]
    notes = [f"Time limit {args.time_limit:g} s; HiGHS; one process, numba cache warm; interpreter start-up "
             f"{startup_seconds():.2f} s, not included. Every placement verified."]
    write_results(Path(args.out), "Tensor parallelism and stage limits", rows, cols, notes,
                  {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
