from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings

from colgen.space.allocations import space_sizes
from tests.conftest import tiny_instances


def enumerate_space(inst, kmax):
    tab = inst.tables
    M = inst.num_layers
    count, segments = 0, set()
    for s in range(1, M + 1):
        for e in range(s, M + 1):
            for k in range(1, kmax + 1):
                for gpus in combinations(range(inst.num_gpus), k):
                    if tab.stage_fits(e - s + 1, gpus):
                        count += 1
                        segments.add((s, e))
    return len(segments), count


@settings(max_examples=100)
@given(tiny_instances(max_layers=4, max_gpus=5, max_k=3))
def test_counts_match_enumeration(inst):
    for size in space_sizes(inst.tables):
        assert (size.segments, size.allocations) == enumerate_space(inst, size.max_k)


def test_seed_demo_counts(shipped):
    sizes = space_sizes(shipped["seed-demo"].tables)
    # 105 segments; without memory limits C(30,1) + C(30,2) + C(30,3) = 4525 sets per segment.
    assert sizes[-1].segments == 105
    assert sizes[-1].allocations <= 105 * 4525
