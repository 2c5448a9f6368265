"""Import the CSV configurations of the original single-GPU-per-segment placement solver.

A legacy configuration is a folder with ``config.csv`` (``parameter,value``), ``gpu_pool.csv``
(``gpu_type,count,memory_gb``) and ``network_bandwidth.csv`` (GPU-by-GPU GB/s, GPUs numbered in
pool order). GPU types are looked up in the catalogue (roofline model) with the pool's memory.
Parameters that belong to that solver's other features are reported once and ignored.

The converted document is validated like any instance; a problem is reported at the CSV file, line
and column (or the command-line option) it came from, never at a JSON path the user never wrote.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from colgen.errors import InputError, ModelTooLargeError
from colgen.limits import MAX_FILE_BYTES, MAX_GPUS, MAX_INT_DIGITS, gb, memory_budget_bytes
from colgen.model.catalogue import lookup
from colgen.model.instance import NETWORK_COPIES, instance_from_dict

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
#: Python memory per value of the bandwidth matrix while it is read (a float and its list slot).
_BYTES_PER_CSV_VALUE = 40
_FOLDER_FIX = "a legacy configuration folder holds config.csv, gpu_pool.csv and network_bandwidth.csv"


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-empty rows with their line numbers; one-line errors for unreadable files and for files
    separated by something other than commas."""
    try:
        if path.is_dir():
            raise InputError(str(path), "is a directory", _FOLDER_FIX)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(str(path), f"has {size:,} bytes, more than the limit of {MAX_FILE_BYTES:,}",
                             "give a smaller configuration")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror or exc})", _FOLDER_FIX) from None
    except UnicodeDecodeError:
        raise InputError(str(path), "is not a UTF-8 text file", "save it as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}", f"is not valid CSV ({exc})", "fix the row") from None
    if rows and len(rows[0][1]) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in rows[0][1][0]:
                raise InputError(f"{path} line {rows[0][0]}", f"separates its fields with {name}, not commas",
                                 "save the file as comma-separated values")
    return rows


def _number(text: str, where: str, kind: type = float) -> Any:
    text = text.strip()
    if kind is int:
        if not re.fullmatch(r"[+-]?\d+", text):
            try:
                float(text)
            except ValueError:
                raise InputError(where, f"'{text[:40]}' is not a number", "fix the CSV value") from None
            raise InputError(where, f"'{text[:40]}' is not a whole number", "fix the CSV value")
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise InputError(where, f"'{text[:40]}...' has more than {MAX_INT_DIGITS} digits", "fix the CSV value")
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, f"'{text[:40]}' is not a number", "fix the CSV value") from None
    if not math.isfinite(value):
        raise InputError(where, f"'{text[:40]}' is not a finite number", "fix the CSV value")
    return value


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


