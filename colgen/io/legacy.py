"""Import the CSV configurations of the original single-GPU-per-segment placement solver.

A legacy configuration is a folder with ``config.csv`` (``parameter,value``), ``gpu_pool.csv``
(``gpu_type,count,memory_gb``) and ``network_bandwidth.csv`` (GPU-by-GPU GB/s, GPUs numbered in
pool order). GPU types are looked up in the catalogue (roofline model) with the pool's memory.
Parameters that belong to that solver's other features are reported once and ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from colgen.errors import InputError
from colgen.model.catalogue import lookup

#: Legacy parameter -> model field.
_MODEL_FIELDS = {
    "model_name": ("name", str),
    "num_decoder_layers": ("num_layers", int),
    "d_model": ("d_model", int),
    "d_hidden": ("ffn_dim", int),
    "num_attention_heads": ("num_heads", int),
    "bytes_per_element": ("bytes_per_element", float),
    "sequence_length": ("seq_len", int),
    "layer_weight_memory_gb": ("weight_gb_per_layer", float),
}
_BATCH = ("min_batch_size", "max_batch_size")


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="") as f:
            return [row for row in csv.reader(f) if any(c.strip() for c in row)]
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})",
                         "a legacy configuration folder holds config.csv, gpu_pool.csv and "
                         "network_bandwidth.csv") from None


def _number(text: str, where: str, kind: type = float) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise InputError(where, f"'{text}' is not a number", "fix the CSV value") from None


def import_legacy(folder: str | Path, *, max_gpus_per_segment: int = 4, dp_efficiency: float = 0.95,
                  roofline_efficiency: float = 0.5) -> tuple[dict[str, Any], list[str]]:
    """Return ``(instance document, notices)`` for the legacy configuration in ``folder``."""
    folder = Path(folder)
    notices: list[str] = []
    cfg_path = folder / "config.csv"
    params: dict[str, str] = {}
    for i, row in enumerate(_rows(cfg_path)[1:], start=2):
        if len(row) < 2:
            raise InputError(f"{cfg_path} line {i}", "needs 'parameter,value'", "fix the row")
        params[row[0].strip()] = row[1].strip()
    model: dict[str, Any] = {}
    for key, (name, kind) in _MODEL_FIELDS.items():
        if key in params:
            model[name] = _number(params[key], f"{cfg_path}: {key}", kind) if kind is not str \
                else params[key]
    batches = [_number(params[k], f"{cfg_path}: {k}", int) for k in _BATCH if k in params]
    if not batches:
        raise InputError(f"{cfg_path}: max_batch_size", "missing", "add the batch size")
    model["batch_size"] = max(batches)
    if len(set(batches)) > 1:
        notices.append(f"min_batch_size != max_batch_size: using the batch size {max(batches)}")
    ignored = sorted(set(params) - set(_MODEL_FIELDS) - set(_BATCH))
    if ignored:
        notices.append("ignored legacy parameters (features of the original solver): " + ", ".join(ignored))

    pool_path = folder / "gpu_pool.csv"
    gpu_types: dict[str, Any] = {}
    gpus: list[dict[str, Any]] = []
    for i, row in enumerate(_rows(pool_path)[1:], start=2):
        if len(row) < 3:
            raise InputError(f"{pool_path} line {i}", "needs 'gpu_type,count,memory_gb'", "fix the row")
        name = row[0].strip()
        count = _number(row[1], f"{pool_path} line {i}: count", int)
        memory = _number(row[2], f"{pool_path} line {i}: memory_gb")
        entry = lookup(name, memory, f"{pool_path} line {i}: gpu_type")
        gpu_types[name] = {"catalogue": entry.name, "memory_gb": memory,
                           "performance": {"kind": "roofline", "efficiency": roofline_efficiency}}
        gpus.append({"type": name, "count": count})
    n = sum(g["count"] for g in gpus)

    bw_path = folder / "network_bandwidth.csv"
    rows = _rows(bw_path)[1:]
    matrix = [[_number(v, f"{bw_path} row {i + 2} column {j + 2}") for j, v in enumerate(r[1:])]
              for i, r in enumerate(rows)]
    if len(matrix) != n:
        raise InputError(str(bw_path), f"has {len(matrix)} rows for the {n} GPUs of gpu_pool.csv",
                         "give one row per GPU, numbered in pool order")
    doc = {
        "format": "colgen-instance/1",
        "name": f"legacy-{folder.name}",
        "description": f"imported from the legacy configuration '{folder.name}'",
        "model": model,
        "gpu_types": gpu_types,
        "cluster": {"gpus": gpus, "bandwidth_gbps": matrix},
        "parallelism": {"max_gpus_per_segment": max_gpus_per_segment, "dp_efficiency": dp_efficiency},
    }
    return doc, notices
