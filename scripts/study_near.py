"""Near-symmetry on the jittered regions clusters: what each rounded network's search gives, and what
relabelling makes of it on the real network.

    python scripts/study_near.py [--time-limit 60] [--out benchmarks/near]

For each regions preset with +-3 % jitter on every node pair: the near classes (colgen/space/
near_symmetry.py), then, rounded down and rounded up, branch-and-price on the rounded instance (its
optimum and time), the value of that placement on the real network, and after relabelling
(colgen/bnp/relabel.py, with the time it took). A study of the heuristic's parts, apart from the
engine that runs them (benchmarks/network has whole runs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchlib import ROOT, write_results

from colgen.api import solve
from colgen.bnp.relabel import MAX_SWAPS, relabel
from colgen.io.regions import PRESETS, regions_instance
from colgen.model.instance import instance_from_dict
from colgen.result import placement_throughput
from colgen.space.bounds import fluid_upper_bound
from colgen.space.class_space import class_space
from colgen.space.near_symmetry import near_labels, rounded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve of a rounded instance")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "near"))
    args = ap.parse_args()
    rows = []
    for preset in ("70b", "405b"):
        inst = instance_from_dict(regions_instance(1, jitter=0.03, **PRESETS[preset]))
        tab = inst.tables
        label = near_labels(inst, fluid_upper_bound(tab) / tab.link_scale, 0.1)
        assert label is not None
        for how in ("down", "up"):
            r = solve(rounded(inst, label, up=how == "up"), "bnp", time_limit=args.time_limit, near_symmetry=0.0)
            t0 = time.perf_counter()
            moved = relabel(inst, r.placement, label, MAX_SWAPS) if r.placement else ()
            ms = 1000 * (time.perf_counter() - t0)
            rows.append({"instance": f"regions-{preset}-jitter", "classes": class_space(tab).num_classes,
                         "near_classes": int(label.max()) + 1, "rounded": how, "status": r.status,
                         "rounded_objective": r.objective, "rounded_bound": r.bound,
                         "solve_s": r.timings["total"],
                         "real": placement_throughput(inst, r.placement) if r.placement else None,
                         "relabelled": placement_throughput(inst, moved) if moved else None, "relabel_ms": ms})
            print(rows[-1], flush=True)
    columns = [("instance", "instance"), ("classes", "classes"), ("near_classes", "near classes"),
               ("rounded", "rounded"), ("status", "status"), ("rounded_objective", "optimum there"),
               ("rounded_bound", "bound there"), ("solve_s", "s"), ("real", "on the real network"),
               ("relabelled", "relabelled"), ("relabel_ms", "relabel ms")]
    notes = ["Branch-and-price on each rounded instance (`near_symmetry` off there), HiGHS, 2 cores; tokens/s. "
             "'on the real network': the same placement valued on the jittered network; 'relabelled': after "
             f"relabelling (at most {MAX_SWAPS:,} swaps)."]
    write_results(Path(args.out), "Near-symmetry: rounded searches and relabelling", rows, columns, notes, {})


if __name__ == "__main__":
    main()
