"""Import the CSV configurations of the original placement solver (gangmuk/LLM_placement_solver and its
Tandemn-Labs continuation), faithfully: every value it reads becomes the colgen field that means the
same, and every value colgen ignores, defaults or changes is named in a notice (docs/legacy.md).

A configuration is a folder with ``config.csv`` (``parameter,value``) and ``gpu_pool.csv`` in one of
two formats, told apart by its header:

* ``gpu_type,count,memory_gb[,dollar_per_hour]``: GPU types; each type's GPUs become nodes of 8
  consecutive GPUs (the original's tensor-parallel groups are aligned blocks of up to 8 GPUs of one
  type). The network is ``network_bandwidth.csv`` (GPU by GPU, pool order), another matrix
  (``bandwidth=``), or the original's ``--generate-network INTRA INTER`` rule (``generate_network=``).
* ``instance_name,count[,dollar_per_hour]``: cloud instances described in
  ``cloud_instances_specs.csv``; each instance becomes a node of its GPUs, priced per GPU, with its
  interconnects as the network (or a matrix, or the ``--generate-network`` rule).

The converted document is validated like any instance; a problem is reported at the CSV file, line
and column (or the command-line option) it came from, never at a JSON path the user never wrote.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from colgen.errors import InputError, ModelTooLargeError
from colgen.io.legacy_cloud import CloudTable
from colgen.io.legacy_csv import FOLDER_FIX, Table, number, read_rows, read_table, short
from colgen.limits import MAX_GPUS, gb, memory_budget_bytes
from colgen.model.catalogue import match
from colgen.model.instance import NETWORK_COPIES, instance_from_dict

#: Legacy parameter -> model field.
_MODEL_FIELDS = {
    "model_name": ("name", str),
    "num_decoder_layers": ("num_layers", int),
    "d_model": ("d_model", int),
    "d_hidden": ("ffn_dim", int),
    "num_attention_heads": ("num_heads", int),
    "num_kv_heads": ("num_kv_heads", int),
    "bytes_per_element": ("bytes_per_element", float),
    "sequence_length": ("seq_len", int),
    "layer_weight_memory_gb": ("weight_gb_per_layer", float),
}
_BATCH = ("batch_size", "min_batch_size", "max_batch_size")
_STAGES = {"max_pipeline_stages": "max_stages", "min_layers_per_stage": "min_layers_per_stage"}
_COSTS = ("max_hourly_cost", "max_cost_per_million_token", "max_cost_per_token", "total_tokens_to_process",
          "max_total_cost", "max_total_runtime_hours")
#: The original's "no limit" values.
_NO_HOURLY_LIMIT = 999.0
_NO_JOB_LIMIT = 999999.0
#: Why each parameter colgen does not import is ignored.
_IGNORED = {
    "time_limit_seconds": "a solve option: run colgen solve --time-limit {v}",
    "optimality_gap": "a solve option: run colgen solve --gap {v} (colgen proves optimality by default)",
    "network_bandwidth_percentile_threshold":
        "the original drops the slowest {pct} of candidate stage-to-stage connections (a heuristic filter); "
        "colgen keeps every connection",
    "optimization_priority":
        "the original weighs cost against throughput ({v}); colgen maximizes throughput (the original's "
        "enumeration method does too, under several budgets)",
    "cost_throughput_weight": "the original's weight of cost against throughput; colgen maximizes throughput",
    "throughput_normalization": "a denominator of the original's weighted objective only",
    "cost_normalization": "a denominator of the original's weighted objective only",
    "vocab_size": "embeddings and the LM head are not decoder layers: colgen does not place them",
    "max_position_embeddings": "not used for placement (colgen uses sequence_length)",
    "real_world_efficiency": "a factor the original applies to its reported throughput after solving, not in "
                             "its optimization",
    "micro_batch_size": "used by the original only to scale its reported throughput after solving (pipeline "
                        "bubbles)",
    "storage_bandwidth_gbps": "not read by the original's solvers",
    "workload_phase": "colgen models one forward pass over sequence_length tokens per sample (prefill); "
                      "'{v}' is not modelled",
    "output_length": "decode steps are not modelled (colgen models a prefill pass of sequence_length tokens)",
}
#: The original solver's efficiency per GPU type (its GPU_SPECS; unknown types take A100's).
ORIGINAL_EFFICIENCY = {"H100": 0.70, "A100": 0.65, "L40S": 0.58, "A40": 0.52, "L40": 0.55, "V100": 0.42,
                       "RTX4090": 0.50, "L20": 0.48, "A10": 0.45, "T4": 0.38}
_ORIGINAL_KEY = {"H100-SXM": "H100", "H100-PCIe": "H100", "A100-80GB": "A100", "A100-40GB": "A100",
                 "V100-16GB": "V100", "V100-32GB": "V100", "RTX-4090": "RTX4090", "A10G": "A10"}
#: The original's tensor-parallel degrees (powers of two up to 8 by default) and its largest group.
_DEGREES = (1, 2, 4, 8)
NODE_SIZE = 8
DEFAULT_K = 4
#: Python memory per value of the bandwidth matrix while it is read (a float and its list slot).
_BYTES_PER_CSV_VALUE = 40
#: Most node-pair overrides a derived network may list.
_MAX_LINKS = 1_000_000


class _Sources:
    """Where each field of the converted document came from, to report problems there."""

    def __init__(self) -> None:
        self.prefixes: list[tuple[str, str]] = []

    def add(self, field: str, where: str) -> None:
        self.prefixes.append((field, where))

    def locate(self, field: str) -> str | None:
        best = None
        for prefix, where in self.prefixes:
            inside = field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "[")
            if inside and (best is None or len(prefix) > len(best[0])):
                best = (prefix, where)
        return None if best is None else best[1]


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def original_efficiency(catalogue_name: str) -> float:
    """The original's efficiency for a catalogue entry (A100's for types it does not know)."""
    return ORIGINAL_EFFICIENCY.get(_ORIGINAL_KEY.get(catalogue_name, catalogue_name), ORIGINAL_EFFICIENCY["A100"])


class _Importer:
    def __init__(self, folder: Path, options: dict[str, Any]):
        self.folder = folder
        self.opt = options
        self.notices: list[str] = []
        self.sources = _Sources()
        self.params: dict[str, tuple[int, str]] = {}
        self.cfg_path = folder / "config.csv"

    def say(self, text: str) -> None:
        self.notices.append(text)

    def at(self, key: str) -> str:
        return f"{self.cfg_path} line {self.params[key][0]}: {key}"

    def value(self, key: str, kind: type = float) -> Any:
        return number(self.params[key][1], self.at(key), kind)

    # ------------------------------------------------------------------ config.csv
    def read_config(self) -> None:
        table = read_table(self.cfg_path, ("parameter", "value"))
        for line, row in table.rows:
            key, value = table.get(row, "parameter"), table.get(row, "value")
            if not key or value is None:
                raise InputError(f"{self.cfg_path} line {line}", "needs 'parameter,value'", "fix the row")
            if key in self.params:
                raise InputError(f"{self.cfg_path} line {line}", f"sets {short(key)} again (first on line "
                                 f"{self.params[key][0]})", "keep one value (the original would keep the last one "
                                 "silently)")
            self.params[key] = (line, value)

    def model(self) -> dict[str, Any]:
        self.sources.add("model", str(self.cfg_path))
        model: dict[str, Any] = {}
        for key, (name, kind) in _MODEL_FIELDS.items():
            if key in self.params:
                model[name] = self.params[key][1] if kind is str else self.value(key, kind)
                self.sources.add(f"model.{name}", self.at(key))
        if self.opt.get("seq_len") is not None:
            if "seq_len" in model and model["seq_len"] != self.opt["seq_len"]:
                self.say(f"sequence length {self.opt['seq_len']} from --seq-len, not the {model['seq_len']} of "
                         f"{self.at('sequence_length')}")
            model["seq_len"] = self.opt["seq_len"]
            self.sources.add("model.seq_len", "--seq-len")
        elif "seq_len" not in model:
            raise InputError(f"{self.cfg_path}: sequence_length", "missing (the original then needs it on its "
                             "command line)", "add the row sequence_length,N or give --seq-len N")
        b = self.batch()
        model["batch_size"] = int(b) if b == int(b) and abs(b) < 2**53 else b
        return model

    def batch(self) -> float:
        given = {k: self.value(k) for k in _BATCH if k in self.params}
        if self.opt.get("batch_size") is not None:
            b = self.opt["batch_size"]
            self.sources.add("model.batch_size", "--batch-size")
            said = ", ".join(f"{k} {v:g}" for k, v in given.items())
            self.say(f"batch size {b:g} from --batch-size" + (f" (config.csv: {said})" if said else ""))
            return b
        if "min_batch_size" in given or "max_batch_size" in given:
            key = "max_batch_size" if "max_batch_size" in given else "min_batch_size"
            b = given[key]
            lo = given.get("min_batch_size", b)
            if "batch_size" in given and given["batch_size"] != b:
                raise InputError(self.at("batch_size"), f"{given['batch_size']:g} disagrees with {key} {b:g} on line "
                                 f"{self.params[key][0]} (the original reads only min/max_batch_size)",
                                 "keep one batch size")
            if "batch_size" in given:
                self.say(f"batch_size {b:g} (the older key) equals {key}")
            if lo != b:
                candidates, c = [], lo
                while c < b and len(candidates) < 20:
                    candidates.append(c)
                    c *= 2
                tried = ", ".join(f"{x:g}" for x in [*candidates, b])
                self.say(f"the original tries the batch sizes {tried} (min_batch_size {lo:g} doubling up to "
                         f"max_batch_size {b:g}) and keeps the best; colgen solves one batch: {b:g} (compare the "
                         f"others with colgen sweep --grid batch_size={','.join(f'{x:g}' for x in candidates)})")
            elif "batch_size" not in given:
                both = " (min_batch_size = max_batch_size)" if "min_batch_size" in given and key != "min_batch_size" \
                    else ""
                self.say(f"batch size {b:g} from {key}{both}")
            self.sources.add("model.batch_size", self.at(key))
            return b
        if "batch_size" in given:
            self.sources.add("model.batch_size", self.at("batch_size"))
            self.say(f"batch_size {given['batch_size']:g} (the older configurations' key; later ones say "
                     "min_batch_size and max_batch_size) is the batch")
            return given["batch_size"]
        raise InputError(f"{self.cfg_path}: max_batch_size", "missing (neither max_batch_size, min_batch_size nor "
                         "batch_size is set)", "add the row max_batch_size,N (or batch_size,N) or give --batch-size N")

    # ------------------------------------------------------------------ gpu_pool.csv
    def pool(self) -> tuple[str, Table]:
        path = self.folder / "gpu_pool.csv"
        rows = read_rows(path)
        if not rows:
            raise InputError(str(path), "lists no GPUs", "add the header 'gpu_type,count,memory_gb' and a row per type")
        first = {c.strip() for c in rows[0][1]}
        if "instance_name" in first:
            return "cloud", read_table(path, ("instance_name", "count"), ("dollar_per_hour",), rows=rows)
        return "types", read_table(path, ("gpu_type", "count", "memory_gb"), ("dollar_per_hour",), rows=rows)

    def cloud_table(self, required: bool) -> CloudTable | None:
        given = self.opt.get("cloud_specs")
        path = Path(given) if given else self.folder / "cloud_instances_specs.csv"
        if not given and not path.exists():
            if required:
                raise InputError(str(path), "is missing: a pool of cloud instances (instance_name,count) needs the "
                                 "original's instance table", "put cloud_instances_specs.csv in the folder or give "
                                 "--cloud-specs FILE")
            return None
        return CloudTable(path)

    def unknown_columns(self, table: Table, known: tuple[str, ...]) -> None:
        extra = [c for c in table.header if c not in known]
        if extra:
            self.say(f"{table.path.name}: ignored column{'s' if len(extra) > 1 else ''} "
                     f"{', '.join(short(c) for c in extra[:6])} (not read by the original)")

    def types_pool(self, table: Table, eff: float | str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self.unknown_columns(table, ("gpu_type", "count", "memory_gb", "dollar_per_hour"))
        gpu_types: dict[str, Any] = {}
        gpus: list[dict[str, Any]] = []
        first_line: dict[str, int] = {}
        lines: dict[str, int] = {}
        total = 0
        for line, row in table.rows:
            where = table.where(line)
            name = table.get(row, "gpu_type")
            if name is None or table.get(row, "count") is None or table.get(row, "memory_gb") is None:
                raise InputError(where, "needs 'gpu_type,count,memory_gb'", "fix the row")
            if not name:
                raise InputError(f"{where}: gpu_type", "is empty", "name the GPU type (e.g. A100)")
            if name in first_line:
                raise InputError(f"{where}: gpu_type", f"'{short(name)}' appears again (first on line "
                                 f"{first_line[name]}; the original would keep only this row's GPUs and lose the "
                                 "earlier ones)", "give each GPU type one row with its total count")
            first_line[name] = line
            count = number(table.get(row, "count") or "", f"{where}: count", int)
            if count < 1:
                raise InputError(f"{where}: count", f"{count} GPUs", "give a count of at least 1 (or drop the row)")
            memory = number(table.get(row, "memory_gb") or "", f"{where}: memory_gb")
            entry, why = match(name, memory, f"{where}: gpu_type")
            e = original_efficiency(entry.name) if eff == "original" else eff
            spec: dict[str, Any] = {"catalogue": entry.name, "memory_gb": memory,
                                    "performance": {"kind": "roofline", "efficiency": e}}
            price = table.get(row, "dollar_per_hour")
            if price:
                spec["price_per_hour"] = number(price, f"{where}: dollar_per_hour")
                self.sources.add(f"gpu_types.{name}.price_per_hour", f"{where}: dollar_per_hour")
            self.say(f"GPU type {short(name)} ({table.path.name} line {line}, {memory:g} GB) -> catalogue "
                     f"{entry.name}, {why}: roofline {entry.tflops:g} TFLOPS, {entry.hbm_gbps:g} GB/s at efficiency "
                     f"{e:g}" + (f" (the original's for {_ORIGINAL_KEY.get(entry.name, entry.name)})"
                                 if eff == "original" else ""))
            gpu_types[name] = spec
            lines[name] = line
            self.sources.add(f"gpu_types.{name}", f"{where}: gpu_type")
            self.sources.add(f"gpu_types.{name}.memory_gb", f"{where}: memory_gb")
            total += count
            done = 0
            for block in range(math.ceil(count / NODE_SIZE) if total <= MAX_GPUS else 0):
                size = min(NODE_SIZE, count - done)
                done += size
                self.sources.add(f"cluster.gpus[{len(gpus)}]", f"{where}: count")
                self.sources.add(f"cluster.gpus[{len(gpus)}].type", f"{where}: gpu_type")
                gpus.append({"type": name, "count": size, "node": f"{name}-{block}"})
        if total > MAX_GPUS:
            raise InputError(f"{table.path}: count", f"the pool adds up to {total:,} GPUs, more than the limit of "
                             f"{MAX_GPUS:,}", "describe a smaller cluster")
        if not gpus:
            raise InputError(str(table.path), "lists no GPUs", "add rows 'gpu_type,count,memory_gb'")
        lower = {n.lower() for n in gpu_types}
        if len(lower) == len(gpu_types):          # node names in lower case, unless two types differ by case only
            for g in gpus:
                g["node"] = g["node"].lower()
        self.prices_for_types(gpu_types, lines)
        return gpu_types, gpus

    def prices_for_types(self, gpu_types: dict[str, Any], lines: dict[str, int]) -> None:
        priced = [n for n, s in gpu_types.items() if "price_per_hour" in s]
        missing = [n for n in gpu_types if n not in priced]
        if priced:
            self.say("prices per GPU-hour from dollar_per_hour: " + ", ".join(
                f"{short(n)} {gpu_types[n]['price_per_hour']:g} USD" for n in priced))
        if not missing:
            return
        table = self.cloud_table(required=False)
        provider = self.opt.get("cloud_provider")
        for name in missing:
            found = table.price_of_type(name, provider) if table else None
            if found is None:
                continue
            gpu_types[name]["price_per_hour"] = round(found[0], 10)
            self.sources.add(f"gpu_types.{name}.price_per_hour", str(table.path))
            self.say(f"price of {short(name)}: {found[0]:.6g} USD per GPU-hour from {found[1]}")
        still = [n for n in missing if "price_per_hour" not in gpu_types[n]]
        if still:
            where = (f"no row of {table.path.name} for it" + (f" at {provider}" if provider else "")) if table else \
                "no dollar_per_hour and no cloud_instances_specs.csv (--cloud-specs)"
            self.say(f"no price for {', '.join(short(n) for n in still)}: {where} (costs and budgets need one)")

    def cloud_pool(self, table: Table, eff: float | str) -> tuple[dict[str, Any], list[dict[str, Any]], list]:
        self.unknown_columns(table, ("instance_name", "count", "dollar_per_hour"))
        specs = self.cloud_table(required=True)
        assert specs is not None
        provider = self.opt.get("cloud_provider")
        seen: dict[str, int] = {}
        used = []          # (pool line, instance row, count, dollar_per_hour)
        for line, row in table.rows:
            where = table.where(line)
            name = table.get(row, "instance_name")
            if not name or table.get(row, "count") is None:
                raise InputError(where, "needs 'instance_name,count'", "fix the row")
            if name in seen:
                raise InputError(f"{where}: instance_name", f"'{short(name)}' appears again (first on line "
                                 f"{seen[name]})", "give each instance type one row with its total count")
            seen[name] = line
            count = number(table.get(row, "count") or "", f"{where}: count", int)
            if count < 1:
                raise InputError(f"{where}: count", f"{count} instances",
                                 "give a count of at least 1 (or drop the row)")
            inst, notes = specs.instance(name, provider, f"{where}: instance_name")
            for n in notes:
                self.say(n)
            own = table.get(row, "dollar_per_hour")
            own_price = number(own, f"{where}: dollar_per_hour") if own else None
            used.append((line, inst, count, own_price))
        if not used:
            raise InputError(str(table.path), "lists no instances", "add rows 'instance_name,count'")
        # GPU types: the model, with its memory in the name when one model comes with several sizes.
        sizes: dict[str, set[float]] = {}
        for _, inst, _, _ in used:
            sizes.setdefault(inst.model, set()).add(inst.memory_gb())
        gpu_types: dict[str, Any] = {}
        gpus: list[dict[str, Any]] = []
        nodes = []           # (node, instance row, GPUs)
        total = 0
        for line, inst, count, own_price in used:
            model, memory = inst.model, inst.memory_gb()
            tname = model if len(sizes[model]) == 1 else f"{model}-{memory:g}GB"
            if tname not in gpu_types:
                entry, why = match(model, memory, inst.where("GPU Model"))
                e = original_efficiency(entry.name) if eff == "original" else eff
                gpu_types[tname] = {"catalogue": entry.name, "memory_gb": memory,
                                    "performance": {"kind": "roofline", "efficiency": e}}
                self.sources.add(f"gpu_types.{tname}", inst.where("GPU Model"))
                self.sources.add(f"gpu_types.{tname}.memory_gb", inst.where())
                self.say(f"GPU type {short(tname)} ({inst.cell('GPU Model')}, {memory:g} GB, {specs.path.name} line "
                         f"{inst.line}) -> catalogue {entry.name}, {why}: roofline {entry.tflops:g} TFLOPS, "
                         f"{entry.hbm_gbps:g} GB/s at efficiency {e:g}" + (
                             " (the original takes an A10G for an A10: 125 TFLOPS)" if entry.name == "A10G" else ""))
            k = inst.num_gpus()
            if own_price is not None:
                per_gpu, how = own_price / k, f"dollar_per_hour {own_price:g} per instance / {k} GPUs"
            else:
                price = inst.price()
                per_gpu, how = (None, "none in the table") if price is None else (price.per_gpu, price.how)
            self.say(f"{short(inst.name)} x {count} (gpu_pool.csv line {line}): {k} x {tname} each, one node per "
                     "instance, " + (f"{per_gpu:.6g} USD per GPU-hour ({how})" if per_gpu is not None
                                     else "no price (none in the table)"))
            for idx in range(count):
                node = f"{inst.name}#{idx}"
                self.sources.add(f"cluster.gpus[{len(gpus)}]", f"{table.path} line {line}")
                entry_: dict[str, Any] = {"type": tname, "count": k, "node": node}
                if per_gpu is not None:
                    entry_["price_per_hour"] = round(per_gpu, 10)
                gpus.append(entry_)
                nodes.append((node, inst, k))
                total += k
                if total > MAX_GPUS:
                    raise InputError(f"{table.path}: count", f"the pool adds up to more than {MAX_GPUS:,} GPUs",
                                     "describe a smaller cluster")
        self.say("the original charges a whole instance once any of its GPUs is used (and then uses them all); "
                 "colgen prices the GPUs a placement uses")
        return gpu_types, gpus, nodes

    # ------------------------------------------------------------------ network
    def matrix(self, n: int, path: Path, why: str) -> list[list[float]]:
        need = n * n * (_BYTES_PER_CSV_VALUE + 8 * NETWORK_COPIES)
        if need > memory_budget_bytes():
            raise ModelTooLargeError(f"the {n:,} x {n:,} bandwidth matrix would need about {gb(need)} to read, more "
                                     f"than the {gb(memory_budget_bytes())} this machine can spare; import with "
                                     "--generate-network INTRA INTER")
        rows = read_rows(path, FOLDER_FIX + " (or import with --generate-network INTRA INTER)")
        if rows and len(rows[0][1]) > 1 and all(_is_float(c) for c in rows[0][1][1:]):
            raise InputError(f"{path} line {rows[0][0]}", "has no header line (it is a row of bandwidths, which the "
                             "original would take for the header and lose)",
                             "add a first line naming the GPUs: ,gpu_0,gpu_1,...")
        rows = rows[1:]
        if len(rows) != n:
            raise InputError(str(path), f"has {len(rows)} rows for the {n:,} GPUs of gpu_pool.csv",
                             "give one row per GPU, numbered in pool order, or import with --generate-network INTRA "
                             "INTER (as the original's run scripts do) or --bandwidth FILE")
        out = []
        for i, (line, r) in enumerate(rows):
            if len(r) - 1 != n:
                raise InputError(f"{path} line {line}", f"has {len(r) - 1} bandwidths for {n:,} GPUs",
                                 "give one value per GPU after the row's name")
            out.append([number(v, f"{path} line {line} column {j + 2}") for j, v in enumerate(r[1:])])
            self.sources.add(f"cluster.bandwidth_gbps[{i}]", f"{path} line {line}")
        self.bw_lines = {i: line for i, (line, _) in enumerate(rows)}
        self.bw_path = path
        self.say(f"network: the GPU-by-GPU matrix of {why} (GPUs in pool order; the diagonal is ignored)")
        return out

    def generated(self, gpus: list[dict[str, Any]], key: str) -> dict[str, Any]:
        """The original's --generate-network INTRA INTER rule as a topology: GPUs of one ``key`` (GPU type,
        or instance) at INTRA, others at INTER."""
        intra, inter = self.opt["generate_network"]
        nodes = [(g["node"], g[key] if key == "type" else g["node"]) for g in gpus]
        names = list(dict.fromkeys(n for n, _ in nodes))
        group = dict(nodes)
        same = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if group[a] == group[b]]
        pairs = len(names) * (len(names) - 1) // 2
        topo: dict[str, Any] = {"intra_node_gbps": intra}
        if intra == inter:
            topo["inter_node_gbps"] = inter
        elif len(same) <= pairs - len(same):
            topo["inter_node_gbps"] = inter
            topo["links"] = [{"nodes": [a, b], "gbps": intra} for a, b in same]
        else:
            topo["inter_node_gbps"] = intra
            topo["links"] = [{"nodes": [a, b], "gbps": inter} for i, a in enumerate(names) for b in names[i + 1:]
                             if group[a] != group[b]]
        if not topo.get("links"):
            topo.pop("links", None)
        self.sources.add("cluster.topology", "--generate-network")
        what = "GPU type" if key == "type" else "instance"
        self.say(f"network: the original's --generate-network {intra:g} {inter:g}: {intra:g} GB/s between GPUs of one "
                 f"{what}, {inter:g} GB/s between {what}s, held per node (" + (
                     f"nodes of up to {NODE_SIZE} consecutive GPUs of one type, as the original's tensor-parallel "
                     "groups" if key == "type" else "one node per instance") + "), not as an N x N matrix")
        return topo

    def derived(self, nodes: list) -> dict[str, Any]:
        """The network of the original's generate_network_bandwidth.py: inside an instance its internal
        interconnect, between instances min over both ends of external Gbps / GPUs / 8."""
        intra = {}
        uplink = {}
        for node, inst, k in nodes:
            intra[node] = inst.intra_gbps()[0]
            if len(nodes) > 1:
                uplink[node] = inst.external_gbps() / k / 8.0
        counts = Counter(intra.values())
        default_intra = max(counts, key=lambda v: (counts[v], v))
        topo: dict[str, Any] = {"intra_node_gbps": default_intra}
        over = {n: {"intra_gbps": v} for n, v in intra.items() if v != default_intra}
        if over:
            topo["nodes"] = over
        if uplink:
            values = sorted(uplink.values())
            c = Counter(values)
            n = len(values)
            above, best, best_pairs = n, None, -1
            for v in sorted(c):
                above -= c[v]
                pairs_v = c[v] * (c[v] - 1) // 2 + c[v] * above
                if pairs_v > best_pairs:
                    best, best_pairs = v, pairs_v
            links_needed = n * (n - 1) // 2 - best_pairs
            if links_needed > _MAX_LINKS:
                raise InputError("gpu_pool.csv", f"the instances' network needs {links_needed:,} node-pair bandwidths",
                                 "import with --generate-network INTRA INTER")
            topo["inter_node_gbps"] = best
            names = list(uplink)
            links = [{"nodes": [a, b], "gbps": min(uplink[a], uplink[b])} for i, a in enumerate(names)
                     for b in names[i + 1:] if min(uplink[a], uplink[b]) != best]
            if links:
                topo["links"] = links
        else:
            topo["inter_node_gbps"] = default_intra
        self.sources.add("cluster.topology", "cloud_instances_specs.csv")
        self.say("network: from cloud_instances_specs.csv as the original's generate_network_bandwidth.py builds it: "
                 "inside an instance its internal interconnect (GB/s; PCIe x16 of its generation when none is "
                 "given), between instances the smaller of the two ends' External Network Bandwidth / GPUs / 8 "
                 "(Gbps to GB/s per GPU); held per node, not as an N x N matrix")
        return topo

    # ------------------------------------------------------------------ parallelism, costs
    def parallelism(self, model: dict[str, Any], gpus: list[dict[str, Any]]) -> dict[str, Any]:
        K = self.opt.get("max_gpus_per_segment")
        largest = max(g["count"] for g in gpus)
        heads, kv = model.get("num_heads"), model.get("num_kv_heads", model.get("num_heads"))
        if self.opt.get("tp_degrees"):
            degrees = sorted(set(self.opt["tp_degrees"]))
            self.sources.add("parallelism.tensor_parallel_degrees", "--tp-degrees")
            self.say(f"tensor-parallel degrees {', '.join(map(str, degrees))} from --tp-degrees")
        else:
            cap = min(NODE_SIZE, largest, K if K is not None else NODE_SIZE)
            degrees, dropped = [], []
            for d in _DEGREES:
                if d > cap:
                    dropped.append(f"{d} (above {'K' if K is not None and cap == K else 'the largest node'}, {cap})")
                elif d > 1 and heads is not None and heads % d:
                    dropped.append(f"{d} (does not divide the {heads} attention heads)")
                elif d > 1 and kv is not None and kv % d and d % kv:
                    dropped.append(f"{d} (and the {kv} KV heads do not divide one another)")
                else:
                    degrees.append(d)
            self.sources.add("parallelism.tensor_parallel_degrees", "the default tensor-parallel degrees")
            self.say(f"tensor-parallel degrees {', '.join(map(str, degrees))}: the original's default (powers of two "
                     "up to 8, within one GPU type" + (f"; not {', '.join(dropped)}" if dropped else "") +
                     "); a group is GPUs of one type in one node (--tp-degrees to choose)")
        if K is None:
            K = max(DEFAULT_K, max(degrees))
            self.sources.add("parallelism.max_gpus_per_segment", "the default K")
            self.say(f"K = {K} GPUs per stage at most (colgen's default {DEFAULT_K}" +
                     (f", raised to the largest tensor-parallel degree {max(degrees)}: the original's stage is one "
                      "tensor-parallel group" if K > DEFAULT_K else "") + "; --max-gpus-per-segment)")
        else:
            self.sources.add("parallelism.max_gpus_per_segment", "--max-gpus-per-segment")
        dp = self.opt.get("dp_efficiency", 0.95)
        self.sources.add("parallelism.dp_efficiency", "--dp-efficiency")
        self.say(f"data-parallel efficiency {dp:g} for 2 or more replicas in a stage (--dp-efficiency); the original "
                 "has no data-parallel replicas inside a stage: colgen's placements include its own")
        par: dict[str, Any] = {"max_gpus_per_segment": K, "dp_efficiency": dp, "tensor_parallel_degrees": degrees}
        for key, field in _STAGES.items():
            if key in self.params:
                par[field] = self.value(key, int)
                self.sources.add(f"parallelism.{field}", self.at(key))
                self.say(f"{key} {par[field]} -> parallelism.{field}")
        if "min_memory_utilization" in self.params:
            u = self.value("min_memory_utilization")
            self.say(f"min_memory_utilization {u:g} ignored: the original turns it into a shortest stage per GPU type, "
                     "tensor-parallel degree and batch, from its own memory model (weights / TP + activations in "
                     "GiB), waived where even the longest stage cannot reach it; colgen has one min_layers_per_stage "
                     "for all and another memory model, so no exact equivalent exists (ignoring it only adds "
                     "placements)")
        return par

    def costs(self, priced: bool) -> dict[str, Any]:
        costs: dict[str, Any] = {}
        p = self.params

        def needs_price(key: str, field: str, value: float) -> None:
            if priced:
                costs[field] = value
                self.sources.add(f"costs.{field}", self.at(key))
            else:
                self.say(f"{key} {_num(value)} not imported: not every GPU has a price (dollar_per_hour or a cloud "
                         "table)")

        if "max_hourly_cost" in p:
            v = self.value("max_hourly_cost")
            if v < _NO_HOURLY_LIMIT:
                needs_price("max_hourly_cost", "max_usd_per_hour", v)
                if priced:
                    self.say(f"max_hourly_cost {_num(v)} -> costs.max_usd_per_hour (a budget)")
            else:
                self.say(f"max_hourly_cost {_num(v)}: no budget (the original sets one only below "
                         f"{_NO_HOURLY_LIMIT:g})")
        per_m = None
        if "max_cost_per_million_token" in p:
            per_m, key = self.value("max_cost_per_million_token"), "max_cost_per_million_token"
        if "max_cost_per_token" in p:
            v = self.value("max_cost_per_token") * 1e6
            if per_m is not None and abs(v - per_m) > 1e-9 * max(1.0, per_m):
                raise InputError(self.at("max_cost_per_token"), f"{_num(v)} USD per million tokens disagrees with "
                                 f"max_cost_per_million_token {_num(per_m)}", "keep one")
            per_m, key = v, "max_cost_per_token"
        if per_m is not None:
            needs_price(key, "max_usd_per_million_tokens", per_m)
            if priced:
                self.say(f"{key} -> costs.max_usd_per_million_tokens {_num(per_m)} (a cap on price per hour / "
                         "(3600 x throughput) x 1e6; the original uses it only to choose its budgets and to report "
                         "whether the target is met)")
        if "total_tokens_to_process" in p:
            tokens = self.value("total_tokens_to_process")
            costs["job_tokens"] = int(tokens) if tokens == int(tokens) and tokens < 2**53 else tokens
            self.sources.add("costs.job_tokens", self.at("total_tokens_to_process"))
            said = [f"total_tokens_to_process {_num(tokens)} -> costs.job_tokens"]
            if "max_total_cost" in p:
                v = self.value("max_total_cost")
                if v < _NO_JOB_LIMIT:
                    needs_price("max_total_cost", "job_max_usd", v)
                    if priced:
                        said.append(f"max_total_cost {_num(v)} -> costs.job_max_usd")
                else:
                    said.append(f"max_total_cost {_num(v)}: no limit (below {_NO_JOB_LIMIT:,.0f} only)")
            if "max_total_runtime_hours" in p:
                v = self.value("max_total_runtime_hours")
                if v < _NO_JOB_LIMIT:
                    costs["job_max_hours"] = v
                    self.sources.add("costs.job_max_hours", self.at("max_total_runtime_hours"))
                    said.append(f"max_total_runtime_hours {_num(v)} -> costs.job_max_hours (a deadline)")
                else:
                    said.append(f"max_total_runtime_hours {_num(v)}: no deadline (below {_NO_JOB_LIMIT:,.0f} only)")
            self.say("; ".join(said))
        else:
            for key in ("max_total_cost", "max_total_runtime_hours"):
                if key in p:
                    self.value(key)
                    self.say(f"{key} ignored: without total_tokens_to_process it bounds nothing (as in the original)")
        return costs

    def ignored(self) -> None:
        known = set(_MODEL_FIELDS) | set(_BATCH) | set(_STAGES) | set(_COSTS) | {"min_memory_utilization"}
        for key, (line, value) in self.params.items():
            if key in known:
                continue
            why = _IGNORED.get(key)
            if key == "enable_segment_quantization":
                if value.lower() in ("true", "1", "yes"):
                    sizes = ", ".join(map(str, self.quantized()))
                    why = f"the original then allows only the stage lengths {sizes} (its coarse rule for this many " \
                          "layers; later versions use powers of two); colgen allows every length (its placements " \
                          "include the original's)"
                else:
                    why = "off: every stage length, as in colgen"
            elif key == "network_bandwidth_percentile_threshold":
                try:
                    pct = f"{float(value) * 100:g}%"
                except ValueError:
                    pct = "share"
                why = _IGNORED[key].format(pct=pct)
            elif why is None:
                why = "not a parameter of the original that colgen knows"
            else:
                why = why.format(v=short(value))
            self.say(f"ignored {short(key)} = {short(value)} ({self.cfg_path.name} line {line}): {why}")

    def quantized(self) -> list[int]:
        """The stage lengths the original's coarse segment quantization allows (solver_constrained_with_tp-2)."""
        try:
            total = self.value("num_decoder_layers", int)
        except (InputError, KeyError):
            return []
        if total <= 10:
            sizes = [1, 5, total]
        elif total <= 30:
            sizes = [1, 5, 10, 15, 20, total]
        elif total <= 40:
            sizes = [1, 5, 10, 20, 30, total]
        else:
            sizes = [1, 10, 20, 30, 40, total]
        low = 1
        if "min_layers_per_stage" in self.params:
            with contextlib.suppress(InputError):
                low = self.value("min_layers_per_stage", int)
        return sorted({x for x in sizes if low <= x <= total})

    # ------------------------------------------------------------------ all
    def run(self) -> dict[str, Any]:
        self.bw_lines: dict[int, int] = {}
        self.bw_path: Path | None = None
        self.read_config()
        model = self.model()
        kind, pool = self.pool()
        eff = self.opt.get("roofline_efficiency", 0.5)
        if eff != "original":
            self.say(f"roofline efficiency {eff:g} for every GPU type (colgen's default, --roofline-efficiency; "
                     "'original' takes the original's per type: A100 0.65, V100 0.42, ...)")
        if kind == "types":
            gpu_types, gpus = self.types_pool(pool, eff)
            nodes = None
        else:
            gpu_types, gpus, nodes = self.cloud_pool(pool, eff)
        n = sum(g["count"] for g in gpus)
        if n > MAX_GPUS:
            raise InputError(f"{pool.path}: count", f"the pool adds up to {n:,} GPUs, more than the limit of "
                             f"{MAX_GPUS:,}", "describe a smaller cluster")
        bandwidth = self.opt.get("bandwidth")
        cluster: dict[str, Any] = {"gpus": gpus}
        default_matrix = self.folder / "network_bandwidth.csv"
        if bandwidth is not None:
            cluster["bandwidth_gbps"] = self.matrix(n, Path(bandwidth), f"--bandwidth {bandwidth}")
        elif self.opt.get("generate_network") is not None:
            cluster["topology"] = self.generated(gpus, "type" if kind == "types" else "node")
            if default_matrix.exists():
                self.say(f"{default_matrix.name} not read (--generate-network replaces it, as in the original)")
        elif kind == "types" or default_matrix.exists():
            cluster["bandwidth_gbps"] = self.matrix(n, default_matrix, default_matrix.name)
            if kind == "types":
                self.say(f"nodes: each GPU type's GPUs in blocks of up to {NODE_SIZE} consecutive GPUs (the original's "
                         "tensor-parallel groups are aligned blocks of one type); the matrix gives every bandwidth")
        else:
            cluster["topology"] = self.derived(nodes)
        costs = self.costs(priced=all("price_per_hour" in gpu_types[g["type"]] or "price_per_hour" in g
                                      for g in gpus))
        par = self.parallelism(model, gpus)
        self.ignored()
        network = ("--bandwidth " + str(bandwidth)) if bandwidth is not None else (
            "--generate-network {:g} {:g}".format(*self.opt["generate_network"])
            if self.opt.get("generate_network") is not None else (
                "network_bandwidth.csv" if "bandwidth_gbps" in cluster else "cloud_instances_specs.csv"))
        doc: dict[str, Any] = {
            "format": "colgen-instance/1",
            "name": f"legacy-{self.folder.name}"[:256] or "legacy",
            "description": f"imported from the legacy configuration '{self.folder.name}'",
            "source": f"colgen import-legacy of the original solver's configuration '{self.folder.name}' "
                      f"({'GPU types' if kind == 'types' else 'cloud instances'}; network: {network}); see "
                      "docs/legacy.md",
            "model": model,
            "gpu_types": gpu_types,
            "cluster": cluster,
            "parallelism": par,
        }
        if costs:
            doc["costs"] = costs
        return doc


