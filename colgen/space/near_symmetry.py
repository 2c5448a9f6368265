"""Near-symmetry: a network whose groups differ by a small jitter, rounded to one with few classes.

A measured bandwidth matrix (or a topology with a few per cent of noise on every node pair) makes
every node a class of its own, and the search loses the symmetry that makes clusters of nodes
cheap. Here groups of GPUs (nodes, or GPUs of a matrix) whose GPU types and within-values match
and whose rows of clipped link throughput agree within a relative tolerance form *near classes*;
every group pair then gets one bandwidth per near-class pair:

* rounded **down** (the least bandwidth of the block): every placement of the rounded instance is
  a placement of the real one, and each of its links is at least as fast there. So its value in
  the real instance is at least its value in the rounded one: a primal heuristic with few classes.
* rounded **up** (the greatest): every placement of the real instance is at least as fast in the
  rounded one, so the rounded optimum bounds the real one from above.

Both hold for any partition; the tolerance only decides how close the two are. The engine
(``NearSearch`` in colgen/bnp/search.py) searches both networks as a primal heuristic: a
rounded-down placement as it is, a rounded-up one relabelled on the real network
(colgen/bnp/relabel.py) and valued there. It does not use the rounded-up optimum as a bound:
measured on the regions instances with +-3 % jitter (benchmarks/network), the threshold search's
own LP bound was already that optimum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from colgen.model.instance import Instance
from colgen.model.network import Network

#: Groups beyond which near classes are not looked for (the comparison is quadratic in groups).
MAX_GROUPS = 512


def near_labels(instance: Instance, cap: float, tol: float) -> np.ndarray | None:
    """``label[g]``, the near class of group g: groups with the same GPU types and clipped
    within-value whose clipped link rows (GB/s, clipped at ``cap``) differ from their class's first
    group by a factor of at most ``1 + tol`` everywhere (outside the pair itself). None when the
    network has too many groups or nothing merges."""
    net = instance.network
    G = net.num_groups
    if G > MAX_GROUPS or G < 2:
        return None
    ids = np.arange(G)
    rows = np.log(np.minimum(net.between(ids[:, None], ids[None, :]).astype(float), cap))
    types: dict[int, list[int]] = {}
    for gpu, g in zip(instance.tables.gpu_type.tolist(), net.group_of.tolist(), strict=True):
        types.setdefault(g, []).append(gpu)
    within = np.minimum(net.within, cap)
    signature = [(tuple(sorted(types[g])), float(within[g])) for g in range(G)]
    label = np.full(G, -1, dtype=np.int64)
    firsts: dict[tuple, list[int]] = {}              # signature -> first groups of its near classes
    count = 0
    limit = np.log1p(tol)
    for g in range(G):
        reps = firsts.setdefault(signature[g], [])
        if reps:
            diff = np.abs(rows[reps] - rows[g])     # every candidate at once, outside the pair itself
            diff[:, g] = 0.0
            diff[np.arange(len(reps)), reps] = 0.0
            close = np.nonzero(diff.max(axis=1) <= limit)[0]
            if len(close):
                label[g] = label[reps[int(close[0])]]
                continue
        label[g] = count
        count += 1
        reps.append(g)
    return label if count < G else None


def rounded_network(net: Network, label: np.ndarray, up: bool) -> Network:
    """``net`` with one bandwidth per near-class pair (and one within-value per near class): the
    greatest of the block's values (``up``) or the least."""
    G, L = net.num_groups, int(label.max()) + 1
    ids = np.arange(G)
    values = net.between(ids[:, None], ids[None, :]).astype(float)
    values[ids, ids] = np.nan                       # a group and itself: no between-value
    pick = np.fmax if up else np.fmin
    block = np.full((L, L), np.nan)
    within = np.full(L, np.nan)
    for g in range(G):
        block[label[g]] = pick(block[label[g]], _reduce(values[g], label, L, up))
        within[label[g]] = pick(within[label[g]], net.within[g])
    full = block[label[:, None], label[None, :]]
    if net.dense is not None:
        return Network.from_matrix(full, copy=False)
    links = {(a, b): float(full[a, b]) for a in range(G) for b in range(a + 1, G) if full[a, b] != net.default}
    return Network.from_topology(net.group_of, net.names, within[label], net.default, links)


def _reduce(row: np.ndarray, label: np.ndarray, L: int, up: bool) -> np.ndarray:
    """Per near class, the greatest (least) of ``row``'s values over its groups (nan: none)."""
    none = -np.inf if up else np.inf
    out = np.full(L, none)
    (np.maximum if up else np.minimum).at(out, label, np.nan_to_num(row, nan=none))
    out[out == none] = np.nan
    return out


def rounded(instance: Instance, label: np.ndarray, up: bool) -> Instance:
    """The instance on the rounded network (everything else as it is)."""
    return dataclasses.replace(instance, name=f"{instance.name} (rounded {'up' if up else 'down'})",
                               network=rounded_network(instance.network, label, up))
