"""The runs of a sweep: instances times a grid of parameters, each as a self-contained task.

A grid entry ``KEY=V1,V2,...`` names an instance field or a solve option:

* a short name of a model or parallelism field (``batch_size``, ``seq_len``, ``bytes_per_element``,
  ``max_gpus_per_segment``, ``dp_efficiency``, ``reserved_memory_gb``, ...);
* a dotted path into the instance document (``gpu_types.H100.memory_gb``,
  ``cluster.topology.inter_node_gbps``);
* a solve option: ``method``, ``time_limit``, ``gap``, ``backend`` or an option of the method
  (``prune``, ``formulation``, ``node_budget``, ...).

Values are JSON scalars (``16``, ``0.95``, ``true``, ``safe``) or JSON lists (``[1,0.9,0.8]``);
commas inside brackets do not split. A task carries the instance document with the parameters
applied and a Hugging Face ``hf_config`` already resolved, so that a worker on another machine needs
neither the instance file nor the config.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from colgen.bnp.options import BnpOptions
from colgen.check.brute import BruteOptions
from colgen.errors import InputError
from colgen.ilp.solver import IlpOptions
from colgen.jsonio import read_json

MODEL_FIELDS = ("name", "num_layers", "d_model", "bytes_per_element", "seq_len", "batch_size", "ffn_dim",
                "num_heads", "num_kv_heads", "gated_ffn", "weight_gb_per_layer", "kv_gb_per_sample_layer",
                "hf_config")
PARALLELISM_FIELDS = ("max_gpus_per_segment", "dp_efficiency", "reserved_memory_gb")
SOLVE_FIELDS = ("method", "time_limit", "gap", "backend")
OPTION_FIELDS = tuple(sorted({f.name for kind in (BnpOptions, IlpOptions, BruteOptions)
                              for f in dataclasses.fields(kind)}))


@dataclass
class Task:
    """One run: where it comes from (``instance`` as given, ``params``), what it solves (``doc``,
    None when preparing it failed with ``error``) and how (``method``, ``solve`` keywords)."""

    instance: str
    params: dict[str, Any]
    method: str
    solve: dict[str, Any] = field(default_factory=dict)
    doc: dict[str, Any] | None = None
    error: str | None = None


def split_values(text: str) -> list[str]:
    """``'1,2,[1,0.9],x'`` -> ``['1', '2', '[1,0.9]', 'x']`` (commas inside brackets stay)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [v.strip() for v in out]


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_grid(entries: Iterable[str]) -> dict[str, list[Any]]:
    """``["batch_size=16,32", "prune=safe,none"]`` -> ``{"batch_size": [16, 32], "prune": ["safe", "none"]}``.

    >>> parse_grid(["max_gpus_per_segment=1,2", "dp_efficiency=[1,0.9],0.95"])
    {'max_gpus_per_segment': [1, 2], 'dp_efficiency': [[1, 0.9], 0.95]}
    """
    grid: dict[str, list[Any]] = {}
    for entry in entries:
        key, sep, values = entry.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise InputError("--grid", f"'{entry}' is not KEY=V1,V2,...", "e.g. --grid batch_size=16,32")
        if key in grid:
            raise InputError("--grid", f"'{key}' is given twice", "list all its values in one entry")
        where(key)          # a name nothing understands fails now, not in every run
        grid[key] = [parse_value(v) for v in split_values(values)]
        if any(v == "" for v in grid[key]):
            raise InputError("--grid", f"'{entry}' has an empty value", "remove the stray comma")
    return grid


def where(key: str) -> tuple[str, ...] | None:
    """The document path of a grid key, or None for a solve option."""
    if key in SOLVE_FIELDS or key in OPTION_FIELDS:
        return None
    if key in MODEL_FIELDS:
        return ("model", key)
    if key in PARALLELISM_FIELDS:
        return ("parallelism", key)
    if "." in key:
        return tuple(key.split("."))
    raise InputError("--grid", f"'{key}' is neither an instance field nor a solve option",
                     f"use a dotted path (e.g. cluster.topology.inter_node_gbps), a model or parallelism field "
                     f"({', '.join(MODEL_FIELDS[:6] + PARALLELISM_FIELDS)}, ...) or one of "
                     f"{', '.join(SOLVE_FIELDS + OPTION_FIELDS)}")


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first key varying slowest."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any, key: str) -> None:
    node: Any = doc
    for i, part in enumerate(path[:-1]):
        if not isinstance(node, dict) or part not in node:
            raise InputError(key, f"the instance has no '{'.'.join(path[:i + 1])}'",
                             "sweep a field the instance has (see colgen show)")
        node = node[part]
    if not isinstance(node, dict):
        raise InputError(key, f"'{'.'.join(path[:-1])}' is not an object", "sweep a field inside an object")
    node[path[-1]] = value


def prepare(instance: str, doc: Mapping[str, Any], params: Mapping[str, Any], *, method: str,
            time_limit: float | None, base: str | Path | None) -> Task:
    """The task of one run: ``doc`` with ``params`` applied and its Hugging Face config resolved.
    A parameter the instance cannot take makes a task that carries its error instead."""
    solve: dict[str, Any] = {"time_limit": time_limit}
    task = Task(instance=instance, params=dict(params), method=str(params.get("method", method)), solve=solve)
    try:
        out = copy.deepcopy(dict(doc))
        for key, value in params.items():
            path = where(key)
            if path is None:
                if key != "method":
                    solve[key] = value
            else:
                _set(out, path, value, key)
        if isinstance(out.get("model"), dict) and "hf_config" in out["model"]:
            from colgen.model.hf import resolve_model

            out["model"], _ = resolve_model(out["model"], base)
        task.doc = out
    except InputError as exc:
        task.error = str(exc)
    return task


def tasks(instances: Sequence[str], grid: Mapping[str, Sequence[Any]], *, method: str,
          time_limit: float | None) -> list[Task]:
    """Every run of the sweep, instance by instance."""
    out = []
    for path in instances:
        doc = read_json(path)
        if not isinstance(doc, dict):
            raise InputError(path, "is not a JSON object", "give an instance file")
        for params in combinations(grid):
            out.append(prepare(path, doc, params, method=method, time_limit=time_limit, base=Path(path).parent))
    return out
