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
  to given ones (the caller passes those of the ``same-type`` optimum, colgen/api.py), and the GPU
  sets are chosen again over all allocations on exactly those segments.

:func:`prune` returns the surviving allocations and, per rule, the counts before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from math import comb

import numpy as np
import scipy.sparse as sp

from colgen.errors import InputError, ModelTooLargeError
from colgen.limits import Budget
from colgen.model.instance import Instance, instance_from_dict
from colgen.model.tables import Tables
from colgen.result import Placement, placement_throughput
from colgen.space.allocations import Allocations, enumerate_allocations, fitting_pairs, shapes_up_to, space_sizes
from colgen.space.class_space import ClassSpace, class_space
from colgen.space.classes import GpuClasses
from colgen.space.greedy import greedy_placement
from colgen.stop import Stop


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


def parse_rules(text: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """``none``, ``safe`` or a comma-separated list (or a sequence) of rule names (``memory`` is
    implicit)."""
    if not isinstance(text, str) and text is not None:
        text = ",".join(text) or "none"
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


def count_vectors(classes: GpuClasses, K: int) -> int:
    """How many class-count vectors with 1..K GPUs the class sizes allow (exact, no enumeration)."""
    ways = np.zeros(K + 1, dtype=object)
    ways[0] = 1
    for size in classes.sizes:                 # generating function: prod_c (1 + x + ... + x^size_c)
        new = np.zeros(K + 1, dtype=object)
        for n in range(min(int(size), K) + 1):
            new[n:] += ways[:K + 1 - n]
        ways = new
    return int(sum(ways[1:]))


def class_allocations(space: ClassSpace, stop: Stop | None = None) -> Allocations:
    """Every memory-feasible (segment, shape, count vector over classes) allocation: with t-way
    groups, counts in multiples of t (a group is GPUs of one class, colgen/space/classes.py).
    Refuses (before any enumeration) when the count vectors times the segments exceed
    :data:`MAX_ENUMERATION`; checks ``stop`` (deadline, interrupts) while it enumerates."""
    tab, classes = space.tab, space.classes
    M, K = tab.num_layers, space.max_k
    C, sizes = classes.count, classes.sizes
    vectors = count_vectors(classes, K) * max(1, len(set(int(t) for t in tab.shapes.t[1:])))
    if vectors * M * (M + 1) // 2 > MAX_ENUMERATION:
        raise ModelTooLargeError(
            f"the symmetry rule leaves up to {vectors:,} GPU-count vectors over {C} classes for each of "
            f"{M * (M + 1) // 2:,} segments, more than {MAX_ENUMERATION:,} allocations to enumerate; "
            "use --method bnp (it prices allocations instead of enumerating them)")
    ct = space.class_tau()
    starts, ends, taus, degrees, row_nnz, row_cols, row_vals = [], [], [], [], [], [], []
    seen = 0
    for sh, k, t in shapes_up_to(tab, K):
        for combo in combinations_with_replacement(range(C), k // t):
            seen += 1
            if stop is not None and seen % 1024 == 0:
                stop.check()
            n = np.bincount(combo, minlength=C) * t
            if (n > sizes).any():
                continue
            used = np.nonzero(n)[0]
            for L in range(1, M + 1):
                tau = float(ct[L, sh, used].min())
                if tau <= 0:
                    if space.limits.min_layers <= L:
                        break          # memory only shrinks with L (and so does the stage limit)
                    continue
                first = np.arange(1, M - L + 2)
                starts.append(first)
                ends.append(first + L - 1)
                taus.append(np.full(len(first), tau))
                degrees.append(np.full(len(first), t, dtype=np.int64))
                row_nnz.append(np.full(len(first), len(used)))
                row_cols.append(np.tile(used, len(first)))
                row_vals.append(np.tile(n[used], len(first)))
    if not starts:
        return Allocations(np.zeros(0, np.int64), np.zeros(0, np.int64), sp.csr_matrix((0, C)), np.zeros(0),
                           classes)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(row_nnz))])
    members = sp.csr_matrix((np.concatenate(row_vals).astype(np.int64), np.concatenate(row_cols), indptr),
                            shape=(len(indptr) - 1, C))
    tp = np.concatenate(degrees)
    return Allocations(np.concatenate(starts), np.concatenate(ends), members, np.concatenate(taus), classes,
                       None if (tp == 1).all() else tp)


