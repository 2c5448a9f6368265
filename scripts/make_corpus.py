"""Write the adversarial corpus of tests/corpus: broken instances, forged results, broken legacy folders.

Every case is a file (or, for legacy configurations, a folder) and an entry of the folder's
``expected.json``: the exit code colgen must give and a piece of the one line it must print.
tests/test_corpus.py runs them all. Cases written by hand (the first instance cases) are kept;
the others are regenerated from the shipped instances by this script:

    python scripts/make_corpus.py
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from colgen.api import solve
from colgen.model.instance import load_instance

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
TINY = ROOT / "instances" / "seed-tiny.json"
LEGACY_TINY = ROOT / "instances" / "legacy" / "tiny"
INF = "__INF__"   # written as the literal 1e999


def _dump(data: Any) -> str:
    return json.dumps(data).replace(f'"{INF}"', "1e999")


def _mutate(base: dict, change: Callable[[dict], Any]) -> dict:
    doc = copy.deepcopy(base)
    change(doc)
    return doc


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A change that sets ``a.b[0].c`` to ``value``."""
    def change(doc: dict) -> None:
        keys: list[Any] = []
        for part in path.replace("[", ".[").split("."):
            keys.append(int(part[1:-1]) if part.startswith("[") else part)
        target = doc
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return change


def _pop(path: str) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        *head, last = path.split(".")
        target = doc
        for k in head:
            target = target[k]
        target.pop(last)
    return change


def _topology(doc: dict, gpus: list[dict]) -> None:
    doc["cluster"] = {"gpus": gpus, "topology": {"intra_node_gbps": 300, "inter_node_gbps": 25}}


# ------------------------------------------------------------------------------------------ instances

