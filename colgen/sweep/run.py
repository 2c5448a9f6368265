"""One run of a sweep, as a worker executes it: never raises, always returns its row."""

from __future__ import annotations

import time
from typing import Any

from colgen.sweep.grid import Task

#: What a run reports (the table's columns after the instance and the parameters).
RESULT_COLUMNS = ("status", "objective_tokens_per_s", "bound_tokens_per_s", "gap", "time_s", "stages",
                  "gpus_used", "bottleneck", "error")


def error_row(message: str, seconds: float = 0.0) -> dict[str, Any]:
    """The row of a run that failed: status ``error`` and the message on one line."""
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row.update(status="error", time_s=seconds, error=" ".join(str(message).split()))
    return row


def run_one(task: Task) -> dict[str, Any]:
    """Solve ``task`` and return its result columns; a failure becomes a row with its error."""
    if task.error is not None or task.doc is None:
        return error_row(task.error or "no instance document")
    start = time.perf_counter()
    try:
        from colgen.api import solve
        from colgen.model.instance import instance_from_dict

        inst = instance_from_dict(task.doc)
        result = solve(inst, task.method, **{k: v for k, v in task.solve.items() if v is not None})
        report = result.to_dict(inst)
    except Exception as exc:        # a failing run is a row, not a crash of the sweep
        from colgen.errors import ColgenError

        text = str(exc) if isinstance(exc, ColgenError) else f"{type(exc).__name__}: {exc}"
        return error_row(text, time.perf_counter() - start)
    b = report["bottleneck"]
    return {
        "status": result.status,
        "objective_tokens_per_s": result.objective,
        "bound_tokens_per_s": result.bound,
        "gap": result.gap,
        "time_s": result.timings.get("total", time.perf_counter() - start),
        "stages": len(result.placement),
        "gpus_used": report["gpus_used"],
        "bottleneck": b["text"] if b else None,
        "error": None,
    }