def dominated(tab: Tables, alloc: Allocations, stop: Stop | None = None) -> np.ndarray:
    """Allocations for which a proper subset of their GPUs, same segment, fits and is as fast.

    The best subset of size k' keeps the k' members fastest at (L, k') among those that fit, so
    each allocation is checked against one subset per k' < k. The answer depends only on the
    segment length and the GPU count per type, so each such key is decided once. Subsets are
    data-parallel (t = 1) stages, so the rule needs that shape, and tensor-parallel allocations are
    never called dominated (a conservative choice)."""
    if not len(alloc) or tab.shapes.index(1, 1) == 0:
        return np.zeros(len(alloc), dtype=bool)
    units = alloc.units
    T = len(tab.type_names)
    to_type = sp.csr_matrix((np.ones(units.count), (np.arange(units.count), units.type)), shape=(units.count, T))
    per_type = np.rint((alloc.members @ to_type).toarray()).astype(np.int32)
    keys = np.column_stack([alloc.length.astype(np.int32), per_type])
    unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    out = np.zeros(len(unique), dtype=bool)
    for u, (row, rep) in enumerate(zip(unique, first, strict=True)):
        if stop is not None and u % 256 == 0:
            stop.check()
        L, counts = int(row[0]), row[1:]
        k = int(counts.sum())
        types = np.repeat(np.arange(T), counts)                     # the member GPUs' types
        for kk in range(1, k):
            s = tab.shapes.index(kk, 1)
            fit = types[tab.fits[L, s, types]] if s else types[:0]
            if len(fit) >= kk and np.sort(tab.tau[L, s, fit])[::-1][kk - 1] >= alloc.tau[rep]:
                out[u] = True
                break
    return out[inverse.ravel()] & (alloc.degrees() == 1)


def prune(instance: Instance, rules: list[str], log: Callable[[str], None] | None = None,
          stop: Stop | None = None, segments: set[tuple[int, int]] | None = None,
          prices: np.ndarray | None = None) -> PrunedSpace:
    """Apply ``rules`` in order; raise :class:`ModelTooLargeError` if the surviving space would
    have to be enumerated and is too large. The ``hierarchical`` rule keeps the allocations on
    ``segments`` (required with it). ``prices`` (per GPU): cost counts, so the symmetry rule's
    classes are split by price (the dominance rule stays safe: a subset of a GPU set costs no
    more; the bound rule does not, and callers with a cost goal leave it out)."""
    say = log or (lambda _m: None)
    inst = instance
    if "smaller-k" in rules:
        inst = smaller_k(instance)
    tab = inst.tables
    budget = Budget(stop, what="the allocation space")
    base = space_sizes(tab)[-1].allocations
    steps = [Step("memory", True, sum(comb(inst.num_gpus, k) for k in range(1, tab.max_k + 1))
                  * inst.num_layers * (inst.num_layers + 1) // 2, base)]
    if "smaller-k" in rules:
        steps.append(Step("smaller-k", False, space_sizes(instance.tables)[-1].allocations, base))
    limits = inst.stage_limits
    if "symmetry" in rules:
        alloc = class_allocations(class_space(tab, limits=limits, prices=prices), stop)
        steps.append(Step("symmetry", True, base, len(alloc)))
    else:
        if base > MAX_ENUMERATION:
            raise ModelTooLargeError(f"{base:,} GPU-level allocations are too many to enumerate; "
                                     "add the symmetry rule")
        alloc = enumerate_allocations(tab, budget, limits)
    space = PrunedSpace(inst, alloc, steps)
    for rule in rules:
        before = len(space.alloc)
        if rule == "dominance":
            space.alloc = space.alloc.select(~dominated(tab, space.alloc, stop))
        elif rule == "bound":
            placement = greedy_placement(class_space(tab, limits=limits))
            if placement:
                space.incumbent = placement
                space.incumbent_value = placement_throughput(inst, placement)
                space.alloc = space.alloc.select(space.alloc.tau > space.incumbent_value)
        elif rule == "same-type":
            units = space.alloc.units
            to_type = sp.csr_matrix((np.ones(units.count), (np.arange(units.count), units.type)),
                                    shape=(units.count, len(tab.type_names)))
            kinds = ((space.alloc.members @ to_type) > 0).sum(axis=1)
            space.alloc = space.alloc.select(np.asarray(kinds).ravel() == 1)
        elif rule == "hierarchical":
            if segments is None:
                raise InputError("--prune", "the hierarchical rule needs the segments to keep",
                                 "run it through colgen.solve, which finds the same-type optimum first")
            keep = [(int(a), int(b)) in segments for a, b in zip(space.alloc.start, space.alloc.end, strict=True)]
            space.alloc = space.alloc.select(np.array(keep, dtype=bool))
        else:
            continue
        space.steps.append(Step(rule, RULES[rule].safe, before, len(space.alloc)))
        say(f"prune: {rule}: {before:,} -> {len(space.alloc):,} allocations")
    return space


def smaller_k(instance: Instance) -> Instance:
    """The instance with at most K - 1 GPUs per stage (the ``smaller-k`` rule)."""
    doc = dict(instance.spec)
    par = dict(doc["parallelism"])
    K = max(1, instance.max_gpus_per_segment - 1)
    par["max_gpus_per_segment"] = K
    if "tensor_parallel_degrees" in par:
        par["tensor_parallel_degrees"] = [t for t in par["tensor_parallel_degrees"] if t <= K] or [1]
    if isinstance(par.get("dp_efficiency"), list):
        par["dp_efficiency"] = par["dp_efficiency"][:K]
    doc["parallelism"] = par
    return instance_from_dict(doc)


def count_pairs_of(alloc: Allocations, M: int) -> int:
    """Consecutive pairs of the (pruned) allocations whose GPU use fits together."""
    return sum(int(ok.sum()) for _, _, ok in fitting_pairs(alloc, M, chunk=512))
