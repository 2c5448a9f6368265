"""Relabelling: swap interchangeable nodes of a placement to raise its slowest link.

Nodes of one near class (colgen/space/near_symmetry.py) hold the same GPU types and differ only in
their links, by a small jitter. A placement found where the network is rounded to near classes
uses *some* nodes of each class; on the real network which ones matters exactly at the pipeline's
slow links: a stage boundary between two regions is as fast as the node pair that carries it.
Relabelling is a local search over swaps of two nodes of one class that hold the same GPUs (type
and price; the k-th GPU of each kind of one node takes the place of the k-th of the other, so
stages keep their types and the placement its cost): it takes the first swap that
raises the placement's sorted vector of stage and link throughputs, trying only swaps that move a
node of the slowest link, and ends when none does or its budget of tried swaps is spent.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from colgen.model.instance import Instance
from colgen.result import Placement, Stage

#: Swaps relabelling tries at most (each re-values the links of two nodes' stages).
MAX_SWAPS = 10_000


def relabel(instance: Instance, placement: Placement, label: np.ndarray, budget: int) -> Placement:
    """``placement`` with nodes of one near class (``label[group]``) swapped so that its slowest
    link is as fast as this local search makes it, within ``budget`` tried swaps."""
    if not placement:
        return placement
    tab, net = instance.tables, instance.network
    # group -> GPU kind (type, price) -> its GPUs of that kind
    slots: dict[int, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
    for gpu in instance.gpus:
        slots[int(net.group_of[gpu.id])][(gpu.type, gpu.price_per_hour)].append(gpu.id)
    where = {g: (grp, kind, ids.index(g)) for grp, kinds in slots.items() for kind, ids in kinds.items()
             for g in ids}
    shape = {grp: sorted((str(kind), len(ids)) for kind, ids in kinds.items()) for grp, kinds in slots.items()}
    image = {grp: grp for grp in slots}                  # a node of the placement -> the node it moves to
    stages_of: dict[int, set[int]] = defaultdict(set)
    for i, s in enumerate(placement):
        for g in s.gpu_ids:
            stages_of[where[g][0]].add(i)

    def moved(i: int) -> Stage:
        s = placement[i]
        ids = tuple(slots[image[grp]][kind][k] for grp, kind, k in (where[g] for g in s.gpu_ids))
        return Stage(s.start_layer, s.end_layer, ids, s.tp)

    current = list(placement)
    stage_val = [0.0] * len(placement)
    link_val = [0.0] * (len(placement) - 1)

    def swap(a: int, b: int) -> set[int]:
        """Exchange the images of nodes a and b; the stages whose GPUs changed."""
        image[a], image[b] = image[b], image[a]
        touched = stages_of[a] | stages_of[b]
        for i in touched:
            current[i] = moved(i)
        return touched

    def rescore(touched: set[int]) -> None:
        for i in touched:
            s = current[i]
            stage_val[i] = tab.stage_throughput(s.num_layers, s.gpu_ids, s.tp)
        for j in {j for i in touched for j in (i - 1, i) if 0 <= j < len(link_val)}:
            link_val[j] = tab.link_throughput(current[j].gpu_ids, current[j + 1].gpu_ids)

    rescore(set(range(len(placement))))
    tried = 0
    score = sorted(stage_val + link_val)
    while tried < budget:
        # The nodes whose swap may raise the slowest value: those of the slowest link's two stages,
        # or of the slowest stage when it is tensor-parallel (its groups run at their node's
        # bandwidth, which near classes compare only up to the clipping); a plain stage runs at its
        # GPUs' speed wherever they are.
        stage = int(np.argmin(stage_val))
        if link_val and min(link_val) <= stage_val[stage]:
            slowest = int(np.argmin(link_val))
            binding = (slowest, slowest + 1)
        elif placement[stage].tp > 1:
            binding = (stage,)
        else:
            break
        movers = sorted({where[g][0] for i in binding for g in placement[i].gpu_ids})
        better = False
        for a in movers:
            for b in (b for b in slots if b != a and label[b] == label[a] and shape[b] == shape[a]):
                if tried >= budget:
                    break
                tried += 1
                rescore(swap(a, b))
                new = sorted(stage_val + link_val)
                if new > score:
                    score, better = new, True
                    break
                rescore(swap(a, b))                      # undo
            if better or tried >= budget:
                break
        if not better:
            break
    return tuple(current)
