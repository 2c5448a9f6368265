"""Studies that compose several solvers: what each pruning rule removes and what it costs the ILP."""

from __future__ import annotations

from colgen.api import same_type_segments
from colgen.errors import ModelTooLargeError
from colgen.ilp.model import build
from colgen.ilp.size import count_pairs as gpu_pairs
from colgen.ilp.size import estimate
from colgen.ilp.solver import IlpOptions, solve_ilp
from colgen.model.instance import Instance
from colgen.space.pruning import RULES, count_pairs_of, prune
from colgen.stop import Stop


def pruning_report(instance: Instance, rules: list[str], *, formulation: str = "compact", solve: bool = False,
                   time_limit: float | None = None) -> list[dict]:
    """One row per rule, applied in order: allocations and consecutive pairs before and after, the
    size of the full ILP on what is left and, with ``solve``, its build/solve time and objective."""
    rows: list[dict] = []
    M = instance.num_layers
    segments = same_type_segments(instance, Stop(time_limit)) if "hierarchical" in rules else None
    try:
        pairs_before: int | None = gpu_pairs(instance.tables)
    except ModelTooLargeError:                  # too many to count: shown as "-"
        pairs_before = None
    for i in range(len(rules) + 1):
        prefix = rules[:i]
        row: dict = {"rule": "memory" if i == 0 else prefix[-1],
                     "kind": "safe" if i == 0 or RULES[prefix[-1]].safe else "heuristic"}
        try:
            space = prune(instance, prefix, segments=segments)
        except ModelTooLargeError:
            try:
                est = estimate(instance, formulation)
            except ModelTooLargeError:
                row.update(note="too large to count")
                rows.append(row)
                pairs_before = None
                continue
            row.update(allocations_after=est.allocations, pairs_after=est.pairs, columns=est.columns,
                       rows=est.rows, nonzeros=est.nnz, note="estimated (not enumerable)")
            rows.append(row)
            pairs_before = est.pairs
            continue
        last = space.steps[-1]
        pairs = count_pairs_of(space.alloc, M) if len(space.alloc) <= 200_000 else None
        row.update(allocations_before=last.allocations_before, allocations_after=last.allocations_after,
                   pairs_before=pairs_before, pairs_after=pairs)
        pairs_before = pairs
        if solve:                      # solve_ilp builds the model itself and reports its size
            r = solve_ilp(instance, IlpOptions(formulation=formulation, prune=",".join(prefix) or "none"),
                          backend="highs", stop=Stop(time_limit), segments=segments)
            st = r.statistics
            row.update(columns=st["columns"], rows=st["rows"], nonzeros=st["nonzeros"],
                       build_s=r.timings["build"], solve_s=r.timings["solve"], status=r.status,
                       objective=r.objective)
        else:
            model = build(space.instance, formulation, space.alloc).model
            row.update(columns=model.num_cols, rows=model.num_rows, nonzeros=model.nnz)
        rows.append(row)
    return rows
