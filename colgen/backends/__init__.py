"""LP/MIP engines behind one small interface.

* :class:`MatrixModel` is a whole MIP as arrays (CSR matrix, bounds, integrality); a backend solves it
  with a time limit and a gap and returns a :class:`MipOutcome` that always carries the incumbent
  and the proven bound found so far.
* :class:`IncrementalLP` is the column-generation master's view: add rows and columns, solve, read
  duals, change bounds, with warm starts between solves.

HiGHS (``highspy``) is the default engine. Gurobi (``gurobipy``) is used when its license takes
the model: the pip wheel ships a size-limited license (2000 variables and 2000 rows), detected once
per process. :func:`get_backend` picks one and says why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from colgen.errors import BackendError, InputError

BACKENDS = ("auto", "highs", "gurobi")


@dataclass(frozen=True)
class MatrixModel:
    """``max/min c x`` s.t. ``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``,
    ``x[integer]`` integral. Infinite bounds are ``+-inf``."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    maximize: bool = True
    col_names: list[str] | None = field(default=None, repr=False)
    row_names: list[str] | None = field(default=None, repr=False)

    @property
    def num_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)


@dataclass
class MipOutcome:
    """What an engine found: ``status`` is one of optimal, time_limit, interrupted, infeasible,
    unbounded, error; ``x``/``objective`` the incumbent (or None); ``bound`` the proven bound."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    nodes: int = 0
    seconds: float = 0.0
    message: str = ""


class IncrementalLP(ABC):
    """A growing LP (the restricted master). Row and column indices are positions, in order added."""

    @abstractmethod
    def add_rows(self, lower: np.ndarray, upper: np.ndarray, A: sp.csr_matrix | None = None) -> None:
        """Append rows; ``A`` (one row per new row, ``num_cols`` columns) gives their coefficients on
        the existing columns (None: empty rows)."""

    @abstractmethod
    def set_row_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None: ...

    @abstractmethod
    def delete_rows(self, idx: np.ndarray) -> None:
        """Remove rows; the rows after them move up."""

    @abstractmethod
    def delete_cols(self, idx: np.ndarray) -> None:
        """Remove columns; the columns after them move left."""

    @abstractmethod
    def add_cols(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, A: sp.csc_matrix) -> None:
        """Append columns; ``A`` has one column per new variable and ``num_rows`` rows."""

    @abstractmethod
    def set_col_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None: ...

    @abstractmethod
    def solve(self, time_limit: float | None = None) -> str:
        """Solve (warm-started); status as in :class:`MipOutcome`."""

    @abstractmethod
    def primal(self) -> np.ndarray: ...

    @abstractmethod
    def duals(self) -> np.ndarray:
        """Row duals: d(objective)/d(row bound), the sign convention of the objective sense."""

    @abstractmethod
    def objective(self) -> float: ...

    @property
    @abstractmethod
    def num_rows(self) -> int: ...

    @property
    @abstractmethod
    def num_cols(self) -> int: ...


class Backend(ABC):
    name: str

    @abstractmethod
    def solve(self, model: MatrixModel, *, time_limit: float | None = None, gap: float = 0.0,
              verbose: bool = False, relax: bool = False) -> MipOutcome:
        """Solve ``model`` (its LP relaxation with ``relax``); honours the time limit and Ctrl-C."""

    @abstractmethod
    def new_lp(self, *, maximize: bool, verbose: bool = False) -> IncrementalLP: ...

    def refusal(self, num_cols: int, num_rows: int) -> str | None:
        """Why this engine cannot take a model of this size (None when it can)."""
        return None

    def growth_refusal(self) -> str | None:
        """Why this engine should not host a model that grows without a known limit."""
        return None


def get_backend(name: str, num_cols: int = 0, num_rows: int = 0,
                log: Callable[[str], None] | None = None, growing: bool = False) -> Backend:
    """The engine called ``name`` (``auto``: Gurobi when installed and licensed for the size, else
    HiGHS), or a :class:`BackendError` saying why it cannot be used. A ``growing`` model (the
    column-generation master) has no size yet: ``auto`` gives it Gurobi only under an unrestricted
    license; an explicit ``gurobi`` is taken at the user's word."""
    from colgen.backends.gurobi import GurobiBackend, gurobi_unavailable
    from colgen.backends.highs import HighsBackend

    say = log or (lambda _msg: None)
    if name not in BACKENDS:
        raise InputError("backend", f"unknown backend '{name}'", f"use one of {', '.join(BACKENDS)}")
    if name == "highs":
        return HighsBackend()
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
    return HighsBackend()
