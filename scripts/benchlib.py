"""Shared pieces of the benchmark scripts: instance suites, timing, and result files."""

from __future__ import annotations

import json
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from colgen.io.generator import random_instance
from colgen.jsonio import write_json_atomic, write_text_atomic
from colgen.model.instance import Instance, instance_from_dict, load_instance

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("seed-tiny", "legacy-tiny", "legacy-small", "seed-demo", "legacy-medium", "mixed-80x65",
           "large-126x256")


def shipped(name: str) -> Instance:
    return load_instance(ROOT / "instances" / f"{name}.json")


def generated(label: str, seed: int, **kw: Any) -> Instance:
    doc = random_instance(seed, **kw)
    doc["name"] = label
    return instance_from_dict(doc)


def startup_seconds() -> float:
    """Wall time of a fresh interpreter importing colgen's solvers (reported apart from solves)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import colgen.bnp.search, colgen.ilp.model"], check=True)
    return time.perf_counter() - t0


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus(),
            "highspy": version("highspy"), "numba": version("numba"), "gurobipy": version("gurobipy")}


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def write_results(out: Path, title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]],
                  notes: list[str], extra: dict[str, Any]) -> None:
    """``results.json`` (everything), ``results.md`` (a table) and ``command.txt`` in ``out``."""
    script = Path(sys.argv[0]).resolve().relative_to(ROOT)
    command = "python " + " ".join(shlex.quote(a) for a in [str(script), *sys.argv[1:]])
    write_json_atomic(out / "results.json", {"command": command, "machine": machine(), **extra, "rows": rows})
    lines = [f"# {title}", "", f"Command: `{command}`", ""]
    lines += [*notes, ""]
    lines.append("| " + " | ".join(h for _, h in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(k)) for k, _ in columns) + " |")
    write_text_atomic(out / "results.md", "\n".join(lines) + "\n")
    write_text_atomic(out / "command.txt", command + "\n")
    print(json.dumps({"wrote": str(out)}))