def instance_cases(tiny: dict) -> dict[str, tuple[str | bytes, int, str]]:
    """name -> (file content, exit code, a piece of the message)."""
    cases: dict[str, tuple[str | bytes, int, str]] = {}

    def add(name: str, change: Callable[[dict], Any], says: str, code: int = 2) -> None:
        cases[name] = (_dump(_mutate(tiny, change)), code, says)

    def raw(name: str, text: str | bytes, says: str, code: int = 2) -> None:
        cases[name] = (text, code, says)

    add("layers-whole-float", _set("model.num_layers", 4.0), "model.num_layers: 4.0 is not a whole number")
    add("k-whole-float", _set("parallelism.max_gpus_per_segment", 2.0), "parallelism.max_gpus_per_segment")
    add("count-whole-float", _set("cluster.gpus[0].count", 2.0), "cluster.gpus[0].count: 2.0 is not a whole")
    add("d-model-fraction", _set("model.d_model", 4096.5), "model.d_model")
    add("layers-boolean", _set("model.num_layers", True), "model.num_layers: true is not a whole number")
    add("batch-null", _set("model.batch_size", None), "model.batch_size: null is not a number")
    add("layers-1e20", _set("model.num_layers", 10**20), "model.num_layers: 100000000000000000000 is above")
    add("layers-over-limit", _set("model.num_layers", 2049), "is above the limit of 2,048")
    add("count-1e9", _set("cluster.gpus[0].count", 10**9), "cluster.gpus[0].count: 1000000000 is above")
    add("count-200k", lambda d: _topology(d, [{"type": "A100", "count": 200_000, "node": "n0"}]),
        "cluster.gpus[0].count: 200000 is above the limit of 32,768")
    add("gpus-over-limit-in-groups",
        lambda d: _topology(d, [{"type": "A100", "count": 8_000, "node": f"n{i}"} for i in range(5)]),
        "cluster.gpus: adds up to 40,000 GPUs, more than the limit of 32,768")
    add("k-1e9", _set("parallelism.max_gpus_per_segment", 10**9), "parallelism.max_gpus_per_segment")
    add("k-over-limit", _set("parallelism.max_gpus_per_segment", 513), "above the limit of 512")
    add("alpha-1e-308", lambda d: d["gpu_types"]["A100"]["performance"].update(alpha_s=1e-308, beta_s=0),
        "gpu_types.A100.performance: gives a per-layer latency of 1e-308 s")
    add("alpha-beta-zero", lambda d: d["gpu_types"]["V100"]["performance"].update(alpha_s=0, beta_s=0),
        "gpu_types.V100.performance")
    add("alpha-negative", _set("gpu_types.A100.performance.alpha_s", -1e-3), "alpha_s: -0.001 is below")
    add("alpha-huge", _set("gpu_types.A100.performance.alpha_s", 1e300), "alpha_s: 1e+300 is above the limit")
    add("bandwidth-1e308", _set("cluster.bandwidth_gbps[0][1]", 1e308),
        "cluster.bandwidth_gbps[0][1]: 1e+308 GB/s is above the limit")
    add("bandwidth-string", _set("cluster.bandwidth_gbps[2][1]", "fast"), "cluster.bandwidth_gbps[2][1]")
    add("bandwidth-row-giant-string", _set("cluster.bandwidth_gbps[1]", "x" * 100_000),
        "cluster.bandwidth_gbps[1]: 'xxxxxxxx")
    add("bytes-per-element-1e-308", _set("model.bytes_per_element", 1e-308), "model.bytes_per_element")
    add("bytes-per-element-zero", _set("model.bytes_per_element", 0), "model.bytes_per_element")
    add("topology-gbps-huge", lambda d: _topology(d, [{"type": "A100", "count": 2, "node": "a"},
                                                    {"type": "V100", "count": 2, "node": "b"}])
        or d["cluster"]["topology"].update(inter_node_gbps=1e12), "cluster.topology.inter_node_gbps")
    add("empty-type-name", lambda d: (d["gpu_types"].__setitem__("", d["gpu_types"].pop("V100")),
                                      d["cluster"]["gpus"][1].__setitem__("type", "")),
        "gpu_types: the name '' is empty")
    add("long-type-name", lambda d: (d["gpu_types"].__setitem__("G" * 300, d["gpu_types"].pop("V100")),
                                     d["cluster"]["gpus"][1].__setitem__("type", "G" * 300)),
        "longer than 256 characters")
    add("empty-gpu-group-type", _set("cluster.gpus[1].type", ""), "cluster.gpus[1].type: must not be empty")
    add("empty-node-name", _set("cluster.gpus[0].node", ""), "cluster.gpus[0].node: must not be empty")
    add("too-many-types", lambda d: d["gpu_types"].update(
        {f"T{i}": {"memory_gb": 16, "performance": {"kind": "affine", "alpha_s": 1e-3, "beta_s": 1e-3}}
         for i in range(63)}), "gpu_types: declares 65 entries, more than the limit of 64")
    add("kv-heads-without-heads", lambda d: (d["model"].pop("num_heads"), d["model"].update(num_kv_heads=8)),
        "model.num_kv_heads: is given without model.num_heads")
    add("kv-heads-not-dividing", _set("model.num_kv_heads", 5), "model.num_kv_heads")
    add("heads-zero", _set("model.num_heads", 0), "model.num_heads: 0 is below the minimum of 1")
    add("unknown-field-long-name", _set("model." + "x" * 5000, 1), "model: unknown field 'xxx")
    add("format-wrong", _set("format", "colgen-instance/2"), "format: 'colgen-instance/2' must be")
    add("no-gpus", _set("cluster.gpus", []), "cluster.gpus: has 0 items, needs at least 1")
    add("reserved-memory-huge", _set("parallelism.reserved_memory_gb", 1e7), "parallelism.reserved_memory_gb")
    add("efficiency-zero", _set("parallelism.dp_efficiency", 0), "parallelism.dp_efficiency")
    add("efficiency-list-above-one", _set("parallelism.dp_efficiency", [1, 1.5]), "parallelism.dp_efficiency")
    add("seq-len-over-limit", _set("model.seq_len", 10**9), "model.seq_len")
    add("memory-1e-999-is-zero", _set("gpu_types.A100.memory_gb", "__ZERO__"), "must be greater than 0")
    add("profile-latency-1e-300", _set("gpu_types.A100.performance",
                                       {"kind": "profile", "batch_sizes": [1, 16], "latency_s": [1e-300, 1e-300]}),
        "gpu_types.A100.performance: gives a per-layer latency of 1e-300 s")
    add("roofline-tflops-1e-310", _set("gpu_types.A100.performance",
                                       {"kind": "roofline", "tflops": 1e-310, "hbm_gbps": 1e-310}),
        "gpu_types.A100.performance: gives a per-layer latency of inf s")
    add("weight-huge", _set("model.weight_gb_per_layer", 1e9), "model.weight_gb_per_layer")
    # Number literals JSON or Python cannot hold.
    raw("literal-1e999", _dump(tiny).replace('"batch_size": 16', '"batch_size": 1e999'),
        "the number 1e999 is out of range (not finite)")
    raw("literal-minus-1e999", _dump(tiny).replace('"alpha_s": 0.000397', '"alpha_s": -1E+999'),
        "the number -1E+999 is out of range")
    raw("literal-400-digit-float", _dump(tiny).replace('"batch_size": 16', '"batch_size": 1' + "0" * 400 + ".5"),
        "is out of range (not finite)")
    raw("literal-400-digit-int", _dump(tiny).replace('"num_layers": 4', '"num_layers": 1' + "0" * 400),
        "has 401 digits, more than the limit of 30")
    raw("literal-5000-digit-int", _dump(tiny).replace('"num_layers": 4', '"num_layers": ' + "9" * 5000),
        "has 5000 digits")
    raw("literal-infinity", _dump(tiny).replace('"batch_size": 16', '"batch_size": Infinity'),
        "Infinity is not a number JSON allows")
    raw("literal-minus-infinity", _dump(tiny).replace('"batch_size": 16', '"batch_size": -Infinity'),
        "-Infinity is not a number JSON allows")
    cases["memory-1e-999-is-zero"] = (cases["memory-1e-999-is-zero"][0].replace('"__ZERO__"', "1e-999"),
                                      2, "gpu_types.A100.memory_gb: 0.0 must be greater than 0")
    # Structure.
    raw("nested-1000-deep", '{"model": ' + "[" * 1000 + "]" * 1000 + "}", "nests 1001 levels deep")
    raw("nested-65-deep", '{"model": ' + "[" * 64 + "]" * 64 + "}", "nests 65 levels deep, more than the limit")
    raw("nested-in-string-is-fine", json.dumps({**tiny, "description": "[" * 5000}), "", code=0)
    raw("duplicate-key-deep", _dump(tiny).replace('"alpha_s": 0.000397', '"alpha_s": 0.000397, "alpha_s": 1'),
        "key 'alpha_s' appears twice")
    raw("top-level-string", '"an instance"', "(top level): 'an instance' is not an object")
    raw("top-level-number", "42", "(top level): 42 is not an object")
    raw("not-utf8", b"\xff\xfe{\x00}\x00", "is not UTF-8")
    raw("utf8-bom-is-fine", b"\xef\xbb\xbf" + _dump(tiny).encode(), "", code=0)
    raw("truncated", _dump(tiny)[:200], "not valid JSON")
    raw("only-whitespace", "   \n\t  ", "not valid JSON")
    add("nothing-fits-is-fine", _set("gpu_types.A100.memory_gb", 1e-300), "", code=0)
    return cases


