"""Pruning study: what each rule set removes and what it does to the full ILP.

    python scripts/study_pruning.py [--time-limit 600] [--out benchmarks/pruning]

For the shipped instances and random families, and for rule sets from none to all safe rules plus
the seed's heuristic restrictions, records allocations, consecutive pairs, the compact ILP's size,
build and solve time, status and objective, branch-and-price's time under the same rules, and the
optimality a heuristic loses (against the branch-and-price optimum). Writes results.json,
results.md, command.txt and pruning.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from benchlib import ROOT, generated, shipped, write_results

from colgen.api import same_type_segments, solve
from colgen.errors import ModelTooLargeError
from colgen.space.pruning import RULES, count_pairs_of, prune
from colgen.stop import Stop

RULE_SETS = {
    "none": [],
    "dominance": ["dominance"],
    "bound": ["bound"],
    "symmetry": ["symmetry"],
    "sym+dom": ["symmetry", "dominance"],
    "safe": ["symmetry", "dominance", "bound"],
    "safe+same-type": ["symmetry", "dominance", "bound", "same-type"],
    "safe+smaller-k": ["symmetry", "dominance", "bound", "smaller-k"],
    "sym+hierarchical": ["symmetry", "hierarchical"],
}


def suite():
    for name in ("seed-tiny", "legacy-small", "seed-demo", "legacy-medium", "mixed-80x65", "large-126x256"):
        yield shipped(name)
    for M, N, K in [(6, 8, 3), (10, 12, 3)]:
        yield generated(f"nodes-{M}x{N}-K{K}", 3, num_layers=M, num_gpus=N, num_types=3, max_k=K,
                        network="nodes", gpus_per_node=2, memory_pressure=0.8)
    yield generated("distinct-12x16-K3", 4, num_layers=12, num_gpus=16, num_types=3, max_k=3,
                    network="distinct", memory_pressure=0.6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "pruning"))
    args = ap.parse_args()
    solve(shipped("seed-tiny"), "bnp")                  # warm-up: numba compiles or loads its cache
    rows = []
    for inst in suite():
        exact = solve(inst, "bnp", backend="highs", time_limit=args.time_limit)
        optimum = exact.objective if exact.status == "optimal" else None
        by_setting: dict[tuple[str, ...], dict] = {}
        for label, rules in RULE_SETS.items():
            row = {"instance": inst.name, "rules": label, "safe": all(RULES[r].safe for r in rules),
                   "optimum": optimum}
            row.update(bnp_run(inst, rules, args.time_limit, by_setting))
            try:
                segments = same_type_segments(inst, Stop(args.time_limit)) if "hierarchical" in rules else None
                space = prune(inst, rules, segments=segments)
            except ModelTooLargeError as exc:
                row.update(status="not enumerable", note=str(exc).split(";")[0])
                rows.append(row)
                print(row, flush=True)
                continue
            row["allocations"] = len(space.alloc)
            if len(space.alloc) <= 100_000:
                row["pairs"] = count_pairs_of(space.alloc, inst.num_layers)
            try:
                r = solve(inst, "ilp", formulation="compact", backend="highs", prune=rules,
                          time_limit=args.time_limit)
            except ModelTooLargeError:
                row["status"] = "refused (memory guard)"
                rows.append(row)
                continue
            st = r.statistics
            finished = st.get("restricted_status", r.status)
            status = r.status if r.status != "heuristic" else f"heuristic, {finished}"
            row.update(columns=st["columns"], rows=st["rows"], nonzeros=st["nonzeros"],
                       build_s=r.timings["build"], solve_s=r.timings["solve"], status=status,
                       objective=r.objective)
            if r.objective is not None and optimum and finished == "optimal":
                row["loss"] = 1 - r.objective / optimum   # only where the (restricted) search ended
            rows.append(row)
            print(row, flush=True)
    out = Path(args.out)
    cols = [("instance", "instance"), ("rules", "rules"), ("safe", "safe"), ("allocations", "allocations"),
            ("pairs", "e-pairs"), ("columns", "ILP columns"), ("rows", "rows"), ("nonzeros", "nonzeros"),
            ("build_s", "build s"), ("solve_s", "solve s"), ("status", "status"), ("objective", "objective"),
            ("loss", "optimality lost"), ("bnp_status", "bnp status"), ("bnp_s", "bnp s"),
            ("optimum", "optimum (bnp)")]
    notes = [f"Full ILP in the compact formulation, HiGHS, time limit {args.time_limit:g} s per solve.",
             "'safe' = symmetry, dominance, bound. Heuristic sets report the optimality they lose "
             "against the branch-and-price optimum; safe sets must lose none. 'optimality lost' is "
             "given only where the (restricted) search ended; 'heuristic, time_limit' did not.",
             "'not enumerable': more than 5 million GPU-level allocations without the symmetry rule.",
             "![size and time per rule set](pruning.png)"]
    write_results(out, "Pruning rules: problem size and full-ILP time", rows, cols, notes,
                  {"time_limit": args.time_limit})
    plot(rows, out / "pruning.png")


def bnp_run(inst, rules: list[str], time_limit: float, cache: dict[tuple[str, ...], dict]) -> dict:
    """Branch-and-price under ``rules``: only symmetry, same-type and smaller-k change what it
    does (dominance and bound are inherent in its threshold search), so runs are shared."""
    if "hierarchical" in rules:
        return {"bnp_status": "n/a (ILP only)"}
    key = tuple(r for r in rules if r in ("symmetry", "same-type", "smaller-k"))
    if key not in cache:
        r = solve(inst, "bnp", backend="highs", prune=list(key) or "none", time_limit=time_limit)
        cache[key] = {"bnp_status": r.statistics.get("restricted_status", r.status),
                      "bnp_s": r.timings["solve"], "bnp_objective": r.objective}
    return cache[key]


def plot(rows: list[dict], path: Path) -> None:
    names = list(dict.fromkeys(r["instance"] for r in rows))
    labels = list(RULE_SETS)
    fig, axes = plt.subplots(1, 3, figsize=(20, 5.5))
    for name in names:
        mine = {r["rules"]: r for r in rows if r["instance"] == name}
        xs = [i for i, lab in enumerate(labels) if mine.get(lab, {}).get("allocations")]
        axes[0].plot(xs, [mine[labels[i]]["allocations"] for i in xs], marker="o", label=name)
        done = ("optimal", "heuristic, optimal")
        ts = [i for i, lab in enumerate(labels) if mine.get(lab, {}).get("status") in done]
        axes[1].plot(ts, [mine[labels[i]]["build_s"] + mine[labels[i]]["solve_s"] for i in ts], marker="o",
                     label=name)
        bs = [i for i, lab in enumerate(labels) if mine.get(lab, {}).get("bnp_status") == "optimal"]
        axes[2].plot(bs, [mine[labels[i]]["bnp_s"] for i in bs], marker="o", label=name)
    titles = ("allocations left", "full ILP build + solve time to optimum (s)",
              "branch-and-price time to optimum (s)")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_yscale("log")
        ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
