"""Brute force: every segmentation, every GPU set for every stage. The oracle of the tests.

Depth-first over the next stage (its end layer and its GPU set among the unused GPUs); the only
pruning is "the partial minimum already cannot beat the best placement". Exponential: meant for
instances of a handful of layers and GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from colgen.model.instance import Instance
from colgen.progress import Heartbeat, Log, as_log
from colgen.result import Result, Stage
from colgen.space.bounds import fluid_upper_bound
from colgen.stop import Stop, Stopped


@dataclass(frozen=True)
class BruteOptions:
    """Options of method ``brute``. ``node_limit``: stop after this many search nodes."""

    node_limit: int | None = None


def solve_brute(instance: Instance, options: BruteOptions | None = None, *, stop: Stop | None = None,
                log: Log | None = None) -> Result:
    options = options or BruteOptions()
    stop = stop or Stop()
    say = as_log(log)
    tab = instance.tables
    M, N = instance.num_layers, instance.num_gpus
    K = min(instance.max_gpus_per_segment, N)
    best_value = 0.0
    best: list[Stage] | None = None
    visited = 0

    def dfs(start: int, unused: frozenset[int], prev: tuple[int, ...] | None, value: float,
            stages: list[Stage]) -> None:
        nonlocal best_value, best, visited
        visited += 1
        if visited % 256 == 0:
            stop.check()
        if options.node_limit is not None and visited > options.node_limit:
            raise Stopped("node_limit")
        for end in range(start, M + 1):
            L = end - start + 1
            for k in range(1, min(K, len(unused)) + 1):
                for gpus in combinations(sorted(unused), k):
                    if not tab.stage_fits(L, gpus):
                        continue
                    v = min(value, tab.stage_throughput(L, gpus))
                    if prev is not None:
                        v = min(v, tab.link_throughput(prev, gpus))
                    if v <= best_value:
                        continue
                    stages.append(Stage(start, end, gpus))
                    if end == M:
                        best_value, best = v, list(stages)
                    else:
                        dfs(end + 1, unused.difference(gpus), gpus, v, stages)
                    stages.pop()

    def status() -> str:
        inc = f"{best_value:.6g}" if best else "-"
        return f"  ...  brute: {visited:,} nodes, incumbent {inc} tokens/s  {stop.elapsed():7.2f}s"

    say(f"brute: {M} layers, {N} GPUs, K={K}")
    with Heartbeat(say, status):
        try:
            dfs(1, frozenset(range(N)), None, float("inf"), [])
            status_, bound = ("optimal", best_value) if best is not None else ("infeasible", None)
        except Stopped as why:
            status_, bound = why.reason, fluid_upper_bound(tab)      # a valid bound, if a weak one
            if best is not None:
                bound = max(bound, best_value)
    return Result(instance=instance.name, method="brute", status=status_,
                  placement=tuple(best or ()), objective=best_value if best else None, bound=bound,
                  timings={"solve": stop.elapsed()}, statistics={"nodes": visited})
