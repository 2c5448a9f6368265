"""Write the shipped instances in instances/ (reproducibly).

    python scripts/make_instances.py [--legacy-dir instances/legacy]

The legacy-*.json files are imported from the legacy CSV configurations when that folder exists;
everything else is built here from the GPU catalogue. See instances/README.md for what each is.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from colgen.io.legacy import import_legacy
from colgen.io.regions import PRESETS, regions_instance
from colgen.jsonio import write_json_atomic
from colgen.model.catalogue import lookup
from colgen.model.instance import instance_from_dict
from colgen.model.performance import roofline_for

OUT = Path(__file__).resolve().parent.parent / "instances"
EFFICIENCY = 0.5


def affine_type(catalogue_name: str, model: dict[str, Any]) -> dict[str, Any]:
    """Affine latency fitted to the catalogue roofline: weights streamed once (alpha) plus the
    per-sample compute (beta), both at 50 % of peak."""
    e = lookup(catalogue_name)
    inst = instance_from_dict({
        "model": model, "gpu_types": {"x": {"catalogue": catalogue_name}},
        "cluster": {"gpus": [{"type": "x"}], "bandwidth_gbps": [[0]]},
        "parallelism": {"max_gpus_per_segment": 1}})
    m = inst.model
    r = roofline_for(e.tflops, e.hbm_gbps, EFFICIENCY, params_per_layer=m.params_per_layer,
                     d_model=m.d_model, seq_len=m.seq_len, bytes_per_element=m.bytes_per_element,
                     kv_gb_per_sample_layer=m.kv_gb_per_sample_layer)
    flops = r.flops_matmul_per_sample + r.flops_attention_per_sample
    return {"catalogue": catalogue_name, "memory_gb": e.memory_gb,
            "performance": {"kind": "affine",
                            "alpha_s": float(f"{r.weight_bytes / (e.hbm_gbps * 1e9 * EFFICIENCY):.4g}"),
                            "beta_s": float(f"{flops / (e.tflops * 1e12 * EFFICIENCY):.4g}")}}


def nodes(prefix: str, gpu_type: str, count: int, per_node: int) -> list[dict[str, Any]]:
    out, i = [], 0
    while count > 0:
        n = min(per_node, count)
        out.append({"type": gpu_type, "count": n, "node": f"{prefix}{i}"})
        count -= n
        i += 1
    return out


LLAMA_7B = {"name": "llama-7b", "d_model": 4096, "ffn_dim": 11008, "num_heads": 32,
            "bytes_per_element": 2}


def seed_tiny() -> dict[str, Any]:
    model = {**LLAMA_7B, "num_layers": 4, "seq_len": 2048, "batch_size": 16}
    return {
        "format": "colgen-instance/1", "name": "seed-tiny",
        "description": "the seed's tiny configuration: 4 layers, 2 A100 + 2 V100, batch 16, K=2",
        "source": "GPU pool and bandwidth matrix of the legacy 'tiny' configuration; affine latencies "
                  "fitted to the catalogue roofline at 50% efficiency",
        "model": model,
        "gpu_types": {"A100": affine_type("A100-80GB", model), "V100": affine_type("V100-32GB", model)},
        "cluster": {"gpus": [{"type": "A100", "count": 2, "node": "n0"},
                             {"type": "V100", "count": 2, "node": "n1"}],
                    "bandwidth_gbps": [[0, 400, 200, 200], [400, 0, 200, 200],
                                       [200, 200, 0, 300], [200, 200, 300, 0]]},
        "parallelism": {"max_gpus_per_segment": 2, "dp_efficiency": 0.95},
    }


def seed_demo() -> dict[str, Any]:
    model = {**LLAMA_7B, "num_layers": 14, "seq_len": 1024, "batch_size": 100}
    gpus = nodes("h100-", "H100", 10, 8) + nodes("a10-", "A10", 10, 4) + nodes("t4-", "T4", 10, 4)
    intra = {g["node"]: {"intra_gbps": {"H100": 450, "A10": 32, "T4": 16}[g["type"]]} for g in gpus}
    return {
        "format": "colgen-instance/1", "name": "seed-demo",
        "description": "the seed's demo: 14 layers, 10 H100 + 10 A10 + 10 T4, batch 100, K=3",
        "source": "sizes from the seed document; affine latencies fitted to the catalogue roofline at "
                  "50% efficiency; NVLink 450 GB/s in H100 nodes, PCIe elsewhere, 100 GbE between nodes",
        "model": model,
        "gpu_types": {"H100": affine_type("H100-SXM", model), "A10": affine_type("A10", model),
                      "T4": affine_type("T4", model)},
        "cluster": {"gpus": gpus, "topology": {"intra_node_gbps": 32, "inter_node_gbps": 12.5,
                                               "nodes": intra}},
        "parallelism": {"max_gpus_per_segment": 3, "dp_efficiency": 0.95},
    }


def mixed_80x65() -> dict[str, Any]:
    model = {"name": "llama-2-70b", "num_layers": 80, "d_model": 8192, "ffn_dim": 28672,
             "num_heads": 64, "num_kv_heads": 8, "bytes_per_element": 2, "seq_len": 2048,
             "batch_size": 32}
    gpus = (nodes("h100-", "H100", 16, 8) + nodes("a100-", "A100", 16, 8) + nodes("a10-", "A10", 16, 4)
            + nodes("v100-", "V100", 12, 4) + nodes("l4-", "L4", 5, 5))
    intra = {g["node"]: {"intra_gbps": {"H100": 450, "A100": 300, "V100": 150}.get(g["type"], 32)}
             for g in gpus}
    slow = sorted({g["node"] for g in gpus if g["type"] in ("V100", "L4")})
    others = sorted({g["node"] for g in gpus} - set(slow))
    links = [{"nodes": [a, b], "gbps": 1.25} for a in slow for b in others + slow if a < b or b in others]
    return {
        "format": "colgen-instance/1", "name": "mixed-80x65",
        "description": "Llama-2-70B (80 layers) on 65 mixed GPUs: 16 H100, 16 A100, 16 A10, 12 V100, "
                       "5 L4; V100 and L4 nodes hang off 10 GbE, K=4",
        "source": "GPU specs from the catalogue (roofline, 50% efficiency); 200 Gb/s InfiniBand between "
                  "the H100/A100/A10 nodes, 10 GbE (1.25 GB/s) to and between the V100/L4 nodes",
        "model": model,
        "gpu_types": {t: {"catalogue": c} for t, c in
                      (("H100", "H100-SXM"), ("A100", "A100-80GB"), ("A10", "A10"),
                       ("V100", "V100-32GB"), ("L4", "L4"))},
        "cluster": {"gpus": gpus, "topology": {"intra_node_gbps": 32, "inter_node_gbps": 25,
                                               "nodes": intra, "links": links}},
        "parallelism": {"max_gpus_per_segment": 4, "dp_efficiency": [1.0, 0.97, 0.95, 0.93]},
    }


def large_126x256() -> dict[str, Any]:
    model = {"name": "llama-3.1-405b", "num_layers": 126, "d_model": 16384, "ffn_dim": 53248,
             "num_heads": 128, "num_kv_heads": 8, "bytes_per_element": 2, "seq_len": 2048,
             "batch_size": 64}
    gpus = (nodes("h100-", "H100", 64, 8) + nodes("h200-", "H200", 32, 8) + nodes("a100-", "A100", 96, 8)
            + nodes("l40s-", "L40S", 64, 8))
    intra = {g["node"]: {"intra_gbps": {"H100": 450, "H200": 450, "A100": 300}.get(g["type"], 32)}
             for g in gpus}
    return {
        "format": "colgen-instance/1", "name": "large-126x256",
        "description": "Llama-3.1-405B (126 layers) on 256 GPUs in 32 nodes of 8: 64 H100, 32 H200, "
                       "96 A100, 64 L40S; K=8",
        "source": "GPU specs from the catalogue (roofline, 50% efficiency); NVLink inside H100/H200/A100 "
                  "nodes, PCIe inside L40S nodes, 400 Gb/s InfiniBand between nodes",
        "model": model,
        "gpu_types": {t: {"catalogue": c} for t, c in
                      (("H100", "H100-SXM"), ("H200", "H200"), ("A100", "A100-80GB"), ("L40S", "L40S"))},
        "cluster": {"gpus": gpus, "topology": {"intra_node_gbps": 32, "inter_node_gbps": 50,
                                               "nodes": intra}},
        "parallelism": {"max_gpus_per_segment": 8,
                        "dp_efficiency": [1.0, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92]},
    }


def hf_llama_70b() -> dict[str, Any]:
    """The model straight from a Hugging Face config.json (see instances/models/README.md)."""
    model = {"hf_config": "models/llama-3.1-70b-instruct/config.json", "name": "Llama-3.1-70B-Instruct",
             "seq_len": 8192, "batch_size": 64}
    gpus = nodes("h100-", "H100", 4, 4) + nodes("a100-", "A100", 4, 4) + nodes("l40s-", "L40S", 4, 4)
    intra = {g["node"]: {"intra_gbps": {"H100": 450, "A100": 300}.get(g["type"], 32)} for g in gpus}
    return {
        "format": "colgen-instance/1", "name": "hf-llama-3.1-70b",
        "description": "Llama-3.1-70B-Instruct (80 layers, from its Hugging Face config.json) on 12 GPUs in "
                       "3 nodes: 4 H100, 4 A100, 4 L40S; 8k-token sequences, batch 64, K=4",
        "source": "model from instances/models/llama-3.1-70b-instruct/config.json; GPU specs from the "
                  "catalogue (roofline, 50% efficiency); NVLink inside H100/A100 nodes, PCIe inside L40S "
                  "nodes, 200 Gb/s InfiniBand (25 GB/s) between nodes",
        "model": model,
        "gpu_types": {t: {"catalogue": c} for t, c in
                      (("H100", "H100-SXM"), ("A100", "A100-80GB"), ("L40S", "L40S"))},
        "cluster": {"gpus": gpus, "topology": {"intra_node_gbps": 32, "inter_node_gbps": 25,
                                               "nodes": intra}},
        "parallelism": {"max_gpus_per_segment": 4, "dp_efficiency": [1.0, 0.97, 0.95, 0.93]},
    }


#: List prices per GPU-hour (USD), from the original solver's cloud table
#: (its cloud_instances_specs.csv, a copy in tests/data/legacy/cloud): an
#: instance's price divided by its GPUs. AWS where it lists the GPU, Azure for the T4.
LIST_PRICES = {
    "H100": (12.29, "AWS p5.48xlarge, $98.32 for 8 H100"),
    "H200": (12.29, "AWS p5en.48xlarge, $98.32 for 8 H200"),
    "A100": (5.12, "AWS p4de.24xlarge, $40.96 for 8 A100 80GB"),
    "L40S": (3.42, "AWS g6e.48xlarge, $27.39 for 8 L40S"),
    "A10": (1.01, "AWS g5.xlarge, $1.01 for 1 A10G"),
    "T4": (1.09, "Azure Standard_NCasT4_v3, $4.35 for 4 T4"),
}


def priced(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with the list price of each GPU type (:data:`LIST_PRICES`)."""
    types = {name: {**spec, "price_per_hour": LIST_PRICES[name][0]} for name, spec in doc["gpu_types"].items()}
    source = "; ".join(f"{name} ${LIST_PRICES[name][0]}/h ({LIST_PRICES[name][1]})" for name in doc["gpu_types"])
    return {**doc, "name": f"{doc['name']}-priced", "description": f"{doc['description']}, with list prices",
            "source": f"{doc['source']}; prices per GPU-hour from the original solver's cloud table: {source}",
            "gpu_types": types}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--legacy-dir", default=str(Path(__file__).resolve().parents[1] / "instances" / "legacy"))
    args = ap.parse_args()
    docs = {"seed-tiny": seed_tiny(), "seed-demo": seed_demo(), "mixed-80x65": mixed_80x65(),
            "large-126x256": large_126x256(), "hf-llama-3.1-70b": hf_llama_70b(),
            "regions-70b": regions_instance(1, **PRESETS["70b"]),        # colgen generate --network regions
            "regions-405b": regions_instance(1, **PRESETS["405b"])}
    docs["seed-demo-priced"] = priced(docs["seed-demo"])
    docs["large-126x256-priced"] = priced(docs["large-126x256"])
    legacy = Path(args.legacy_dir)
    if legacy.is_dir():
        for name in ("tiny", "small", "medium"):
            doc, _ = import_legacy(legacy / name)          # exactly what `colgen import-legacy` writes
            docs[f"legacy-{name}"] = doc
    for name, doc in docs.items():
        instance_from_dict(doc, base=OUT)
        write_json_atomic(OUT / f"{name}.json", doc)
        print(f"wrote instances/{name}.json")


if __name__ == "__main__":
    main()
