"""Problem instances: the model, the GPU types, the cluster and its network.

An instance is a JSON document (schema: ``colgen/schema/instance.schema.json``, documented in
docs/problem.md) loaded into immutable objects. Loading validates everything a solver relies on and
raises :class:`~colgen.errors.InputError` naming the field and the fix; nothing downstream re-checks.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from colgen.errors import InputError, ModelTooLargeError, listing
from colgen.jsonio import read_json
from colgen.limits import MAX_GPUS, gb, memory_budget_bytes
from colgen.model import catalogue
from colgen.model.network import Network
from colgen.model.performance import Affine, Profile, roofline_for
from colgen.model.spec import Costs, Gpu, GpuType, ModelSpec, StageLimits
from colgen.model.tables import Tables, build_tables

#: Default efficiency of the roofline model (fraction of peak FLOPS and bandwidth reached).
DEFAULT_ROOFLINE_EFFICIENCY = 0.5
#: Shortest per-layer latency taken as a measurement (seconds); anything shorter is a unit mistake
#: and would make throughputs overflow.
MIN_LATENCY_S = 1e-12
#: Fastest link in GB/s (the schema's maximum for every bandwidth).
MAX_GBPS = 1e9
#: Dense N x N network arrays alive at once while an instance is loaded and described.
NETWORK_COPIES = 6


@dataclass(frozen=True)
class Instance:
    """A validated instance. ``spec`` is the JSON document it was built from (for round trips; a model
    given by ``hf_config`` is held there as the block derived from it, so that the document stands
    alone, and ``model_source`` names the config.json)."""

    name: str
    description: str
    model: ModelSpec
    gpu_types: tuple[GpuType, ...]
    gpus: tuple[Gpu, ...]
    network: Network = field(repr=False)
    max_gpus_per_segment: int
    dp_efficiency: tuple[float, ...]
    reserved_memory_gb: float
    spec: Mapping[str, Any] = field(repr=False, compare=False)
    model_source: str | None = field(default=None, compare=False)
    tp_degrees: tuple[int, ...] = (1,)
    stage_limits: StageLimits = field(default_factory=StageLimits)
    costs: Costs = field(default_factory=Costs)

    @property
    def priced(self) -> bool:
        """Every GPU has a price (cost objectives and budgets need one)."""
        return all(g.price_per_hour is not None for g in self.gpus)

    @property
    def num_layers(self) -> int:
        return self.model.num_layers

    @property
    def num_gpus(self) -> int:
        return len(self.gpus)

    @cached_property
    def type_index(self) -> dict[str, int]:
        return {t.name: i for i, t in enumerate(self.gpu_types)}

    @property
    def bandwidth_gbps(self) -> np.ndarray:
        """The N x N GPU bandwidth matrix (``inf`` on the diagonal), expanded from :attr:`network` on
        every call: quadratic in N, for small instances and tests only. Use ``network`` instead."""
        return self.network.dense_gbps()

    @cached_property
    def tables(self) -> Tables:
        """The performance model as arrays (computed once per instance)."""
        return build_tables(self.model, self.gpu_types, self.gpus, self.network,
                            max_k=self.max_gpus_per_segment, dp_efficiency=self.dp_efficiency,
                            reserved_gb=self.reserved_memory_gb, tp_degrees=self.tp_degrees)

    def to_json(self) -> str:
        return json.dumps(self.spec, indent=1)


# --------------------------------------------------------------------------------------------
# Loading


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance file (a model's ``hf_config`` path is relative to its folder).

    >>> inst = load_instance("instances/seed-tiny.json")
    >>> inst.num_layers, inst.num_gpus, inst.max_gpus_per_segment
    (4, 4, 2)
    """
    data = read_json(path, "instance")
    try:
        return instance_from_dict(data, base=Path(path).parent)
    except InputError as exc:
        raise exc.with_source(str(path)) from None


@cache
def instance_schema() -> dict[str, Any]:
    return json.loads(resources.files("colgen").joinpath("model/schema/instance.schema.json").read_text())


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def show_value(value: Any, limit: int = 40) -> str:
    """A value for a one-line message: JSON-like, cut to ``limit`` characters."""
    if isinstance(value, (dict, list)):
        text = "an object" if isinstance(value, dict) else f"a list of {len(value)} items"
    elif isinstance(value, str):
        text = repr(value if len(value) <= limit else value[: limit - 3] + "...")
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        text = repr(value)
        text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text


