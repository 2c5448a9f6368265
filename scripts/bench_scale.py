"""Benchmark colgen on clusters of tens of thousands of GPUs: wall time and peak memory of a whole run.

    python scripts/bench_scale.py [--repeat 3] [--baseline COMMIT] [--out benchmarks/scale]

Generates the instances with ``colgen generate`` (into a temporary folder; the commands are in the
results), then runs every case in a fresh process and measures its wall time and peak RSS (the
child's ``getrusage``, via ``os.wait4``):

* ``solve-16384``: 16,384 GPUs in 8,192 nodes of 2, 200 layers, K = 16, links slack (``uniform``):
  ``colgen solve``, target a whole run within 5 s;
* ``solve-65536``: 65,536 GPUs in 8,192 nodes of 8, otherwise alike: target proven optimal within
  60 s in under 4 GB;
* ``load-matrix-2500``: an instance with a 2,500 x 2,500 bandwidth matrix (``distinct``): loading
  it (``load_instance``, timed inside the process), target at least 10x faster than the 30 s
  reported before the network model (so <= 3 s).

Interpreter start-up (importing what ``colgen solve`` imports) is measured apart, in a fresh
process, and subtracted in its own column. Each solve result is checked with ``colgen verify`` in
another fresh process. ``--baseline COMMIT`` also runs ``solve-16384`` and ``load-matrix-2500``
once on that commit's tree (exported with ``git archive``) for the ratios; ``solve-65536`` is not
run there (it would need a 65,536^2 matrix, 34 GB). The machine's load average is recorded with
every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import ROOT, write_results

GENERATE = {
    "solve-16384": "--seed 9 --layers 200 --gpus 16384 --network uniform --max-gpus-per-segment 16",
    "solve-65536": "--seed 9 --layers 200 --gpus 65536 --gpus-per-node 8 --network uniform "
                   "--max-gpus-per-segment 16",
    "load-matrix-2500": "--seed 3 --layers 8 --gpus 2500 --network distinct --max-gpus-per-segment 4",
}
#: (seconds for the whole run or the load, peak RSS in GB, must be proven optimal)
TARGETS = {"solve-16384": (5.0, None, True), "solve-65536": (60.0, 4.0, True), "load-matrix-2500": (3.0, None, False)}
STARTUP = "import colgen.cli.main, colgen.cli.commands, colgen.api, colgen.report.text"
LOAD = ("import sys, time; from colgen.model.instance import load_instance; t = time.perf_counter(); "
        "load_instance(sys.argv[1]); print(time.perf_counter() - t)")


def child(cmd: list[str], tree: Path, out: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` with colgen from ``tree``; wall seconds, peak RSS (MB), exit code, stdout."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env, cwd=tree)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        text, err = stdout.read().decode(), stderr.read().decode()
    if out is not None:
        out.write_text(text)
    return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024, "code": proc.returncode, "stdout": text,
            "stderr_tail": err[-2000:], "load_before": load_before}


def colgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "colgen.cli.main", *args]


def startup(tree: Path, times: int = 3) -> float:
    return statistics.median(child([sys.executable, "-c", STARTUP], tree)["wall_s"] for _ in range(times))


def run_case(case: str, path: Path, tree: Path, work: Path, time_limit: float) -> dict[str, Any]:
    if case.startswith("load"):
        r = child([sys.executable, "-c", LOAD, str(path)], tree)
        if r["code"] != 0:
            raise RuntimeError(f"{case} failed: {r['stderr_tail']}")
        r["load_s"] = float(r["stdout"].split()[-1])
        return r
    result = work / f"{case}.result.json"
    r = child(colgen("solve", str(path), "--quiet", "--time-limit", f"{time_limit:g}", "-o", str(result)), tree,
              out=work / f"{case}.stdout.txt")
    if r["code"] not in (0, 1):                      # optimal, or a placement without proof
        raise RuntimeError(f"{case} failed (exit {r['code']}): {r['stderr_tail']}")
    rep = json.loads(result.read_text())
    check = child(colgen("verify", str(path), str(result)), tree)
    r.update(status=rep["status"], objective=rep["objective"], classes=rep["statistics"].get("classes"),
             solver_total_s=rep["timings"].get("total"), valid=check["code"] == 0)
    return r


def verdict(case: str, row: dict[str, Any]) -> str:
    seconds, gb, optimal = TARGETS[case]
    measured = row["load_s"] if case.startswith("load") else row["wall_s"]
    ok = measured <= seconds
    parts = [f"{'load' if case.startswith('load') else 'run'} <= {seconds:g} s ({measured / seconds:.2f}x of it)"]
    if gb is not None:
        ok &= row["rss_mb"] / 1024 < gb
        parts.append(f"RSS < {gb:g} GB ({row['rss_mb'] / 1024 / gb:.2f}x of it)")
    if optimal:
        ok &= row.get("status") == "optimal" and bool(row.get("valid"))
        parts.append("proven optimal, verified")
    return ", ".join(parts) + f": {'met' if ok else 'MISSED'}"


def summarize(case: str, runs: list[dict[str, Any]], start: float) -> dict[str, Any]:
    wall = [r["wall_s"] for r in runs]
    row: dict[str, Any] = {"case": case, "runs": len(runs), "wall_s": statistics.median(wall), "wall_min_s": min(wall),
                           "rss_mb": max(r["rss_mb"] for r in runs), "load_avg": max(r["load_before"] for r in runs)}
    if not case.startswith("load"):             # a load imports less than a solve: its time is taken inside
        row["startup_s"] = start
        row["wall_minus_startup_s"] = row["wall_s"] - start
    for key in ("status", "objective", "classes", "valid"):
        if key in runs[0]:
            row[key] = runs[-1][key]
    for key in ("solver_total_s", "load_s"):
        if key in runs[0]:
            row[key] = statistics.median(r[key] for r in runs)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (median wall, max RSS)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="colgen solve --time-limit")
    ap.add_argument("--baseline", help="also run on this commit's tree (solve-16384 and load-matrix-2500, once)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "scale"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        paths = {}
        for case, gen in GENERATE.items():
            paths[case] = work / f"{case}.json"
            r = child(colgen("generate", *gen.split(), "-o", str(paths[case])), ROOT)
            if r["code"] != 0:
                raise RuntimeError(f"generate {case}: {r['stderr_tail']}")
        child(colgen("solve", str(ROOT / "instances" / "seed-tiny.json"), "--quiet"), ROOT)   # numba cache warm
        start = startup(ROOT)
        rows = []
        for case in GENERATE:
            runs = [run_case(case, paths[case], ROOT, work, args.time_limit) for _ in range(args.repeat)]
            row = summarize(case, runs, start)
            row["target"] = verdict(case, row)
            rows.append(row)
            print(json.dumps(row), flush=True)
        extra: dict[str, Any] = {"generate": {c: f"colgen generate {g}" for c, g in GENERATE.items()},
                                 "time_limit": args.time_limit}
        notes = []
        if args.baseline:
            base = work / "baseline"
            base.mkdir()
            archive = subprocess.run(["git", "archive", args.baseline, "colgen"], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            child(colgen("solve", str(ROOT / "instances" / "seed-tiny.json"), "--quiet"), base)
            base_start = startup(base)
            for row in rows:
                if row["case"] == "solve-65536":
                    row["baseline"] = "not run (a 65,536^2 matrix: 34 GB)"
                    continue
                b = summarize(row["case"], [run_case(row["case"], paths[row["case"]], base, work, args.time_limit)],
                              base_start)
                key = "load_s" if row["case"].startswith("load") else "wall_s"
                row["baseline"] = (f"{b[key]:.3g} s, {b['rss_mb'] / 1024:.3g} GB "
                                   f"({b[key] / row[key]:.3g}x slower, {b['rss_mb'] / row['rss_mb']:.3g}x the memory)")
                extra.setdefault("baseline_rows", []).append(b)
                print(json.dumps({"baseline": b}), flush=True)
            extra["baseline"] = args.baseline
            notes.append(f"Baseline: commit {args.baseline} (before the network model), one run per case.")
    loads = [r["load_avg"] for r in rows]
    notes += [
        f"Instances from `colgen generate` (see results.json 'generate'); {args.repeat} fresh-process runs per "
        "case: median wall time, largest peak RSS (getrusage of the child).",
        f"Interpreter start-up (`python -c '{STARTUP}'`, median of 3): {start:.2f} s; it is part of a solve's "
        "'wall s' and subtracted in 'wall - start-up'. 'load s' is timed inside the process (load_instance only).",
        f"Machine: {os.cpu_count()} cores shared with other work; 1-minute load average before the runs "
        f"{min(loads):.2f}..{max(loads):.2f} (0 = idle): "
        + ("loaded, times are pessimistic." if max(loads) >= 0.5 * (os.cpu_count() or 1) else "quiet."),
    ]
    cols = [("case", "case"), ("status", "status"), ("classes", "classes"), ("wall_s", "wall s"),
            ("startup_s", "start-up s"), ("wall_minus_startup_s", "wall - start-up s"),
            ("solver_total_s", "in-process solve s"), ("load_s", "load s"), ("rss_mb", "peak RSS MB"),
            ("valid", "verified"), ("load_avg", "load avg"), ("target", "target")]
    if args.baseline:
        cols.append(("baseline", f"baseline {args.baseline}"))
    write_results(Path(args.out), "colgen at scale: tens of thousands of GPUs", rows, cols, notes, extra)


if __name__ == "__main__":
    main()
