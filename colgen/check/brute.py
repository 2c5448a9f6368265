"""Brute force: every segmentation, every GPU set for every stage. The oracle of the tests.

Depth-first over the next stage (its end layer and its GPU set among the unused GPUs); the only
pruning is "the partial minimum already cannot beat the best placement". Exponential: meant for
instances of a handful of layers and GPUs. :func:`search_size` bounds the number of GPU sets the
search may try, and :func:`solve_brute` refuses (before searching) when the bound exceeds
:data:`MAX_CANDIDATES`; inside the limit it checks the run's deadline and interrupts every few
thousand candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from colgen.errors import ModelTooLargeError
from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Result, Stage
from colgen.space.bounds import fluid_upper_bound
from colgen.stop import Stop, Stopped

#: Most (segment, GPU set) candidates brute force may have to try (about an hour at worst).
MAX_CANDIDATES = 10**9
#: Candidates tried between two looks at the deadline and the interrupt flag.
CHECK_EVERY = 4096


@dataclass(frozen=True)
class BruteOptions:
    """Options of method ``brute``. ``node_limit``: stop after this many search nodes."""

    node_limit: int | None = None


def search_size(num_layers: int, num_gpus: int, max_k: int) -> float:
    """An upper bound on the GPU sets the search tries (memory and pruning ignored): a node that
    starts at layer s with u GPUs used tries every set of 1..K unused GPUs for every end layer, and
    the nodes are counted by stages placed so far. Returns ``inf`` when it is astronomically large."""
    M, N, K = num_layers, num_gpus, min(max_k, num_gpus)
    per_node_root = M * sum(comb(N, k) for k in range(1, K + 1))
    if per_node_root > MAX_CANDIDATES:           # the root alone is too much: no need to count on
        return float(per_node_root) if per_node_root < 1e300 else float("inf")
    u = np.arange(N + 1)
    sets = np.array([[comb(N - x, k) if N - x >= k else 0 for x in u] for k in range(K + 1)], dtype=float)
    tries = sets[1:].sum(axis=0)                 # sets of 1..K unused GPUs, per GPUs used
    reach = np.zeros((M + 2, N + 1))
    reach[1, 0] = 1.0
    below = np.zeros(N + 1)                      # nodes that start before layer t, per GPUs used
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, M + 1):
            if t > 1:
                for k in range(1, K + 1):        # a stage of k GPUs from any earlier node ends at t - 1
                    reach[t, k:] += below[:N + 1 - k] * sets[k, :N + 1 - k]
            total += float((reach[t] * tries).sum()) * (M - t + 1)
            below += reach[t]
            if not total <= MAX_CANDIDATES * 1e3:
                return float("inf")
    return total


def solve_brute(instance: Instance, options: BruteOptions | None = None, *, stop: Stop | None = None,
                log: Log | None = None) -> Result:
    options = options or BruteOptions()
    stop = stop or Stop()
    say = as_log(log)
    M, N = instance.num_layers, instance.num_gpus
    K = min(instance.max_gpus_per_segment, N)
    size = search_size(M, N, K)
    if size > MAX_CANDIDATES:
        shown = f"{size:.3g}" if size < float("inf") else "astronomically many"
        raise ModelTooLargeError(
            f"brute force may try {shown} GPU sets on {M} layers, {N} GPUs and K={K}, more than the limit of "
            f"{MAX_CANDIDATES:.0e}; use --method bnp (it proves optimality without enumerating)")
    tab = instance.tables
    limits = instance.stage_limits
    degrees = instance.tp_degrees
    best_value = 0.0
    best: list[Stage] | None = None
    visited = tried = 0

    def dfs(start: int, unused: frozenset[int], prev: tuple[int, ...] | None, value: float,
            stages: list[Stage]) -> None:
        nonlocal best_value, best, visited, tried
        visited += 1
        if options.node_limit is not None and visited > options.node_limit:
            raise Stopped("node_limit")
        if limits.max_stages is not None and len(stages) >= limits.max_stages:
            return
        for end in range(start, M + 1):
            L = end - start + 1
            if not limits.allows_length(L):
                continue
            for k in range(1, min(K, len(unused)) + 1):
                for gpus in combinations(sorted(unused), k):
                    tried += 1
                    if tried % CHECK_EVERY == 0:
                        stop.check()
                    for t in degrees:                 # every shape: k GPUs in t-way groups
                        if k % t or not tab.stage_fits(L, gpus, t):
                            continue
                        v = min(value, tab.stage_throughput(L, gpus, t))
                        if prev is not None:
                            v = min(v, tab.link_throughput(prev, gpus))
                        if v <= best_value:
                            continue
                        stages.append(Stage(start, end, gpus, t))
                        if end == M:
                            best_value, best = v, list(stages)
                        else:
                            dfs(end + 1, unused.difference(gpus), gpus, v, stages)
                        stages.pop()

    def status() -> str:
        inc = f"{best_value:.6g}" if best else "-"
        return f"  ...  brute: {visited:,} nodes, {tried:,} GPU sets, incumbent {inc} tokens/s  {stop.elapsed():7.2f}s"

    say(f"brute: {M} layers, {N} GPUs, K={K}; at most {size:.3g} GPU sets to try")
    with Heartbeat(say, status):
        try:
            stop.check()
            dfs(1, frozenset(range(N)), None, float("inf"), [])
            status_, bound = ("optimal", best_value) if best is not None else ("infeasible", None)
        except Stopped as why:
            status_, bound = why.reason, fluid_upper_bound(tab)      # a valid bound, if a weak one
            if best is not None:
                bound = max(bound, best_value)
    return Result(instance=instance.name, method="brute", status=status_,
                  placement=tuple(best or ()), objective=best_value if best else None, bound=bound,
                  timings={"solve": stop.elapsed()}, statistics={"nodes": visited, "candidates": tried})
