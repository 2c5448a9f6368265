"""Gurobi through ``gurobipy``, used when its license takes the model.

The pip wheel carries a size-limited license: ``optimize()`` raises GurobiError 10010 for more than
2000 variables or constraints. :func:`license_limit` finds out once per process with a 2001-variable
probe (a few milliseconds), so that models are routed before they are built, never crashed on.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from colgen.backends.base import Backend, IncrementalLP, MatrixModel, MipOutcome, Progress
from colgen.errors import BackendError
from colgen.stop import Stop, engine_interrupted, interrupted

SIZE_LIMIT_ERRNO = 10010
_PROBE_SIZE = 2001


@cache
def _gurobipy() -> Any:
    import gurobipy

    return gurobipy


@cache
def gurobi_unavailable() -> str | None:
    """Why Gurobi cannot be used at all (None when it can)."""
    try:
        gp = _gurobipy()
        env = gp.Env(params={"OutputFlag": 0})
        env.dispose()
    except ImportError:
        return "gurobipy is not installed"
    except Exception as exc:  # no license file, expired license, ...
        return f"no usable license ({str(exc).splitlines()[0]})"
    return None


@cache
def license_limit() -> int | None:
    """Largest number of variables/constraints the license allows (None: unrestricted)."""
    gp = _gurobipy()
    env = gp.Env(params={"OutputFlag": 0})
    m = gp.Model(env=env)
    try:
        m.addMVar(_PROBE_SIZE)
        m.optimize()
        return None
    except gp.GurobiError as exc:
        if exc.errno == SIZE_LIMIT_ERRNO:
            return _PROBE_SIZE - 1
        raise
    finally:
        m.dispose()
        env.dispose()


def _env(verbose: bool) -> Any:
    return _gurobipy().Env(params={"OutputFlag": int(verbose)})


def _size_error(exc: Exception) -> BackendError:
    return BackendError(f"Gurobi refused the model: its license is size-limited ({exc}); "
                        "use --backend highs")


_STATUS = {2: "optimal", 3: "infeasible", 4: "infeasible", 5: "unbounded", 8: "node_limit", 9: "time_limit",
           11: "interrupted", 15: "optimal"}


class GurobiBackend(Backend):
    name = "gurobi"

    def refusal(self, num_cols: int, num_rows: int) -> str | None:
        limit = license_limit()
        if limit is not None and (num_cols > limit or num_rows > limit):
            return (f"its license is size-limited to {limit} variables and constraints, the model has "
                    f"{num_cols} variables and {num_rows} constraints")
        return None

    def growth_refusal(self) -> str | None:
        limit = license_limit()
        if limit is not None:
            return f"its license is size-limited to {limit} variables and constraints"
        return None

    def solve(self, model: MatrixModel, *, stop: Stop | None = None, node_limit: int | None = None,
              gap: float = 0.0, verbose: bool = False, relax: bool = False,
              progress: Progress | None = None, presolve: bool = True) -> MipOutcome:
        gp = _gurobipy()
        t0 = time.perf_counter()
        stop = stop or Stop()
        env = _env(verbose)
        m = gp.Model(env=env)
        try:
            vtype = np.where(model.integer & (not relax), gp.GRB.INTEGER, gp.GRB.CONTINUOUS)
            x = m.addMVar(model.num_cols, lb=model.col_lower, ub=model.col_upper, obj=model.c, vtype=vtype)
            A = sp.csr_matrix(model.A)
            lo, up = model.row_lower, model.row_upper
            eq = lo == up
            for rows, sense, rhs in ((eq, "=", lo), (~eq & np.isfinite(lo), ">", lo),
                                     (~eq & np.isfinite(up), "<", up)):
                if rows.any():
                    m.addMConstr(A[rows], x, sense, rhs[rows])
            m.ModelSense = gp.GRB.MAXIMIZE if model.maximize else gp.GRB.MINIMIZE
            remaining = stop.remaining()
            if remaining is not None:
                m.Params.TimeLimit = max(remaining, 1e-3)
            if node_limit is not None:
                m.Params.NodeLimit = float(node_limit)
            m.Params.MIPGap = float(gap)
            if not presolve:
                m.Params.Presolve = 0
            where = gp.GRB.Callback

            def callback(model_: Any, at: int) -> None:
                if stop.reason() is not None:
                    model_.terminate()
                if progress is not None and at == where.MIP:
                    best, bound = model_.cbGet(where.MIP_OBJBST), model_.cbGet(where.MIP_OBJBND)
                    progress(best if abs(best) < gp.GRB.INFINITY else None,
                             bound if abs(bound) < gp.GRB.INFINITY else None)

            try:
                m.optimize(callback)
            except gp.GurobiError as exc:
                if exc.errno == SIZE_LIMIT_ERRNO:
                    raise _size_error(exc) from None
                raise BackendError(f"Gurobi failed: {exc}") from None
            status = _STATUS.get(m.Status, "error")
            if status == "interrupted":
                if stop.reason() is None:        # Gurobi caught a Ctrl-C that was meant for colgen
                    engine_interrupted()
                status = stop.reason() or status
            has_x = m.SolCount > 0
            objective = float(m.ObjVal) if has_x else None
            if relax or not model.integer.any():
                bound = objective if status == "optimal" else None
            else:
                bound = (float(m.ObjBound) if status in ("optimal", "time_limit", "interrupted", "node_limit")
                         else None)
            return MipOutcome(status=status, x=np.asarray(x.X) if has_x else None, objective=objective,
                              bound=bound, nodes=int(getattr(m, "NodeCount", 0) or 0),
                              seconds=time.perf_counter() - t0,
                              message="" if status != "error" else f"Gurobi status {m.Status}")
        finally:
            m.dispose()
            env.dispose()

    def new_lp(self, *, maximize: bool, verbose: bool = False) -> GurobiLP:
        return GurobiLP(maximize=maximize, verbose=verbose)


class GurobiLP(IncrementalLP):
    """The master LP in Gurobi (warm-started re-solves)."""

    def __init__(self, *, maximize: bool, verbose: bool = False):
        gp = self._gp = _gurobipy()
        self.env = _env(verbose)
        self.m = gp.Model(env=self.env)
        self.m.ModelSense = gp.GRB.MAXIMIZE if maximize else gp.GRB.MINIMIZE
        self.rows: list[Any] = []
        self.cols: list[Any] = []

    def add_rows(self, lower: np.ndarray, upper: np.ndarray, A: sp.csr_matrix | None = None) -> None:
        gp = self._gp
        A = sp.csr_matrix((len(lower), self.num_cols)) if A is None else sp.csr_matrix(A)
        for i, (lo, up) in enumerate(zip(lower, upper, strict=True)):
            a, b = A.indptr[i], A.indptr[i + 1]
            expr = gp.LinExpr(A.data[a:b].tolist(), [self.cols[j] for j in A.indices[a:b]])
            # A row is stored as lo <= expr (or expr <= up); ranges are not needed by colgen.
            if lo == up:
                self.rows.append(self.m.addLConstr(expr, gp.GRB.EQUAL, float(lo)))
            elif np.isfinite(up) or not np.isfinite(lo):
                self.rows.append(self.m.addLConstr(expr, gp.GRB.LESS_EQUAL, float(up)))
            else:
                self.rows.append(self.m.addLConstr(expr, gp.GRB.GREATER_EQUAL, float(lo)))
        self.m.update()

    def delete_rows(self, idx: np.ndarray) -> None:
        gone = set(int(i) for i in idx)
        self.m.remove([self.rows[i] for i in sorted(gone)])
        self.rows = [r for i, r in enumerate(self.rows) if i not in gone]
        self.m.update()

    def delete_cols(self, idx: np.ndarray) -> None:
        gone = set(int(i) for i in idx)
        self.m.remove([self.cols[i] for i in sorted(gone)])
        self.cols = [c for i, c in enumerate(self.cols) if i not in gone]
        self.m.update()

    def set_row_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        for i, lo, up in zip(idx, lower, upper, strict=True):
            row = self.rows[i]
            if row.Sense == self._gp.GRB.GREATER_EQUAL:
                row.RHS = float(lo) if np.isfinite(lo) else -self._gp.GRB.INFINITY
            else:
                row.RHS = float(up) if np.isfinite(up) else self._gp.GRB.INFINITY

    def add_cols(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, A: sp.csc_matrix) -> None:
        gp = self._gp
        A = sp.csc_matrix(A)
        for j in range(A.shape[1]):
            lo, hi = A.indptr[j], A.indptr[j + 1]
            col = gp.Column(A.data[lo:hi].tolist(), [self.rows[i] for i in A.indices[lo:hi]])
            self.cols.append(self.m.addVar(lb=float(lower[j]), ub=float(upper[j]), obj=float(cost[j]),
                                           column=col))
        self.m.update()

    def set_col_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        vars_ = [self.cols[i] for i in idx]
        self.m.setAttr("LB", vars_, list(map(float, lower)))
        self.m.setAttr("UB", vars_, list(map(float, upper)))

    def set_col_costs(self, idx: np.ndarray, cost: np.ndarray) -> None:
        if len(idx):
            self.m.setAttr("Obj", [self.cols[i] for i in idx], list(map(float, cost)))

    def solve(self, stop: Stop | None = None) -> str:
        gp = self._gp
        remaining = None if stop is None else stop.remaining()
        self.m.Params.TimeLimit = gp.GRB.INFINITY if remaining is None else max(remaining, 1e-3)
        try:
            self.m.optimize()
        except gp.GurobiError as exc:
            if exc.errno == SIZE_LIMIT_ERRNO:
                raise _size_error(exc) from None
            raise BackendError(f"Gurobi failed: {exc}") from None
        status = _STATUS.get(self.m.Status, "error")
        if status == "interrupted" and not interrupted():   # Gurobi caught a Ctrl-C meant for colgen
            engine_interrupted()
        return status

    def primal(self) -> np.ndarray:
        return np.array(self.m.getAttr("X", self.cols)) if self.cols else np.zeros(0)

    def duals(self) -> np.ndarray:
        # Gurobi's Pi is d(objective)/d(rhs) for both senses, as HiGHS' row_dual.
        return np.array(self.m.getAttr("Pi", self.rows)) if self.rows else np.zeros(0)

    def objective(self) -> float:
        return float(self.m.ObjVal)

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    @property
    def num_cols(self) -> int:
        return len(self.cols)
