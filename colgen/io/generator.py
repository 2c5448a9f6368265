"""Seeded random instances for tests and benchmarks.

``random_instance(seed, ...)`` returns an instance *document* (a dict in the JSON format), so the
generated instance goes through the same validation as a file and can be written out as one. GPU
types get affine latencies; bandwidths are scaled against the typical stage throughput so that slow
links really can bind (``network="nodes"`` or ``"distinct"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from colgen.choices import NETWORKS


def document_bytes(num_gpus: int, network: str, gpus_per_node: int) -> int:
    """About how many bytes the JSON of a random instance takes (its network dominates)."""
    nodes = -(-num_gpus // gpus_per_node)
    per_network = {"uniform": 0, "nodes": 90 * nodes * (nodes - 1) // 2, "distinct": 16 * num_gpus * num_gpus}
    return 2000 + 40 * num_gpus + per_network[network]


def random_instance(seed: int, *, num_layers: int = 4, num_gpus: int = 4, num_types: int = 2,
                    max_k: int = 2, network: str = "nodes", gpus_per_node: int = 2,
                    memory_pressure: float = 0.5, dp_efficiency: float | None = None,
                    name: str | None = None, tp_degrees: tuple[int, ...] = (1,),
                    max_stages: int | None = None, min_layers_per_stage: int | None = None,
                    max_layers_per_stage: int | None = None, prices: str | None = None) -> dict[str, Any]:
    """A random instance document.

    ``memory_pressure`` in [0, 1]: 0 lets any GPU hold the whole model, 1 makes the smallest
    GPU type hold about one layer. ``network``: ``uniform`` (links never bind), ``nodes`` (fast
    inside a node, node pairs at random speeds, some slower than the stages) or ``distinct``
    (every directed GPU pair its own random bandwidth: nothing is interchangeable).
    ``tp_degrees`` and the stage limits go into the parallelism section as given (tensor
    parallelism needs a topology: not with ``distinct``). ``prices``: None (no prices), ``types``
    (a random price per GPU-hour for each type, 0.5 to 10 USD, in cents) or ``nodes`` (also about
    one node in three renting its GPUs at its own price, one per type and node).
    """
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}")
    if prices not in (None, "types", "nodes"):
        raise ValueError("prices must be None, 'types' or 'nodes'")
    if min(num_layers, num_gpus, num_types, max_k, gpus_per_node) < 1 or seed < 0:
        raise ValueError("layers, GPUs, types, K and GPUs per node must be positive, the seed >= 0")
    rng = np.random.default_rng(seed)
    M, N = num_layers, num_gpus
    batch, seq, d_model, bpe = int(rng.choice([4, 6, 8, 12, 16])), 512, 1024, 2
    memory_choices = np.array([16.0, 24.0, 32.0, 48.0, 80.0])
    types: dict[str, Any] = {}
    for t in range(num_types):
        types[f"G{t}"] = {
            "memory_gb": float(rng.choice(memory_choices)),
            "performance": {"kind": "affine",
                            "alpha_s": round(float(rng.uniform(0.2e-3, 3e-3)), 6),
                            "beta_s": round(float(rng.uniform(0.1e-3, 2e-3)), 6)},
        }
    kinds = [f"G{int(rng.integers(num_types))}" for _ in range(N)]
    kinds[: min(N, num_types)] = [f"G{t}" for t in range(min(N, num_types))]
    kinds = sorted(kinds)
    # Memory: the smallest GPU holds between M and ~1 layers of a single-GPU stage.
    smallest = min(types[k]["memory_gb"] for k in set(kinds))
    kv = 0.02
    layers_fit = max(1.0, M * (1 - memory_pressure) + 1.2 * memory_pressure)
    weight = max(0.05, smallest / layers_fit - kv * batch)
    gpus = [{"type": kinds[i], "node": f"n{i // gpus_per_node}"} for i in range(N)]
    if prices is not None:
        # Drawn from a generator of their own, so that the rest of the instance does not depend on them.
        money = np.random.default_rng([seed, 1])
        for spec in types.values():
            spec["price_per_hour"] = round(float(money.uniform(0.5, 10.0)), 2)
        if prices == "nodes":
            own = {(g["node"], g["type"]): round(float(money.uniform(0.5, 10.0)), 2) for g in gpus}
            chosen = {n for n in sorted({g["node"] for g in gpus}) if money.uniform() < 1 / 3}
            for g in gpus:
                if g["node"] in chosen:
                    g["price_per_hour"] = own[(g["node"], g["type"])]

    # Typical stage throughput, to put link speeds in the same range.
    typical_lat = np.mean([t["performance"]["alpha_s"] + t["performance"]["beta_s"] * batch
                           for t in types.values()])
    typical_thr = float(batch * seq / (max(1, M // 2) * typical_lat))
    gbps_per_thr = d_model * bpe / 1e9  # GB/s needed per token/s
    cluster: dict[str, Any] = {"gpus": gpus}
    if network == "uniform":
        cluster["topology"] = {"intra_node_gbps": round(typical_thr * gbps_per_thr * 1e3, 6),
                               "inter_node_gbps": round(typical_thr * gbps_per_thr * 1e3, 6)}
    elif network == "nodes":
        nodes = sorted({g["node"] for g in gpus}, key=lambda n: int(n[1:]))
        levels = typical_thr * gbps_per_thr * np.array([0.3, 0.7, 1.0, 1.5, 3.0, 50.0])
        links = []
        for a in range(len(nodes)):
            for b in range(a + 1, len(nodes)):
                links.append({"nodes": [nodes[a], nodes[b]], "gbps": round(float(rng.choice(levels)), 6)})
        cluster["topology"] = {"intra_node_gbps": round(float(levels[-1]) * 4, 6),
                               "inter_node_gbps": round(float(levels[2]), 6), "links": links}
    else:
        scale = typical_thr * gbps_per_thr
        bw = np.round(scale * rng.uniform(0.3, 4.0, size=(N, N)), 6)
        np.fill_diagonal(bw, 0.0)
        cluster["bandwidth_gbps"] = bw.tolist()
    eff = dp_efficiency if dp_efficiency is not None else round(float(rng.uniform(0.85, 1.0)), 4)
    return {
        "format": "colgen-instance/1",
        "name": name or f"random-{seed}-{M}x{N}-{network}",
        "description": f"random instance (seed {seed}): {M} layers, {N} GPUs of {num_types} types, "
                       f"network '{network}'",
        "model": {"num_layers": M, "d_model": d_model, "bytes_per_element": bpe, "seq_len": seq,
                  "batch_size": batch, "weight_gb_per_layer": round(weight, 6),
                  "kv_gb_per_sample_layer": kv},
        "gpu_types": types,
        "cluster": cluster,
        "parallelism": {"max_gpus_per_segment": max_k, "dp_efficiency": eff,
                        **({"tensor_parallel_degrees": list(tp_degrees)} if tuple(tp_degrees) != (1,) else {}),
                        **({"max_stages": max_stages} if max_stages is not None else {}),
                        **({"min_layers_per_stage": min_layers_per_stage} if min_layers_per_stage else {}),
                        **({"max_layers_per_stage": max_layers_per_stage} if max_layers_per_stage else {})},
    }