def import_legacy(folder: str | Path, *, max_gpus_per_segment: int | None = None, dp_efficiency: float = 0.95,
                  roofline_efficiency: float | str = 0.5, tp_degrees: list[int] | None = None,
                  generate_network: tuple[float, float] | None = None, bandwidth: str | Path | None = None,
                  batch_size: float | None = None, seq_len: int | None = None, cloud_specs: str | Path | None = None,
                  cloud_provider: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Return ``(instance document, notices)`` for the legacy configuration in ``folder``; the
    document is validated, and a problem names the CSV file and line (or the option) it comes from.

    ``max_gpus_per_segment`` None: 4, or the largest tensor-parallel degree if larger;
    ``tp_degrees`` None: 1, 2, 4, 8 within the largest node and the heads; ``roofline_efficiency``
    ``"original"``: the original's per-type efficiencies."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder" if folder.exists() else "does not exist", FOLDER_FIX)
    if generate_network is not None and bandwidth is not None:
        raise InputError("--bandwidth", "and --generate-network both give the network", "give one of them")
    options = {"max_gpus_per_segment": max_gpus_per_segment, "dp_efficiency": dp_efficiency,
               "roofline_efficiency": roofline_efficiency, "tp_degrees": tp_degrees,
               "generate_network": generate_network, "bandwidth": bandwidth, "batch_size": batch_size,
               "seq_len": seq_len, "cloud_specs": cloud_specs, "cloud_provider": cloud_provider}
    importer = _Importer(folder, options)
    doc = importer.run()
    try:
        instance_from_dict(doc)
    except InputError as exc:
        m = re.fullmatch(r"cluster\.bandwidth_gbps\[(\d+)\]\[(\d+)\]", exc.field)
        if m and importer.bw_path is not None:
            where = f"{importer.bw_path} line {importer.bw_lines[int(m[1])]} column {int(m[2]) + 2}"
        else:
            where = importer.sources.locate(exc.field) or str(folder)
        raise InputError(where, exc.problem, exc.fix) from None
    return doc, importer.notices
