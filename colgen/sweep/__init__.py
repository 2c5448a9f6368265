"""Sweeps: many solves, one row each, on local processes, Dask or Ray.

``colgen sweep INSTANCE... --grid KEY=V1,V2 ... -o table.csv`` and :func:`run_sweep` run every
combination of the grid on every instance and append one CSV row per run as it finishes (instance,
parameters, method, status, objective, bound, gap, time, stages, GPUs used, bottleneck, error).
Rows already in the table are skipped, so an interrupted sweep resumes where it stopped; a failing
run is a row with its error. The grid's keys: colgen/sweep/grid.py; the engines:
colgen/sweep/engines.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from colgen.choices import METHODS
from colgen.errors import InputError
from colgen.sweep.engines import ENGINES, RUNNERS
from colgen.sweep.grid import parse_grid, tasks
from colgen.sweep.table import Table, columns, run_key

__all__ = ["ENGINES", "default_workers", "run_sweep"]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return max(1, os.cpu_count() or 1)


def run_sweep(instances: Sequence[str | Path], grid: Iterable[str] | dict[str, list[Any]] = (), *,
              output: str | Path, method: str = "bnp", time_limit: float | None = None, engine: str = "local",
              workers: int | None = None, address: str | None = None, retry_failed: bool = False,
              progress: bool = True) -> list[dict[str, str]]:
    """Run the sweep, appending to the CSV table ``output``; return every row of the table.

    ``grid``: entries ``"KEY=V1,V2"`` (or a parsed ``{key: [values]}``); ``engine``: ``local``,
    ``dask`` or ``ray`` with ``workers`` processes (default: one per core) or the cluster at
    ``address``; ``retry_failed`` runs again the rows whose status is ``error``.

    >>> import tempfile, pathlib
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "sweep.csv"
    >>> rows = run_sweep(["instances/seed-tiny.json"], ["max_gpus_per_segment=1,2"], output=table,
    ...                  method="brute", workers=1, progress=False)
    >>> [(r["max_gpus_per_segment"], r["status"]) for r in rows]
    [('1', 'optimal'), ('2', 'optimal')]
    >>> len(run_sweep(["instances/seed-tiny.json"], ["max_gpus_per_segment=1,2"], output=table,
    ...               method="brute", workers=1, progress=False))    # resumed: nothing left to run
    2
    """
    if method not in METHODS:
        raise InputError("--method", f"unknown method '{method}'", f"use one of {', '.join(METHODS)}")
    if engine not in ENGINES:
        raise InputError("--engine", f"unknown engine '{engine}'", f"use one of {', '.join(ENGINES)}")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise InputError("--workers", f"{workers} is not a positive number of workers")
    parsed = dict(grid) if isinstance(grid, dict) else parse_grid(grid)
    keys = list(parsed)
    table = Table(output, columns(keys))
    if retry_failed:
        table.drop_failed()
    done = table.done(keys)
    todo, skipped = [], 0
    for task in tasks([str(p) for p in instances], parsed, method=method, time_limit=time_limit):
        if run_key(task.instance, task.params, task.method, keys) in done:
            skipped += 1
        else:
            todo.append(task)
    bar = _bar(len(todo) + skipped, skipped, progress)
    try:
        ready = [t for t in todo if t.doc is None]          # failed already while preparing
        for task in ready:
            _record(table, task, {"status": "error", "error": task.error}, time_limit, bar)
        runnable = [t for t in todo if t.doc is not None]
        if runnable:
            for task, row in RUNNERS[engine](runnable, min(workers, len(runnable)), address):
                _record(table, task, row, time_limit, bar)
    finally:
        bar.close()
    return table.rows


def _record(table: Table, task: Any, row: dict[str, Any], time_limit: float | None, bar: Any) -> None:
    table.append({"instance": task.instance, **task.params, "method": task.method,
                  "time_limit_s": task.solve.get("time_limit", time_limit), **row})
    bar.set_postfix_str(f"last: {row.get('status')}", refresh=False)
    bar.update(1)


def _bar(total: int, initial: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="sweep", unit="run", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True)
