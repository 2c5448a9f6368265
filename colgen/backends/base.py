"""LP/MIP engines behind one small interface.

* :class:`MatrixModel` is a whole MIP as arrays (CSR matrix, bounds, integrality); a backend solves it
  under the run's :class:`~colgen.stop.Stop` (deadline and interrupts), optionally with a node budget
  and a gap, and returns a :class:`MipOutcome` that always carries the incumbent and the proven bound
  found so far.
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

from colgen.stop import Stop

#: ``progress(incumbent, bound)`` in the model's objective units, called as an engine learns them.
Progress = Callable[[float | None, float | None], None]


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
    """What an engine found: ``status`` is one of optimal, time_limit, interrupted, node_limit,
    infeasible, unbounded, error; ``x``/``objective`` the incumbent (or None); ``bound`` the proven
    bound."""

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
    def set_col_costs(self, idx: np.ndarray, cost: np.ndarray) -> None:
        """Change the objective coefficients of columns ``idx``."""

    @abstractmethod
    def solve(self, stop: Stop | None = None) -> str:
        """Solve (warm-started) within ``stop``'s deadline; status as in :class:`MipOutcome`."""

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
    def solve(self, model: MatrixModel, *, stop: Stop | None = None, node_limit: int | None = None,
              gap: float = 0.0, verbose: bool = False, relax: bool = False,
              progress: Progress | None = None, presolve: bool = True) -> MipOutcome:
        """Solve ``model`` (its LP relaxation with ``relax``) until optimal, ``stop`` says so, or
        ``node_limit`` branch-and-bound nodes are spent (a deterministic budget)."""

    @abstractmethod
    def new_lp(self, *, maximize: bool, verbose: bool = False) -> IncrementalLP: ...

    def refusal(self, num_cols: int, num_rows: int) -> str | None:
        """Why this engine cannot take a model of this size (None when it can)."""
        return None

    def growth_refusal(self) -> str | None:
        """Why this engine should not host a model that grows without a known limit."""
        return None