def import_legacy(folder: str | Path, *, max_gpus_per_segment: int = 4, dp_efficiency: float = 0.95,
                  roofline_efficiency: float = 0.5) -> tuple[dict[str, Any], list[str]]:
    """Return ``(instance document, notices)`` for the legacy configuration in ``folder``; the
    document is validated, and a problem names the CSV file and line it comes from."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder" if folder.exists() else "does not exist", _FOLDER_FIX)
    notices: list[str] = []
    sources = _Sources()
    cfg_path = folder / "config.csv"
    params: dict[str, tuple[int, str]] = {}
    for line, row in _rows(cfg_path)[1:]:
        if len(row) < 2:
            raise InputError(f"{cfg_path} line {line}", "needs 'parameter,value'", "fix the row")
        key = row[0].strip()
        if key in params and params[key][1] != row[1].strip():
            raise InputError(f"{cfg_path} line {line}", f"sets {key[:40]} again (first on line {params[key][0]})",
                             "keep one value")
        params[key] = (line, row[1].strip())
    sources.add("model", str(cfg_path))
    model: dict[str, Any] = {}
    for key, (name, kind) in _MODEL_FIELDS.items():
        if key in params:
            line, value = params[key]
            where = f"{cfg_path} line {line}: {key}"
            model[name] = _number(value, where, kind) if kind is not str else value
            sources.add(f"model.{name}", where)
    batches = [_number(params[k][1], f"{cfg_path} line {params[k][0]}: {k}") for k in _BATCH if k in params]
    if not batches:
        raise InputError(f"{cfg_path}: max_batch_size", "missing", "add the batch size")
    model["batch_size"] = max(batches)
    if "max_batch_size" in params:
        sources.add("model.batch_size", f"{cfg_path} line {params['max_batch_size'][0]}: max_batch_size")
    if len(set(batches)) > 1:
        notices.append(f"min_batch_size != max_batch_size: using the batch size {max(batches):g}")
    ignored = sorted(set(params) - set(_MODEL_FIELDS) - set(_BATCH))
    if ignored:
        notices.append("ignored legacy parameters (features of the original solver): "
                       + ", ".join(k[:40] for k in ignored[:40]) + (", ..." if len(ignored) > 40 else ""))

    pool_path = folder / "gpu_pool.csv"
    gpu_types: dict[str, Any] = {}
    gpus: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, row in _rows(pool_path)[1:]:
        where = f"{pool_path} line {line}"
        if len(row) < 3:
            raise InputError(where, "needs 'gpu_type,count,memory_gb'", "fix the row")
        name = row[0].strip()
        if not name:
            raise InputError(f"{where}: gpu_type", "is empty", "name the GPU type (e.g. A100)")
        count = _number(row[1], f"{where}: count", int)
        memory = _number(row[2], f"{where}: memory_gb")
        entry = lookup(name, memory, f"{where}: gpu_type")
        spec = {"catalogue": entry.name, "memory_gb": memory,
                "performance": {"kind": "roofline", "efficiency": roofline_efficiency}}
        if name in gpu_types and gpu_types[name] != spec:
            raise InputError(f"{where}: gpu_type", f"'{name[:40]}' appears again with other specs "
                             f"(first on line {first_line[name]})", "give each GPU type one memory size")
        gpu_types[name] = spec
        first_line.setdefault(name, line)
        sources.add(f"gpu_types.{name}", f"{pool_path} line {first_line[name]}: {name[:40]}")
        sources.add(f"gpu_types.{name}.memory_gb", f"{pool_path} line {first_line[name]}: memory_gb")
        sources.add(f"cluster.gpus[{len(gpus)}]", f"{where}: count")
        sources.add(f"cluster.gpus[{len(gpus)}].type", f"{where}: gpu_type")
        gpus.append({"type": name, "count": count})
    if not gpus:
        raise InputError(str(pool_path), "lists no GPUs", "add rows 'gpu_type,count,memory_gb'")
    n = sum(g["count"] for g in gpus)
    if n > MAX_GPUS:
        raise InputError(f"{pool_path}: count", f"the pool adds up to {n:,} GPUs, more than the limit of {MAX_GPUS:,}",
                         "describe a smaller cluster")
    need = n * n * (_BYTES_PER_CSV_VALUE + 8 * NETWORK_COPIES)
    if need > memory_budget_bytes():
        raise ModelTooLargeError(f"the {n:,} x {n:,} bandwidth matrix would need about {gb(need)} to read, more "
                                 f"than the {gb(memory_budget_bytes())} this machine can spare")

    bw_path = folder / "network_bandwidth.csv"
    rows = _rows(bw_path)[1:]
    if len(rows) != n:
        raise InputError(str(bw_path), f"has {len(rows)} rows for the {n:,} GPUs of gpu_pool.csv",
                         "give one row per GPU, numbered in pool order")
    matrix = []
    for i, (line, r) in enumerate(rows):
        if len(r) - 1 != n:
            raise InputError(f"{bw_path} line {line}", f"has {len(r) - 1} bandwidths for {n:,} GPUs",
                             "give one value per GPU after the row's name")
        matrix.append([_number(v, f"{bw_path} line {line} column {j + 2}") for j, v in enumerate(r[1:])])
        sources.add(f"cluster.bandwidth_gbps[{i}]", f"{bw_path} line {line}")
    bw_line = {i: line for i, (line, _) in enumerate(rows)}
    sources.add("parallelism.max_gpus_per_segment", "--max-gpus-per-segment")
    sources.add("parallelism.dp_efficiency", "--dp-efficiency")
    doc = {
        "format": "colgen-instance/1",
        "name": f"legacy-{folder.name}"[:256] or "legacy",
        "description": f"imported from the legacy configuration '{folder.name}'",
        "model": model,
        "gpu_types": gpu_types,
        "cluster": {"gpus": gpus, "bandwidth_gbps": matrix},
        "parallelism": {"max_gpus_per_segment": max_gpus_per_segment, "dp_efficiency": dp_efficiency},
    }
    try:
        instance_from_dict(doc)
    except InputError as exc:
        m = re.fullmatch(r"cluster\.bandwidth_gbps\[(\d+)\]\[(\d+)\]", exc.field)
        if m:
            where = f"{bw_path} line {bw_line[int(m[1])]} column {int(m[2]) + 2}"
        else:
            where = sources.locate(exc.field) or str(folder)
        raise InputError(where, exc.problem, exc.fix) from None
    return doc, notices
