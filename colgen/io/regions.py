"""Hierarchical cluster instances: nodes in racks in regions (the ``regions`` generator).

A cluster is ``regions`` regions of ``racks`` racks of ``nodes`` nodes; every node holds
``gpus_per_node`` GPUs of one type (NVLink-class bandwidth inside a node). Bandwidth between two
GPUs depends on the lowest hierarchy level they share:

* same node: ``node_gbps[type]`` (default per type: H100/H200 450, A100 300, V100 150, else 32);
* same rack: ``rack_gbps``; same region: ``region_gbps``;
* different regions: one bandwidth per region pair, drawn from ``inter_region_gbps`` (lo, hi)
  log-uniformly (seeded), or given explicitly as a matrix.

``jitter`` multiplies every node-pair bandwidth (not the intra-node one) by an independent factor in
[1 - jitter, 1 + jitter]: nodes then differ slightly and no longer collapse into large classes
(the near-symmetric case). The result is an instance *document* (``cluster.topology`` with one
entry per node pair that differs from ``inter_node_gbps``), so it goes through the usual
validation. ``colgen generate --network regions`` writes them from the command line; ``PRESETS``
holds the two shipped shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MODELS: dict[str, dict[str, Any]] = {
    "llama-2-70b": {"name": "llama-2-70b", "num_layers": 80, "d_model": 8192, "ffn_dim": 28672,
                    "num_heads": 64, "num_kv_heads": 8, "bytes_per_element": 2, "seq_len": 2048,
                    "batch_size": 32},
    "llama-3.1-405b": {"name": "llama-3.1-405b", "num_layers": 126, "d_model": 16384, "ffn_dim": 53248,
                       "num_heads": 128, "num_kv_heads": 8, "bytes_per_element": 2, "seq_len": 2048,
                       "batch_size": 64},
}
CATALOGUE_NAMES = {"H100": "H100-SXM", "H200": "H200", "A100": "A100-80GB", "A100-40": "A100-40GB",
                   "L40S": "L40S", "V100": "V100-32GB", "A10": "A10", "L4": "L4", "T4": "T4"}
NODE_GBPS = {"H100": 450.0, "H200": 450.0, "A100": 300.0, "A100-40": 300.0, "V100": 150.0}
DP_EFFICIENCY = [1.0, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92]

#: The shipped shapes: about 128 GPUs in 4 regions with a 70B model, 512 GPUs in 8 regions with 405B.
PRESETS: dict[str, dict[str, Any]] = {
    "70b": {"regions": 4, "racks": 1, "nodes": 4, "gpus_per_node": 8, "model": "llama-2-70b"},
    "405b": {"regions": 8, "racks": 2, "nodes": 4, "gpus_per_node": 8, "model": "llama-3.1-405b"},
}


def regions_instance(seed: int, *, regions: int = 4, racks: int = 1, nodes: int = 4, gpus_per_node: int = 8,
                     types: tuple[str, ...] = ("H100", "A100", "L40S", "V100"), model: str = "llama-2-70b",
                     max_k: int = 8, rack_gbps: float = 100.0, region_gbps: float = 50.0,
                     inter_region_gbps: tuple[float, float] | np.ndarray = (0.5, 5.0), jitter: float = 0.0,
                     node_gbps: dict[str, float] | None = None, type_mix: str = "random",
                     name: str | None = None) -> dict[str, Any]:
    """A hierarchical instance document. ``nodes`` is per rack, ``racks`` per region.
    ``type_mix``: ``random`` (every node's type drawn, each type at least once) or ``cycle``
    (node i gets ``types[i % len(types)]``)."""
    rng = np.random.default_rng(seed)
    R, n_nodes = regions, regions * racks * nodes
    if type_mix == "cycle":
        kinds = [types[i % len(types)] for i in range(n_nodes)]
    else:
        kinds = [types[int(rng.integers(len(types)))] for _ in range(n_nodes)]
        order = rng.permutation(n_nodes)
        for t, i in zip(types, order, strict=False):   # every type at least once
            kinds[i] = t
    region_of = np.repeat(np.arange(R), racks * nodes)
    rack_of = np.repeat(np.arange(R * racks), nodes)
    if isinstance(inter_region_gbps, tuple):
        lo, hi = inter_region_gbps
        inter = np.exp(rng.uniform(np.log(lo), np.log(hi), size=(R, R)))
        inter = np.triu(inter, 1)
        inter = inter + inter.T
    else:
        inter = np.asarray(inter_region_gbps, dtype=float)
    names = [f"r{region_of[i]}k{rack_of[i] % racks}n{i % nodes}-{kinds[i].lower()}" for i in range(n_nodes)]
    gbps = node_gbps or {}
    intra = {names[i]: {"intra_gbps": float(gbps.get(kinds[i], NODE_GBPS.get(kinds[i], 32.0)))}
             for i in range(n_nodes)}
    links = []
    for a in range(n_nodes):
        for b in range(a + 1, n_nodes):
            if region_of[a] != region_of[b]:
                v = float(inter[region_of[a], region_of[b]])
            elif rack_of[a] != rack_of[b]:
                v = region_gbps
            else:
                v = rack_gbps
            if jitter:
                v *= float(rng.uniform(1 - jitter, 1 + jitter))
            v = round(v, 6)
            if v != region_gbps:
                links.append({"nodes": [names[a], names[b]], "gbps": v})
    used = sorted(set(kinds), key=types.index)
    m = MODELS[model]
    return {
        "format": "colgen-instance/1",
        "name": name or f"regions-{seed}-{R}x{racks}x{nodes}x{gpus_per_node}-{model}"
                        + (f"-jitter{jitter:g}" if jitter else ""),
        "description": f"hierarchical cluster (seed {seed}): {R} regions x {racks} racks x {nodes} nodes x "
                       f"{gpus_per_node} GPUs ({', '.join(used)}), {m['name']}; {rack_gbps:g} GB/s in a rack, "
                       f"{region_gbps:g} GB/s in a region, region pairs "
                       + (f"{inter_region_gbps[0]:g}-{inter_region_gbps[1]:g}" if isinstance(inter_region_gbps, tuple)
                          else "as given") + " GB/s" + (f", +-{100 * jitter:g}% per node pair" if jitter else ""),
        "model": dict(m),
        "gpu_types": {t: {"catalogue": CATALOGUE_NAMES.get(t, t)} for t in used},
        "cluster": {"gpus": [{"type": kinds[i], "count": gpus_per_node, "node": names[i]} for i in range(n_nodes)],
                    "topology": {"intra_node_gbps": 32.0, "inter_node_gbps": region_gbps, "nodes": intra,
                                 "links": links}},
        "parallelism": {"max_gpus_per_segment": max_k, "dp_efficiency": DP_EFFICIENCY[:max_k]},
    }
