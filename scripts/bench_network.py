"""Network-bound clusters: branch-and-price where links between many distinct nodes bind.

    python scripts/bench_network.py [--time-limit 60] [--out benchmarks/network] [--only NAME,...]

Each instance is solved by ``colgen solve --time-limit S --json`` in a fresh process (the whole run:
start-up, loading, search), side by side with the same command with the network checks off
(``--no-network-checks``: the component bound and the group path, the baseline before them), and
the issue's earlier figures. Every placement is re-checked by the verifier (colgen verify).
Instances: the issue's generator commands and the regions presets (colgen/io/regions.py), with
and without +-3 % jitter on every node pair.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, write_results

from colgen.io.generator import random_instance
from colgen.io.regions import PRESETS, regions_instance
from colgen.jsonio import write_json_atomic

#: name -> (instance document, the issue's figure before this work, the goal)
SUITE = {
    "nodes-128": (lambda: random_instance(1, num_layers=64, num_gpus=128, max_k=8, network="nodes"),
                  "gap 15.1 % at 60 s", "gap <= 1 % in 60 s; optimal in 600 s"),
    "nodes-256": (lambda: random_instance(2, num_layers=126, num_gpus=256, max_k=8, network="nodes"),
                  "gap 60.8 % at 120 s", "gap <= 2 % in 60 s; optimal in 600 s"),
    "distinct-64": (lambda: random_instance(1, num_layers=32, num_gpus=64, num_types=4, max_k=4,
                                            network="distinct"), "gap 1.36 % at 60 s", "optimal in 60 s"),
    "distinct-96": (lambda: random_instance(5, num_layers=32, num_gpus=96, max_k=4, network="distinct"),
                    "gap 0.96 % at 120 s", "gap <= 0.5 % in 60 s"),
    "distinct-128": (lambda: random_instance(6, num_layers=48, num_gpus=128, max_k=4, network="distinct"),
                     "gap 0.44 % at 120 s", "gap <= 0.5 % in 60 s"),
    "regions-70b": (lambda: regions_instance(1, **PRESETS["70b"]), "gap 5.0 % at 60 s (a similar cluster)",
                    "optimal in 60 s"),
    "regions-70b-jitter": (lambda: regions_instance(1, jitter=0.03, **PRESETS["70b"]), "-", "gap <= 1 % in 60 s"),
    "regions-405b": (lambda: regions_instance(1, **PRESETS["405b"]), "-", "optimal in 60 s"),
    "regions-405b-jitter": (lambda: regions_instance(1, jitter=0.03, **PRESETS["405b"]), "-",
                            "gap <= 1 % in 60 s"),
}


def run(path: Path, time_limit: float, extra: list[str]) -> dict:
    """One ``colgen solve`` in a fresh process; its result, wall time and verification."""
    out = path.with_suffix(".result.json")
    cmd = [sys.executable, "-m", "colgen.cli.main", "solve", str(path), "--time-limit", str(time_limit),
           "--quiet", "-o", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if not out.exists():
        return {"status": f"exit {proc.returncode}", "wall_s": wall, "error": proc.stderr.strip()[-300:]}
    r = json.loads(out.read_text())
    ok = subprocess.run([sys.executable, "-m", "colgen.cli.main", "verify", str(path), str(out)],
                        capture_output=True, text=True, check=False).returncode == 0
    return {"status": r["status"], "objective": r["objective"], "bound": r["bound"], "gap": r["gap"],
            "wall_s": wall, "verified": ok, "nodes": r["statistics"].get("nodes"),
            "classes": r["statistics"].get("classes")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "network"))
    ap.add_argument("--only", default="", help="comma-separated instance names")
    ap.add_argument("--no-baseline", action="store_true", help="skip the runs without the network checks")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SUITE)
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            make, before, goal = SUITE[name]
            path = Path(tmp) / f"{name}.json"
            doc = make()
            doc["name"] = name
            write_json_atomic(path, doc)
            row = {"instance": name, "before": before, "goal": goal}
            now = run(path, args.time_limit, [])
            row.update({f"now_{k}": v for k, v in now.items()})
            if not args.no_baseline:
                base = run(path, args.time_limit, ["--no-network-checks"])
                row.update({f"off_{k}": v for k, v in base.items()})
            rows.append(row)
            print(json.dumps(row), flush=True)
    cols = [("instance", "instance"), ("now_classes", "classes"), ("before", "issue's figure"),
            ("off_status", "checks off: status"), ("off_gap", "gap"), ("off_wall_s", "s"),
            ("now_status", "now: status"), ("now_objective", "objective"), ("now_bound", "bound"),
            ("now_gap", "gap"), ("now_wall_s", "wall s"), ("now_verified", "verified"), ("goal", "goal")]
    notes = [f"Machine load (1-minute average) {load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after.",
             f"`colgen solve X --time-limit {args.time_limit:g}` in a fresh process per run (wall time includes "
             "start-up and loading), HiGHS, 2 cores. 'checks off': the same with --no-network-checks "
             "(no component bound, no group path).",
             "Gaps are (bound - objective) / objective."]
    write_results(Path(args.out), "Network-bound clusters", rows, cols, notes, {"time_limit": args.time_limit})


if __name__ == "__main__":
    main()