# ------------------------------------------------------------------------------------------ results

def result_cases(good: dict, other: dict, tiny_name: str) -> dict[str, tuple[str | bytes, int, str]]:
    cases: dict[str, tuple[str | bytes, int, str]] = {}

    def add(name: str, change: Callable[[dict], Any], says: str, code: int = 6, base: dict | None = None) -> None:
        cases[name] = (_dump(_mutate(base or good, change)), code, says)

    def raw(name: str, text: str | bytes, says: str, code: int = 2) -> None:
        cases[name] = (text, code, says)

    a0, a1 = "allocations[0]", "allocations[1]"
    add("valid", lambda d: None, "", code=0)
    add("listed-in-reverse", lambda d: d["allocations"].reverse(), "", code=0)
    add("keys-in-another-order", lambda d: d.update(dict(reversed(list(d.items())))), "", code=0)
    add("objective-1e999", _set("objective", INF), "the number 1e999 is out of range", code=2)
    add("bound-1e999", _set("bound", INF), "the number 1e999 is out of range", code=2)
    add("stage-throughput-1e999", _set(f"{a0}.throughput", INF), "out of range", code=2)
    add("link-throughput-1e999", _set("connections[0].throughput", INF), "out of range", code=2)
    add("gpu-ids-fractions", _set(f"{a0}.gpu_ids", [0.9, 1.2]), f"{a0}.gpu_ids[0]: 0.9 is not a GPU id", code=2)
    add("gpu-ids-booleans", _set(f"{a0}.gpu_ids", [False, True]), f"{a0}.gpu_ids[0]: false is not a GPU id",
        code=2)
    add("gpu-ids-string", _set(f"{a0}.gpu_ids", "01"), f"{a0}.gpu_ids: '01' is not a list", code=2)
    add("gpu-ids-whole-floats", _set(f"{a0}.gpu_ids", [2.0, 3.0]), f"{a0}.gpu_ids[0]: 2.0 is not a GPU id",
        code=2)
    add("start-layer-string", _set(f"{a0}.segment.start_layer", "1"), "start_layer: '1' is not a layer number",
        code=2)
    add("end-layer-fraction", _set(f"{a1}.segment.end_layer", 3.7), "end_layer: 3.7 is not a layer number", code=2)
    add("start-layer-1e999", _set(f"{a0}.segment.start_layer", INF), "out of range", code=2)
    add("segment-missing", lambda d: d["allocations"][0].pop("segment"),
        f"{a0}.segment: null is not an object", code=2)
    add("start-layer-missing", lambda d: d["allocations"][0]["segment"].pop("start_layer"),
        f"{a0}.segment.start_layer: missing", code=2)
    add("allocation-null", _set("allocations[0]", None), f"{a0}: null is not an object", code=2)
    add("allocations-missing", _pop("allocations"), "allocations: missing", code=2)
    add("allocations-object", _set("allocations", {}), "allocations: an object is not a list", code=2)
    add("connections-string", _set("connections", "none"), "connections: 'none' is not a list", code=2)
    add("status-unknown", _set("status", "banana"), "status: 'banana' is not a status colgen writes", code=2)
    add("status-missing", _pop("status"), "status: null is not a status", code=2)
    add("instance-number", _set("instance", 7), "instance: 7 is not an instance name", code=2)
    add("statistics-list", _set("statistics", [1]), "statistics: a list of 1 items is not an object", code=2)
    raw("gpu-id-40-digits", _dump(good).replace('"gpu_ids": [2', '"gpu_ids": [' + "1" * 40, 1), "has 40 digits")
    add("gap-wrong", _set("gap", 0.5), "claimed gap 0.5, but objective and bound make it 0")
    add("gap-missing", _set("gap", None), "no gap given")
    add("gap-without-bound", lambda d: d.update(bound=None, status="time_limit"), "claimed gap 0 without both")
    add("optimal-without-bound", lambda d: d.update(bound=None, gap=None), "status 'optimal' without a bound")
    add("optimal-with-a-gap", lambda d: d.update(bound=d["objective"] * 1.5, gap=0.5),
        "status 'optimal' with a gap of 0.5")
    add("infeasible-with-placement", _set("status", "infeasible"), "status 'infeasible', but the result holds")
    add("heuristic-with-bound", _set("status", "heuristic"), "status 'heuristic' claims no optimality")
    add("bound-below-objective", lambda d: d.update(bound=d["objective"] * 0.9, gap=0.0, status="time_limit"),
        "claimed bound")
    add("objective-inflated", lambda d: d.update(objective=d["objective"] * 1.5, bound=d["bound"] * 1.5),
        "claimed objective")
    add("objective-missing", lambda d: d.update(objective=None, gap=None), "no objective claimed")
    add("stage-throughput-forged", lambda d: d["allocations"][1].update(throughput=1e12),
        "claimed throughput 1e+12")
    add("link-throughput-forged", _set("connections[0].throughput", 1.0), "link after layer 1: claimed throughput")
    add("gpu-repeated-in-stage", _set(f"{a1}.gpu_ids", [0, 0]), "lists GPU 0 2 times")
    add("gpu-in-two-stages", _set(f"{a1}.gpu_ids", [0, 2]), "GPU 2 serves two stages")
    add("gpu-negative", _set(f"{a1}.gpu_ids", [-1]), "GPU -1 does not exist")
    add("gpu-id-1e25", _set(f"{a1}.gpu_ids", [10**25]), "GPU 10000000000000000000000000 does not exist")
    add("segment-size-wrong", _set(f"{a1}.segment.segment_size", 2), "segment_size 2, but layers 2-4 are 3")
    add("num-gpus-wrong", _set(f"{a1}.num_gpus", 3), "num_gpus 3, but it lists 2")
    add("stage-number-wrong", _set(f"{a1}.stage", 5), "numbered stage 5, but it is stage 1")
    add("gpu-types-forged", _set(f"{a1}.gpu_types", {"V100": 2}), "gpu_types {'V100': 2}, but its GPUs are")
    add("overlap", _set(f"{a1}.segment.start_layer", 1), "overlap")
    add("coverage-short", lambda d: d["allocations"][1]["segment"].update(end_layer=3, segment_size=2),
        "coverage ends at layer 3")
    add("empty-allocations", lambda d: d.update(allocations=[], connections=[]), "the result holds no placement")
    add("connection-skips-a-stage", _set("connections[0].to_stage", 3), "connection 0 joins stages 0 and 3")
    add("too-many-connections", lambda d: d["connections"].append(dict(d["connections"][0])),
        "2 connections listed for 2 stages")
    add("another-instance", lambda d: None, f"is for instance '{other['instance']}', not '{tiny_name}'",
        base=other)
    add("another-instance-renamed", _set("instance", tiny_name), "does not exist", base=other)
    raw("nested-1000-deep", '{"allocations": ' + "[" * 1000 + "]" * 1000 + "}", "nests 1001 levels deep")
    raw("top-level-array", "[]", "(result): is not a JSON object")
    raw("nan-objective", _dump(good).replace('"objective": ', '"objective": NaN, "x": ', 1),
        "NaN is not a number JSON allows")
    raw("empty-file", "", "not valid JSON")
    raw("not-utf8", b"\x80\x81", "is not UTF-8")
    return cases


