"""Brute force: every segmentation, every GPU set for every stage. The oracle of the tests.

Depth-first over the next stage (its end layer and its GPU set among the unused GPUs); the only
pruning is "the partial minimum already cannot beat the best placement". Exponential: meant for
instances of a handful of layers and GPUs.
"""

from __future__ import annotations

import time
from itertools import combinations

from colgen.model.instance import Instance
from colgen.result import Result, Stage


def solve_brute(instance: Instance, time_limit: float | None = None) -> Result:
    tab = instance.tables
    M, N = instance.num_layers, instance.num_gpus
    K = min(instance.max_gpus_per_segment, N)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    best_value = 0.0
    best: list[Stage] | None = None
    visited = 0

    def dfs(start: int, unused: frozenset[int], prev: tuple[int, ...] | None, value: float,
            stages: list[Stage]) -> bool:
        nonlocal best_value, best, visited
        visited += 1
        if deadline is not None and visited % 1024 == 0 and time.perf_counter() > deadline:
            return False
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
                    elif not dfs(end + 1, unused.difference(gpus), gpus, v, stages):
                        return False
                    stages.pop()
        return True

    finished = dfs(1, frozenset(range(N)), None, float("inf"), [])
    elapsed = time.perf_counter() - t0
    stats = {"nodes": visited}
    if finished:
        status = "optimal" if best is not None else "infeasible"
        bound = best_value if best is not None else None
    else:
        status, bound = "time_limit", None
    return Result(instance=instance.name, method="brute", status=status,
                  placement=tuple(best or ()), objective=best_value if best else None, bound=bound,
                  timings={"solve": elapsed}, statistics=stats)