_TYPE_NAMES = {"integer": "a whole number", "number": "a number", "string": "a string", "array": "a list",
               "object": "an object", "boolean": "true or false", "null": "null"}


def _strict_integer(_checker: Any, value: Any) -> bool:
    """JSON Schema counts 4.0 as an integer; colgen does not (counts and indices are whole numbers)."""
    return isinstance(value, int) and not isinstance(value, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer))

#: Errors collected before the most relevant one is chosen (a huge document may have millions).
_MAX_SCHEMA_ERRORS = 200


def _num(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _schema_message(err: Any) -> tuple[str, str | None]:
    """(problem, fix) of a schema error, never echoing more than a short value."""
    kind, want, value = err.validator, err.validator_value, err.instance
    shown = show_value(value)
    if kind == "type":
        names = [want] if isinstance(want, str) else list(want)
        return f"{shown} is not {' or '.join(_TYPE_NAMES.get(n, n) for n in names)}", None
    if kind == "minimum":
        return f"{shown} is below the minimum of {_num(want)}", None
    if kind == "exclusiveMinimum":
        return f"{shown} must be greater than {_num(want)}", None
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{shown} is above the limit of {_num(want)}", None
    if kind == "enum":
        return f"{shown} is not one of {', '.join(map(str, want))}", None
    if kind == "const":
        return f"{shown} must be {want!r}", None
    if kind == "minItems":
        return f"has {len(value)} items, needs at least {want}", None
    if kind == "maxItems":
        return f"has {len(value)} items, more than the limit of {want:,}", None
    if kind == "minLength":
        return "must not be empty" if want == 1 else f"{shown} is shorter than {want} characters", None
    if kind == "maxLength":
        return f"{shown} is longer than the limit of {want} characters", None
    if kind == "minProperties":
        return "must not be empty", None
    if kind == "maxProperties":
        return f"declares {len(value)} entries, more than the limit of {want}", None
    if kind == "additionalProperties":
        extra = [k for k in value if k not in err.schema.get("properties", {})] if isinstance(value, dict) else []
        names = ", ".join(show_value(k) for k in extra[:3]) + (", ..." if len(extra) > 3 else "")
        return f"unknown field{'s' if len(extra) > 1 else ''} {names}", \
            "remove it or check its spelling (see the JSON Schema)"
    if kind == "required":
        missing = [k for k in want if not isinstance(value, dict) or k not in value]
        return f"'{missing[0] if missing else want[0]}' is a required property", "add it (see docs/problem.md)"
    text = err.message
    return (text if len(text) <= 120 else text[:117] + "..."), None


def _schema_error(data: Any) -> InputError | None:
    validator = _Validator(instance_schema())
    errors = list(itertools.islice(validator.iter_errors(data), _MAX_SCHEMA_ERRORS))
    if not errors:
        return None
    errors.sort(key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    err = jsonschema.exceptions.best_match(errors)
    where = _path(err.absolute_path)
    if err.validator == "oneOf" and where == "cluster":
        return InputError("cluster", "give exactly one of bandwidth_gbps (an N x N matrix in GB/s) "
                          "or topology (nodes with intra- and inter-node GB/s)")
    if err.validator == "oneOf":
        return InputError(where, "must be a number in (0, 1] or a list of such numbers")
    if "propertyNames" in err.absolute_schema_path:
        return InputError(where, f"the name {show_value(err.instance)} is empty or longer than 256 characters",
                          "give every entry a name of 1 to 256 characters")
    problem, fix = _schema_message(err)
    return InputError(where, problem, fix)


def _check_sizes(data: Mapping[str, Any]) -> None:
    """Limits the schema cannot state: the total GPU count, and the memory of the dense network."""
    total = sum(e.get("count", 1) for e in data["cluster"]["gpus"])
    if total > MAX_GPUS:
        raise InputError("cluster.gpus", f"adds up to {total:,} GPUs, more than the limit of {MAX_GPUS:,}",
                         "describe a smaller cluster (colgen places one model on up to 32,768 GPUs)")
    dense = "bandwidth_gbps" in data["cluster"]            # a topology is never expanded to N x N
    need = NETWORK_COPIES * 8 * total * total if dense else 0
    if need > memory_budget_bytes():
        raise ModelTooLargeError(
            f"the {total:,}-GPU network would need about {gb(need)} as dense arrays, more than the "
            f"{gb(memory_budget_bytes())} this machine can spare; describe a smaller cluster")


def _check_bandwidth(network: Network) -> None:
    """No bandwidth above :data:`MAX_GBPS` (a matrix entry; the schema bounds a topology's values)."""
    if network.dense is None:
        return
    bandwidth = network.dense
    finite = np.isfinite(bandwidth)
    if bandwidth.max(where=finite, initial=0.0) > MAX_GBPS:
        i, j = np.argwhere(finite & (bandwidth > MAX_GBPS))[0]
        raise InputError(f"cluster.bandwidth_gbps[{i}][{j}]", f"{bandwidth[i, j]:g} GB/s is above the limit of "
                         f"{MAX_GBPS:g}", "give the bandwidth in GB/s")


def _check_latencies(types: tuple[GpuType, ...], model: ModelSpec, K: int) -> None:
    """Every per-layer latency a stage can see is finite and at least :data:`MIN_LATENCY_S`, so that
    no throughput overflows."""
    for t in types:
        for k in range(1, K + 1):
            b = model.batch_size / k
            lat = t.performance.latency(b)
            if not (math.isfinite(lat) and lat >= MIN_LATENCY_S):
                raise InputError(f"gpu_types.{t.name}.performance",
                                 f"gives a per-layer latency of {lat:.3g} s at per-GPU batch {b:g}",
                                 f"give latencies in seconds, at least {MIN_LATENCY_S:g} and finite")


_GPU_KEYS = frozenset(("type", "count", "node"))


def _plain_gpu(e: Any) -> bool:
    """An entry of cluster.gpus that the JSON Schema accepts (a sufficient check mirroring the
    schema's rules for it, no messages)."""
    def name(v: Any) -> bool:
        return type(v) is str and 1 <= len(v) <= 256

    return (type(e) is dict and e.keys() <= _GPU_KEYS and name(e.get("type"))
            and ("count" not in e or (type(e["count"]) is int and 1 <= e["count"] <= MAX_GPUS))
            and ("node" not in e or name(e["node"])))


def _without_big_arrays(data: Any) -> Any:
    """``data`` for the JSON Schema, without the arrays that grow with the cluster (jsonschema
    spends ~5 us per matrix entry and ~60 us per GPU entry): the bandwidth matrix, which
    :func:`_matrix` checks numerically, and the GPU list when a plain check proves every entry
    valid (otherwise the schema sees all of it and names the bad entry)."""
    if not isinstance(data, dict) or not isinstance(data.get("cluster"), dict):
        return data
    cluster = dict(data["cluster"])
    if isinstance(cluster.get("bandwidth_gbps"), list):
        cluster["bandwidth_gbps"] = []
    gpus = cluster.get("gpus")
    if isinstance(gpus, list) and len(gpus) > 1 and all(_plain_gpu(e) for e in gpus):
        cluster["gpus"] = gpus[:1]
    return {**data, "cluster": cluster}


def instance_from_dict(data: Any, base: str | Path | None = None) -> Instance:
    """Validate ``data`` (a parsed JSON document) and build the :class:`Instance`. A model given by
    ``hf_config`` (a Hugging Face config.json) is read from that path, relative to ``base``.

    >>> from colgen.jsonio import read_json
    >>> inst = instance_from_dict(read_json("instances/hf-llama-3.1-70b.json"), base="instances")
    >>> inst.model.name, inst.model.num_layers, inst.model.bytes_per_element
    ('Llama-3.1-70B-Instruct', 80, 2.0)
    """
    error = _schema_error(_without_big_arrays(data))
    if error is not None:
        raise error
    _check_sizes(data)
    block, model_source = data["model"], None
    if "hf_config" in block:
        from colgen.model.hf import resolve_model

        model_source = block["hf_config"]
        block, _notices = resolve_model(block, base)
        data = {**data, "model": block}
    model = _model(block)
    par = data["parallelism"]
    K = par["max_gpus_per_segment"]
    gpu_types = tuple(_gpu_type(name, spec, model) for name, spec in data["gpu_types"].items())
    by_name = {t.name: t for t in gpu_types}
    gpus = _gpus(data["cluster"]["gpus"], by_name)
    used = {g.type for g in gpus}
    used_types = tuple(t for t in gpu_types if t.name in used)
    for t in used_types:
        for k in range(1, K + 1):
            t.performance.check_batch(model.batch_size / k, f"gpu_types.{t.name}.performance")
    _check_latencies(used_types, model, K)
    cluster = data["cluster"]
    if "bandwidth_gbps" in cluster:
        network = _matrix(cluster["bandwidth_gbps"], len(gpus))
    else:
        for i, e in enumerate(cluster["gpus"]):
            if "node" not in e:
                raise InputError(f"cluster.gpus[{i}].node", "missing",
                                 "give every GPU group a node when bandwidth comes from cluster.topology")
        network = _topology(cluster["topology"], gpus)
    _check_bandwidth(network)
    return Instance(
        name=data.get("name", "instance"),
        description=data.get("description", ""),
        model=model,
        gpu_types=gpu_types,
        gpus=gpus,
        network=network,
        max_gpus_per_segment=K,
        dp_efficiency=_efficiency(par.get("dp_efficiency", 1.0), K),
        reserved_memory_gb=float(par.get("reserved_memory_gb", 0.0)),
        spec=data,
        model_source=model_source,
        tp_degrees=_tp_degrees(par, model, K),
        stage_limits=_stage_limits(par),
        costs=_costs(data.get("costs", {}), gpus),
    )


def _costs(block: Mapping[str, Any], gpus: tuple[Gpu, ...]) -> Costs:
    """The costs block; a USD limit needs a price on every GPU, a job's limits need its tokens."""
    costs = Costs(**block)
    unpriced = next((g for g in gpus if g.price_per_hour is None), None)
    for name in ("max_usd_per_hour", "max_usd_per_million_tokens", "job_max_usd"):
        if getattr(costs, name) is not None and unpriced is not None:
            raise InputError(f"costs.{name}", f"needs a price for every GPU, and GPU {unpriced.id} "
                             f"({unpriced.type}) has none", f"give gpu_types.{unpriced.type}.price_per_hour "
                             "(USD per GPU-hour), or remove the limit")
    for name in ("job_max_usd", "job_max_hours"):
        if getattr(costs, name) is not None and costs.job_tokens is None:
            raise InputError(f"costs.{name}", "is a limit of a job, and costs.job_tokens is not given",
                             "give the tokens the job processes (costs.job_tokens)")
    return costs


def _tp_degrees(par: Mapping[str, Any], model: ModelSpec, K: int) -> tuple[int, ...]:
    """The allowed tensor-parallel degrees, checked against K and the model's heads: a degree must
    divide the attention heads, and the KV heads must divide it or be divisible by it (Megatron-LM's
    and vLLM's sharding of heads)."""
    degrees = tuple(sorted(par.get("tensor_parallel_degrees", [1])))
    where = "parallelism.tensor_parallel_degrees"
    for t in degrees:
        if t > K:
            raise InputError(where, f"degree {t} is above max_gpus_per_segment {K}",
                             "drop it, or raise max_gpus_per_segment (a stage holds r * t <= K GPUs)")
        if t > 1 and model.num_heads is not None and model.num_heads % t:
            raise InputError(where, f"degree {t} does not divide the model's {model.num_heads} attention heads",
                             "use degrees that divide model.num_heads")
        kv = model.num_kv_heads
        if t > 1 and kv is not None and kv % t and t % kv:
            raise InputError(where, f"degree {t} and the model's {kv} KV heads do not divide one another",
                             "use degrees that divide num_kv_heads or are multiples of it")
    return degrees


def _stage_limits(par: Mapping[str, Any]) -> StageLimits:
    lo, hi = par.get("min_layers_per_stage", 1), par.get("max_layers_per_stage")
    if hi is not None and hi < lo:
        raise InputError("parallelism.max_layers_per_stage", f"{hi} is below min_layers_per_stage {lo}",
                         "give max_layers_per_stage >= min_layers_per_stage")
    return StageLimits(max_stages=par.get("max_stages"), min_layers=lo, max_layers=hi)


def _model(m: Mapping[str, Any]) -> ModelSpec:
    d, seq, bpe = m["d_model"], m["seq_len"], m["bytes_per_element"]
    heads = m.get("num_heads")
    if heads is None and "num_kv_heads" in m:
        raise InputError("model.num_kv_heads", "is given without model.num_heads",
                         "give num_heads too (num_kv_heads only matters with it), or remove num_kv_heads")
    kv_heads = m.get("num_kv_heads", heads)
    if heads is not None and d % heads:
        raise InputError("model.num_heads", f"{heads} does not divide d_model {d}",
                         "give the head count of the model")
    if kv_heads is not None and heads is not None and (kv_heads > heads or heads % kv_heads):
        raise InputError("model.num_kv_heads", f"{kv_heads} does not divide num_heads {heads}",
                         "give the key/value head count (grouped-query attention)")
    kv_dim = d if heads is None else kv_heads * (d // heads)
    params = None
    if "ffn_dim" in m:
        ffn_mats = 3 if m.get("gated_ffn", True) else 2
        params = 2 * d * d + 2 * d * kv_dim + ffn_mats * d * m["ffn_dim"]
    if "weight_gb_per_layer" in m:
        weight = float(m["weight_gb_per_layer"])
    elif params is not None:
        weight = params * bpe / 1e9
    else:
        raise InputError("model.weight_gb_per_layer", "missing",
                         "give it, or give model.ffn_dim (and num_heads) so it can be derived")
    if params is None:
        params = weight * 1e9 / bpe
    kv = float(m.get("kv_gb_per_sample_layer", 2 * seq * kv_dim * bpe / 1e9))
    kv_share = 2 * d * kv_dim / params if "ffn_dim" in m and "weight_gb_per_layer" not in m else 0.0
    return ModelSpec(name=m.get("name", "(unnamed)"), num_layers=m["num_layers"], d_model=d,
                     bytes_per_element=float(bpe), seq_len=seq, batch_size=float(m["batch_size"]),
                     weight_gb_per_layer=weight, kv_gb_per_sample_layer=kv,
                     params_per_layer=float(params), num_heads=heads, num_kv_heads=kv_heads,
                     kv_weight_share=kv_share)


def _gpu_type(name: str, spec: Mapping[str, Any], model: ModelSpec) -> GpuType:
    where = f"gpu_types.{name}"
    perf = dict(spec.get("performance", {"kind": "roofline"}))
    missing = [f for f, given in (("memory_gb", "memory_gb" in spec),
                                  ("performance.tflops", perf["kind"] != "roofline" or "tflops" in perf),
                                  ("performance.hbm_gbps", perf["kind"] != "roofline" or "hbm_gbps" in perf))
               if not given]
    entry = None
    if "catalogue" in spec:
        entry = catalogue.lookup(spec["catalogue"], spec.get("memory_gb"), f"{where}.catalogue")
    elif missing:
        try:
            entry = catalogue.lookup(name, spec.get("memory_gb"), where)
        except InputError:
            raise InputError(where, f"'{name}' is not in the GPU catalogue, so {' and '.join(missing)} "
                             "must be given", "give them, or set catalogue to one of "
                             f"{', '.join(catalogue.CATALOGUE)}") from None
    memory = float(spec["memory_gb"]) if "memory_gb" in spec else entry.memory_gb
    kind = perf["kind"]
    if kind == "affine":
        model_ = Affine(alpha_s=float(perf["alpha_s"]), beta_s=float(perf["beta_s"]))
    elif kind == "profile":
        bs, lat = perf["batch_sizes"], perf["latency_s"]
        if len(bs) != len(lat):
            raise InputError(f"{where}.performance.latency_s",
                             f"has {len(lat)} values for {len(bs)} batch sizes", "give one per batch size")
        if any(b2 <= b1 for b1, b2 in itertools.pairwise(bs)):
            raise InputError(f"{where}.performance.batch_sizes", "must be strictly increasing",
                             "sort the measurements by batch size")
        model_ = Profile(batch_sizes=tuple(map(float, bs)), latency_s=tuple(map(float, lat)))
    else:
        model_ = roofline_for(
            float(perf.get("tflops", entry.tflops if entry else 0)),
            float(perf.get("hbm_gbps", entry.hbm_gbps if entry else 0)),
            float(perf.get("efficiency", DEFAULT_ROOFLINE_EFFICIENCY)),
            params_per_layer=model.params_per_layer, d_model=model.d_model, seq_len=model.seq_len,
            bytes_per_element=model.bytes_per_element,
            kv_gb_per_sample_layer=model.kv_gb_per_sample_layer)
    return GpuType(name=name, memory_gb=memory, performance=model_,
                   catalogue=entry.name if entry else None,
                   price_per_hour=None if "price_per_hour" not in spec else float(spec["price_per_hour"]))


def _gpus(entries: list[Mapping[str, Any]], types: Mapping[str, GpuType]) -> tuple[Gpu, ...]:
    gpus: list[Gpu] = []
    for i, e in enumerate(entries):
        if e["type"] not in types:
            raise InputError(f"cluster.gpus[{i}].type", f"unknown GPU type {show_value(e['type'])}",
                             f"declare it under gpu_types (declared: {listing(types)})")
        price = e.get("price_per_hour", types[e["type"]].price_per_hour)
        price = None if price is None else float(price)
        for _ in range(e.get("count", 1)):
            gpus.append(Gpu(id=len(gpus), type=e["type"], node=e.get("node"), price_per_hour=price))
    return tuple(gpus)


_NUMBER = (int, float)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _matrix(rows: list[Any], n: int) -> Network:
    """The N x N matrix, checked with numpy rather than the JSON Schema (which took seconds per
    thousand GPUs): rows, entry types and values, each error naming its row and column."""
    where = "cluster.bandwidth_gbps"
    if len(rows) != n:
        raise InputError(where, f"has {len(rows)} rows for {n} GPUs",
                         "give an N x N matrix, one row per GPU in cluster.gpus order")
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise InputError(f"{where}[{i}]", f"{show_value(row)} is not a list of numbers",
                             "give one row of N values in GB/s per GPU")
        if len(row) != n:
            raise InputError(f"{where}[{i}]", f"has {len(row)} entries, expected {n}",
                             "every row needs one entry per GPU (the matrix is ragged)")
        if not set(map(type, row)) <= {int, float}:
            for j, v in enumerate(row):
                if not _is_number(v):
                    raise InputError(f"{where}[{i}][{j}]", f"{show_value(v)} is not a number",
                                     "give a number in GB/s (finite, >= 0 off the diagonal)")
    try:
        out = np.array(rows, dtype=float)
    except OverflowError:
        out = np.array([[v if abs(v) < 1e308 else math.inf for v in row] for row in rows], dtype=float)
    bad = ~(np.isfinite(out) & (out >= 0))
    np.fill_diagonal(bad, False)
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        v = rows[i][j]
        raise InputError(f"{where}[{i}][{j}]", f"{v if abs(v) < 1e300 else 'a number out of range'} is not a bandwidth",
                         "give a finite value >= 0 in GB/s (the diagonal is ignored)")
    return Network.from_matrix(out, copy=False)


def _topology(topo: Mapping[str, Any], gpus: tuple[Gpu, ...]) -> Network:
    nodes = {g.node for g in gpus}
    intra = {n: topo["intra_node_gbps"] for n in nodes}
    for n, over in topo.get("nodes", {}).items():
        if n not in nodes:
            raise InputError(f"cluster.topology.nodes.{n}", "names no node of any GPU",
                             f"use one of {', '.join(sorted(nodes))}")
        intra[n] = over["intra_gbps"]
    inter: dict[frozenset[str], float] = {}
    for i, link in enumerate(topo.get("links", [])):
        a, b = link["nodes"]
        for x in (a, b):
            if x not in nodes:
                raise InputError(f"cluster.topology.links[{i}].nodes", f"'{x}' names no node of any GPU",
                                 f"use node names from cluster.gpus ({', '.join(sorted(nodes))})")
        if a == b:
            raise InputError(f"cluster.topology.links[{i}].nodes", "a link joins two different nodes",
                             f"set the bandwidth inside '{a}' with topology.nodes.{a}.intra_gbps")
        inter[frozenset((a, b))] = link["gbps"]
    names = sorted(nodes)
    index = {n: k for k, n in enumerate(names)}
    group_of = np.array([index[g.node] for g in gpus], dtype=np.int64)
    within = np.array([intra[n] for n in names], dtype=float)
    links = {tuple(sorted(index[x] for x in pair)): float(v) for pair, v in inter.items()}
    return Network.from_topology(group_of, names, within, float(topo["inter_node_gbps"]), links)


def _efficiency(value: float | list[float], K: int) -> tuple[float, ...]:
    if isinstance(value, list):
        if len(value) < K:
            raise InputError("parallelism.dp_efficiency", f"lists {len(value)} values for K = {K}",
                             "give eff(1), ..., eff(K), or one number for every k >= 2")
        if value[0] != 1:
            raise InputError("parallelism.dp_efficiency[0]", f"eff(1) is {value[0]}, must be 1",
                             "a single GPU has no data-parallel overhead")
        return tuple(float(v) for v in value[:K])
    return (1.0,) + (float(value),) * (K - 1)