# ------------------------------------------------------------------------------------------ legacy

def legacy_cases() -> dict[str, tuple[dict[str, str | bytes | None], int, str]]:
    """name -> ({file: content or None to leave it out}, exit code, a piece of the message)."""
    files = {f: (LEGACY_TINY / f).read_text() for f in ("config.csv", "gpu_pool.csv", "network_bandwidth.csv")}
    cases: dict[str, tuple[dict[str, str | bytes | None], int, str]] = {}

    def add(name: str, says: str, code: int = 2, **changes: str | bytes | None) -> None:
        out: dict[str, str | bytes | None] = dict(files)
        for key, value in changes.items():
            out[key.replace("_csv", ".csv")] = value
        cases[name] = (out, code, says)

    cfg, pool, bw = files["config.csv"], files["gpu_pool.csv"], files["network_bandwidth.csv"]
    add("valid", "", code=0)
    add("config-semicolons", "config.csv line 1: separates its fields with semicolons",
        config_csv=cfg.replace(",", ";"))
    add("pool-semicolons", "gpu_pool.csv line 1: separates its fields with semicolons",
        gpu_pool_csv=pool.replace(",", ";"))
    add("bandwidth-tabs", "network_bandwidth.csv line 1: separates its fields with tabs",
        network_bandwidth_csv=bw.replace(",", "\t"))
    add("bytes-per-element-inf", "config.csv line 14: bytes_per_element: 'inf' is not a finite number",
        config_csv=cfg.replace("bytes_per_element,2", "bytes_per_element,inf"))
    add("bytes-per-element-nan", "'nan' is not a finite number",
        config_csv=cfg.replace("bytes_per_element,2", "bytes_per_element,nan"))
    add("layers-fraction", "config.csv line 6: num_decoder_layers: '16.5' is not a whole number",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,16.5"))
    add("layers-word", "num_decoder_layers: 'four' is not a number",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,four"))
    add("layers-zero", "config.csv line 6: num_decoder_layers: 0 is below the minimum of 1",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,0"))
    add("layers-over-limit", "config.csv line 6: num_decoder_layers: 5000 is above the limit",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,5000"))
    add("layers-twice", "config.csv line 7: sets num_decoder_layers again (first on line 6)",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,4\nnum_decoder_layers,8"))
    add("batch-missing", "max_batch_size: missing",
        config_csv="\n".join(r for r in cfg.splitlines() if "batch_size" not in r))
    add("heads-not-dividing", "config.csv line 10: num_attention_heads: 30 does not divide d_model",
        config_csv=cfg.replace("num_attention_heads,32", "num_attention_heads,30"))
    add("count-word", "gpu_pool.csv line 2: count: 'two' is not a number",
        gpu_pool_csv=pool.replace("A100,2,80", "A100,two,80"))
    add("count-1e9", "the pool adds up to 1,000,000,002 GPUs, more than the limit",
        gpu_pool_csv=pool.replace("A100,2,80", "A100,1000000000,80"))
    add("memory-nan", "gpu_pool.csv line 3: memory_gb: 'nan' is not a finite number",
        gpu_pool_csv=pool.replace("V100,2,32", "V100,2,nan"))
    add("memory-negative", "gpu_pool.csv line 3: memory_gb: -32.0 must be greater than 0",
        gpu_pool_csv=pool.replace("V100,2,32", "V100,2,-32"))
    add("type-unknown", "gpu_pool.csv line 2: gpu_type: 'B200X' is not in the GPU catalogue",
        gpu_pool_csv=pool.replace("A100,2,80", "B200X,2,80"))
    add("type-empty", "gpu_pool.csv line 2: gpu_type: is empty", gpu_pool_csv=pool.replace("A100,2,80", ",2,80"))
    add("type-twice-other-memory", "gpu_pool.csv line 3: gpu_type: 'A100' appears again (first on line 2",
        gpu_pool_csv=pool.replace("V100,2,32", "A100,2,40"))
    add("type-twice-same", "gpu_pool.csv line 3: gpu_type: 'A100' appears again (first on line 2",
        gpu_pool_csv=pool.replace("V100,2,32", "A100,2,80"))
    add("pool-no-header", "gpu_pool.csv line 1: has no header line",
        gpu_pool_csv="\n".join(pool.splitlines()[1:]) + "\n")
    add("pool-column-missing", "gpu_pool.csv line 1: the header has no column 'memory_gb'",
        gpu_pool_csv=pool.replace("memory_gb", "memory"))
    add("pool-columns-reordered", "", code=0,
        gpu_pool_csv="memory_gb,gpu_type,count\n80,A100,2\n32,V100,2\n")
    add("pool-not-utf8", "gpu_pool.csv line 3: is not UTF-8 text (byte 0xe9",
        gpu_pool_csv=pool.encode().replace(b"V100", b"V\xe9100"))
    add("price-nan", "gpu_pool.csv line 2: dollar_per_hour: 'nan' is not a finite number",
        gpu_pool_csv="gpu_type,count,memory_gb,dollar_per_hour\nA100,2,80,nan\nV100,2,32,1\n")
    add("count-inf", "gpu_pool.csv line 2: count: 'inf' is not a finite number",
        gpu_pool_csv=pool.replace("A100,2,80", "A100,inf,80"))
    add("config-no-header", "config.csv line 1: has no header line",
        config_csv="\n".join(cfg.splitlines()[1:]) + "\n")
    add("bandwidth-no-header", "network_bandwidth.csv line 1: has no header line",
        network_bandwidth_csv="\n".join(bw.splitlines()[1:]) + "\n")
    add("layers-twice-same", "config.csv line 7: sets num_decoder_layers again (first on line 6",
        config_csv=cfg.replace("num_decoder_layers,4", "num_decoder_layers,4\nnum_decoder_layers,4"))
    add("batch-size-old-key", "", code=0,
        config_csv="\n".join(r for r in cfg.splitlines() if "batch_size" not in r) + "\nbatch_size,16\n")
    add("batch-size-disagrees", "config.csv line 28: batch_size: 32 disagrees with max_batch_size 16",
        config_csv=cfg + "\nbatch_size,32\n")
    add("cost-inf", "config.csv line 21: max_hourly_cost: 'inf' is not a finite number",
        config_csv=cfg.replace("max_hourly_cost,999.0", "max_hourly_cost,inf"))
    add("instance-pool-without-table", "cloud_instances_specs.csv: is missing",
        gpu_pool_csv="instance_name,count\np4d.24xlarge,1\n")
    add("pool-empty", "gpu_pool.csv: lists no GPUs", gpu_pool_csv="gpu_type,count,memory_gb\n")
    add("bandwidth-word", "network_bandwidth.csv line 3 column 4: 'fast' is not a number",
        network_bandwidth_csv=bw.replace("gpu_1,400,400,200,200", "gpu_1,400,400,fast,200"))
    add("bandwidth-1e308", "network_bandwidth.csv line 2 column 3: 1e+308 GB/s is above the limit",
        network_bandwidth_csv=bw.replace("gpu_0,400,400", "gpu_0,400,1e308"))
    add("bandwidth-negative", "network_bandwidth.csv line 2 column 3: -5.0 is not a bandwidth",
        network_bandwidth_csv=bw.replace("gpu_0,400,400", "gpu_0,400,-5"))
    add("bandwidth-ragged", "network_bandwidth.csv line 4: has 3 bandwidths for 4 GPUs",
        network_bandwidth_csv=bw.replace("gpu_2,200,200,300,300", "gpu_2,200,200,300"))
    add("bandwidth-rows-missing", "network_bandwidth.csv: has 3 rows for the 4 GPUs",
        network_bandwidth_csv="\n".join(bw.splitlines()[:-1]))
    add("bandwidth-file-missing", "network_bandwidth.csv: cannot read", network_bandwidth_csv=None)
    add("config-not-utf8", "config.csv line 2: is not UTF-8 text (byte 0xff at character 1)",
        config_csv=b"parameter,value\n\xff\xfe,1\n")
    add("config-unclosed-quote", "config.csv line 27: total_tokens_to_process: '1000000\"unclosed' is not a number",
        config_csv=cfg + '"unclosed,1\n')
    return cases


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def main() -> None:
    tiny = json.loads(TINY.read_text())
    instances = CORPUS / "instances"
    expected = json.loads((instances / "expected.json").read_text())
    kept = {}
    for k, v in expected.items():                # hand-written cases (the old format: just the text)
        if isinstance(v, str) or not v.get("generated"):
            kept[k] = {"code": 2, "says": v} if isinstance(v, str) else v
    generated = instance_cases(tiny)
    for name in set(expected) - set(kept):
        (instances / f"{name}.json").unlink(missing_ok=True)
    out = dict(kept)
    for name, (content, code, says) in generated.items():
        _write(instances / f"{name}.json", content)
        out[name] = {"code": code, "says": says, "generated": True}
    (instances / "expected.json").write_text(json.dumps(dict(sorted(out.items())), indent=1) + "\n")

    inst = load_instance(TINY)
    good = solve(inst, "brute").to_dict(inst)
    demo = load_instance(ROOT / "instances" / "seed-demo.json")
    other = solve(demo, "bnp").to_dict(demo)
    for data in (good, other):                   # nothing that depends on the machine: reruns write the same files
        data["timings"] = {}
        data["statistics"] = {k: v for k, v in data["statistics"].items() if not k.startswith("time_")}
    results = CORPUS / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    out = {}
    for name, (content, code, says) in result_cases(good, other, inst.name).items():
        _write(results / f"{name}.json", content)
        out[name] = {"code": code, "says": says, "instance": "seed-tiny"}
    (results / "expected.json").write_text(json.dumps(out, indent=1) + "\n")

    legacy = CORPUS / "legacy"
    shutil.rmtree(legacy, ignore_errors=True)
    legacy.mkdir(parents=True)
    out = {}
    for name, (files, code, says) in legacy_cases().items():
        folder = legacy / name
        folder.mkdir()
        for fname, content in files.items():
            if content is not None:
                _write(folder / fname, content)
        out[name] = {"code": code, "says": says}
    (legacy / "expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
