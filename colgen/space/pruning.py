"""Pruning the allocation space: safe rules (the optimum survives, proven) and heuristic ones.

Rules, applied in the order given:

* ``memory`` (safe, always on): allocations whose GPUs cannot hold their layers.
* ``symmetry`` (safe): GPUs of one class (same type, same links up to the fluid upper bound) are
  interchangeable (colgen/classes.py), so one allocation per (segment, count vector over classes)
  stands for all the GPU sets with those counts; the ILP counts GPUs per class.
* ``dominance`` (safe): an allocation is dropped when a proper subset of its GPUs, on the same
  segment, fits in memory and is at least as fast. Using the subset frees GPUs, keeps coverage, and
  cannot slow a link (a link's throughput is a minimum over fewer pairs). A mixed-type set whose
  slower GPUs make it slower than its faster members alone falls under this rule.
* ``bound`` (safe): with a placement of value LB (colgen/heuristics.py: greedy), an allocation with
  throughput <= LB cannot appear in a strictly better placement; the ILP then searches only for
  those, and the greedy placement is the answer when there are none. (Links <= LB are excluded by
  the same argument; the compact model's network rows already encode them.)
* ``same-type`` (heuristic, from the seed): only stages of one GPU type.
* ``smaller-k`` (heuristic, from the seed): at most K - 1 GPUs per stage.
* ``hierarchical`` (heuristic, from the seed): segment first, then allocate: the segments are fixed
  to those of the ``same-type`` optimum, and the GPU sets are chosen again over all allocations
  on exactly those segments.

:func:`prune` returns the surviving allocations and, per rule, the counts before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from math import comb

import numpy as np
import scipy.sparse as sp

from colgen.space.allocations import Allocations, enumerate_allocations, fitting_pairs, space_sizes
from colgen.space.classes import GpuClasses, gpu_classes
from colgen.errors import InputError, ModelTooLargeError
from colgen.bnp.heuristics import greedy_placement
from colgen.model.instance import Instance
from colgen.bnp.master import class_space
from colgen.model.performance import Tables
from colgen.result import Placement, placement_throughput


@dataclass(frozen=True)
class Rule:
    name: str
    safe: bool
    what: str


RULES = {r.name: r for r in (
    Rule("memory", True, "allocations that do not fit in memory (always on)"),
    Rule("symmetry", True, "one allocation per class-count vector (interchangeable GPUs)"),
    Rule("dominance", True, "allocations beaten by a proper subset of their GPUs"),
    Rule("bound", True, "allocations no faster than a greedy placement"),
    Rule("same-type", False, "only stages of one GPU type"),
    Rule("smaller-k", False, "at most K - 1 GPUs per stage"),
    Rule("hierarchical", False, "segments fixed to the same-type optimum, then GPUs chosen again"),
)}
SAFE = ("symmetry", "dominance", "bound")

#: GPU-level allocations beyond this are counted, never enumerated.
MAX_ENUMERATION = 5_000_000
HIERARCHY_SECONDS = 60.0   # time cap of the same-type search behind the hierarchical rule


def parse_rules(text: str | None) -> list[str]:
    """``none``, ``safe`` or a comma-separated list of rule names (``memory`` is implicit)."""
    if text is None or text == "none":
        return []
    if text == "safe":
        return list(SAFE)
    names = [t.strip() for t in text.split(",") if t.strip()]
    for n in names:
        if n not in RULES:
            raise InputError("--prune", f"unknown rule '{n}'",
                             f"use none, safe, or a comma-separated list of {', '.join(RULES)}")
    return [n for n in names if n != "memory"]


@dataclass
class Step:
    rule: str
    safe: bool
    allocations_before: int
    allocations_after: int


@dataclass
class PrunedSpace:
    """What survives pruning. ``incumbent`` is the placement the bound rule started from (the
    answer when no surviving allocation beats it)."""

    instance: Instance
    alloc: Allocations
    steps: list[Step] = field(default_factory=list)
    incumbent: Placement = ()
    incumbent_value: float = 0.0

    @property
    def safe(self) -> bool:
        return all(s.safe for s in self.steps)


def class_allocations(tab: Tables, classes: GpuClasses) -> Allocations:
    """Every memory-feasible (segment, count vector over classes) allocation."""
    M, K = tab.num_layers, min(tab.max_k, tab.num_gpus)
    C, sizes, ctype = classes.count, classes.sizes, classes.type
    starts, ends, rows, taus = [], [], [], []
    for k in range(1, K + 1):
        for combo in combinations_with_replacement(range(C), k):
            n = np.bincount(combo, minlength=C)
            if (n > sizes).any():
                continue
            used = ctype[n > 0]
            for L in range(1, M + 1):
                if not tab.fits[L, k, used].all():
                    break
                tau = float(tab.tau[L, k, used].min())
                s = np.arange(1, M - L + 2)
                starts.append(s)
                ends.append(s + L - 1)
                rows.append(np.tile(n, (len(s), 1)))
                taus.append(np.full(len(s), tau))
    if not starts:
        return Allocations(np.zeros(0, np.int64), np.zeros(0, np.int64), sp.csr_matrix((0, C)), np.zeros(0),
                           classes)
    return Allocations(np.concatenate(starts), np.concatenate(ends), sp.csr_matrix(np.vstack(rows)),
                       np.concatenate(taus), classes)


def select(alloc: Allocations, keep: np.ndarray) -> Allocations:
    return Allocations(alloc.start[keep], alloc.end[keep], alloc.members[keep], alloc.tau[keep], alloc.units)


def dominated(tab: Tables, alloc: Allocations) -> np.ndarray:
    """Allocations for which a proper subset of their GPUs, same segment, fits and is as fast.

    The best subset of size k' keeps the k' members fastest at (L, k') among those that fit, so
    each allocation is checked against one subset per k' < k."""
    out = np.zeros(len(alloc), dtype=bool)
    units = alloc.units
    counts = alloc.members.toarray().astype(np.int64)
    length, k = alloc.length, alloc.size
    for i in np.nonzero(k > 1)[0]:
        types = np.repeat(units.type, counts[i])                   # the member GPUs' types
        L = int(length[i])
        for kk in range(1, int(k[i])):
            fit = types[tab.fits[L, kk, types]]
            if len(fit) >= kk and np.sort(tab.tau[L, kk, fit])[::-1][kk - 1] >= alloc.tau[i]:
                out[i] = True
                break
    return out


def prune(instance: Instance, rules: list[str], log: Callable[[str], None] | None = None) -> PrunedSpace:
    """Apply ``rules`` in order; raise :class:`ModelTooLargeError` if the surviving space would
    have to be enumerated at the GPU level and is too large."""
    say = log or (lambda _m: None)
    inst = instance
    if "smaller-k" in rules:
        inst = smaller_k(instance)
    tab = inst.tables
    base = space_sizes(tab)[-1].allocations
    steps = [Step("memory", True, sum(comb(inst.num_gpus, k) for k in range(1, tab.max_k + 1))
                  * inst.num_layers * (inst.num_layers + 1) // 2, base)]
    if "smaller-k" in rules:
        steps.append(Step("smaller-k", False, space_sizes(instance.tables)[-1].allocations, base))
    if "symmetry" in rules:
        alloc = class_allocations(tab, gpu_classes(tab, class_space(tab).upper))
        steps.append(Step("symmetry", True, base, len(alloc)))
    else:
        if base > MAX_ENUMERATION:
            raise ModelTooLargeError(f"{base:,} GPU-level allocations are too many to enumerate; "
                                     "add the symmetry rule")
        alloc = enumerate_allocations(tab)
    space = PrunedSpace(inst, alloc, steps)
    for rule in rules:
        before = len(space.alloc)
        if rule == "dominance":
            space.alloc = select(space.alloc, ~dominated(tab, space.alloc))
        elif rule == "bound":
            placement = greedy_placement(class_space(tab))
            if placement:
                space.incumbent = placement
                space.incumbent_value = placement_throughput(inst, placement)
                space.alloc = select(space.alloc, space.alloc.tau > space.incumbent_value)
        elif rule == "same-type":
            units = space.alloc.units
            to_type = sp.csr_matrix((np.ones(units.count), (np.arange(units.count), units.type)),
                                    shape=(units.count, len(tab.type_names)))
            kinds = ((space.alloc.members @ to_type) > 0).sum(axis=1)
            space.alloc = select(space.alloc, np.asarray(kinds).ravel() == 1)
        elif rule == "hierarchical":
            space.alloc = select(space.alloc, _hierarchical_segments(inst, space.alloc))
        else:
            continue
        space.steps.append(Step(rule, RULES[rule].safe, before, len(space.alloc)))
        say(f"prune: {rule}: {before:,} -> {len(space.alloc):,} allocations")
    return space


def smaller_k(instance: Instance) -> Instance:
    from colgen.model.instance import instance_from_dict

    doc = dict(instance.spec)
    par = dict(doc["parallelism"])
    K = max(1, instance.max_gpus_per_segment - 1)
    par["max_gpus_per_segment"] = K
    if isinstance(par.get("dp_efficiency"), list):
        par["dp_efficiency"] = par["dp_efficiency"][:K]
    doc["parallelism"] = par
    return instance_from_dict(doc)


def _hierarchical_segments(instance: Instance, alloc: Allocations) -> np.ndarray:
    """Keep allocations on the segments of the same-type optimum, found by branch-and-price on
    single-type stages (the full ILP over the same-type allocations can take minutes on the
    larger instances; ``HIERARCHY_SECONDS`` caps the search, its best placement is used then)."""
    from colgen.bnp.search import solve_bnp

    first = solve_bnp(instance, single_type=True, time_limit=HIERARCHY_SECONDS)
    segments = {(s.start_layer, s.end_layer) for s in first.placement}
    return np.array([(int(a), int(b)) in segments for a, b in zip(alloc.start, alloc.end, strict=True)],
                    dtype=bool)


def count_pairs_of(alloc: Allocations, M: int) -> int:
    """Consecutive pairs of the (pruned) allocations whose GPU use fits together."""
    return sum(int(ok.sum()) for _, _, ok in fitting_pairs(alloc, M, chunk=512))


def report(instance: Instance, rules: list[str], *, formulation: str = "compact", solve: bool = False,
           time_limit: float | None = None) -> list[dict]:
    """One row per rule, applied in order: allocations and consecutive pairs before and after, the
    size of the full ILP on what is left and, with ``solve``, its build/solve time and objective."""
    from colgen.ilp.model import build, estimate, solve_ilp
    from colgen.ilp.model import count_pairs as gpu_pairs

    rows: list[dict] = []
    M = instance.num_layers
    pairs_before: int | None = gpu_pairs(instance.tables)
    for i in range(len(rules) + 1):
        prefix = rules[:i]
        row: dict = {"rule": "memory" if i == 0 else prefix[-1],
                     "kind": "safe" if i == 0 or RULES[prefix[-1]].safe else "heuristic"}
        try:
            space = prune(instance, prefix)
        except ModelTooLargeError:
            est = estimate(instance, formulation)
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
            r = solve_ilp(instance, formulation, backend="highs", time_limit=time_limit, prune=prefix)
            st = r.statistics
            row.update(columns=st["columns"], rows=st["rows"], nonzeros=st["nonzeros"],
                       build_s=r.timings["build"], solve_s=r.timings["solve"], status=r.status,
                       objective=r.objective)
        else:
            model = build(space.instance, formulation, space.alloc).model
            row.update(columns=model.num_cols, rows=model.num_rows, nonzeros=model.nnz)
        rows.append(row)
    return rows
