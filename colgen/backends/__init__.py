"""LP/MIP engines behind one small interface (colgen/backends/base.py): HiGHS by default, Gurobi
when its license takes the model. :func:`get_backend` picks one and says why."""

from __future__ import annotations

from collections.abc import Callable

from colgen.backends.base import Backend, IncrementalLP, MatrixModel, MipOutcome, Progress
from colgen.choices import BACKENDS
from colgen.errors import BackendError, InputError

__all__ = ["Backend", "IncrementalLP", "MatrixModel", "MipOutcome", "Progress", "check_backend_name",
           "get_backend"]


def check_backend_name(name: str) -> None:
    if name not in BACKENDS:
        raise InputError("backend", f"unknown backend '{name}'", f"use one of {', '.join(BACKENDS)}")


def get_backend(name: str, num_cols: int = 0, num_rows: int = 0,
                log: Callable[[str], None] | None = None, growing: bool = False,
                in_process: bool = False) -> Backend:
    """The engine called ``name`` (``auto``: Gurobi when installed and licensed for the size, else
    HiGHS), or a :class:`BackendError` saying why it cannot be used. A ``growing`` model (the
    column-generation master) has no size yet: ``auto`` gives it Gurobi only under an unrestricted
    license; an explicit ``gurobi`` is taken at the user's word. ``in_process``: never solve in a
    child process (the small, node-budgeted MIPs of the heuristics, where a process start would
    cost more than the solve)."""
    highs_isolate = False if in_process else None
    from colgen.backends.gurobi import GurobiBackend, gurobi_unavailable
    from colgen.backends.highs import HighsBackend

    say = log or (lambda _msg: None)
    check_backend_name(name)
    if name == "highs":
        return HighsBackend(isolate=highs_isolate)
    why = gurobi_unavailable()
    if why is None:
        gurobi = GurobiBackend()
        if growing:
            why = gurobi.refusal(num_cols, num_rows) if name == "gurobi" else gurobi.growth_refusal()
        else:
            why = gurobi.refusal(num_cols, num_rows)
        if why is None:
            say("backend: Gurobi (" + ("unrestricted license" if growing else
                                       f"{num_cols} columns, {num_rows} rows fit its license") + ")")
            return gurobi
    if name == "gurobi":
        raise BackendError(f"Gurobi cannot take this model: {why}; use --backend highs")
    say(f"backend: HiGHS (Gurobi not used: {why})")
    return HighsBackend(isolate=highs_isolate)
