"""HiGHS through ``highspy``: whole-model MIP/LP solves and the incremental master LP.

Large MIPs run in a child process with a hard wall-clock limit: HiGHS' MIP presolve does not check
the time limit everywhere (ERGO-Code/HiGHS #1501, #2478) and has been seen to run for twenty
minutes on pair models. The child streams every improving solution and the dual bound to the
parent, so killing it at the deadline (or on Ctrl-C) still returns the incumbent and a valid bound.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from colgen.backends.base import Backend, IncrementalLP, MatrixModel, MipOutcome, Progress
from colgen.child import spawn
from colgen.stop import Interrupted, Stop, interrupted

#: Models with more nonzeros than this are solved in a child process with a hard time limit.
ISOLATE_NNZ = 200_000

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kObjectiveBound: "optimal",
    highspy.HighsModelStatus.kSolutionLimit: "node_limit",
}
_banner_done = False


def new_highs(verbose: bool = False) -> highspy.Highs:
    """A ``Highs`` object; the copyright banner the first one prints (on fd 1, before any option
    can be set) is suppressed unless ``verbose``."""
    global _banner_done
    if _banner_done or verbose:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
    _banner_done = True
    h.setOptionValue("output_flag", verbose)
    return h


def _pass_model(h: highspy.Highs, model: MatrixModel, relax: bool) -> None:
    A = sp.csc_matrix(model.A)
    A.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.num_cols, model.num_rows
    lp.col_cost_ = np.asarray(model.c, dtype=float)
    lp.col_lower_, lp.col_upper_ = model.col_lower, model.col_upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    lp.sense_ = highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    if not relax and model.integer.any():
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(i)] for i in model.integer]
    h.passModel(lp)
    if model.col_names is not None:
        for j, name in enumerate(model.col_names):
            h.passColName(j, name)
    if model.row_names is not None:
        for i, name in enumerate(model.row_names):
            h.passRowName(i, name)


def solve_here(model: MatrixModel, *, stop: Stop | None = None, node_limit: int | None = None,
               gap: float = 0.0, verbose: bool = False, relax: bool = False,
               progress: Progress | None = None, presolve: bool = True, report: Any = None) -> MipOutcome:
    """Solve in this process. ``progress(incumbent, bound)`` hears of every improving solution and,
    at most once a second, the dual bound; ``report(kind, value, x)`` (the child process's channel)
    also receives the solutions themselves."""
    t0 = time.perf_counter()
    stop = stop or Stop()
    h = new_highs(verbose)
    _pass_model(h, model, relax)
    remaining = stop.remaining()
    if remaining is not None:
        h.setOptionValue("time_limit", max(remaining, 1e-3))
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    if not presolve:
        h.setOptionValue("presolve", "off")
    last_bound = [0.0]

    def interrupt(e: Any) -> None:
        # Always write the flag: HiGHS keeps it set across calls (#1761).
        e.interrupt(stop.reason() is not None)
        if time.perf_counter() - last_bound[0] > 1.0:
            last_bound[0] = time.perf_counter()
            bound = float(e.data_out.mip_dual_bound)
            if report is not None:
                report("bound", bound, None)
            if progress is not None and np.isfinite(bound):
                progress(None, bound)

    def improving(e: Any) -> None:
        d = e.data_out
        value, bound = float(d.objective_function_value), float(d.mip_dual_bound)
        if report is not None:
            report("incumbent", value, np.asarray(d.mip_solution))
            report("bound", bound, None)
        if progress is not None:
            progress(value, bound if np.isfinite(bound) else None)

    h.cbMipInterrupt += interrupt
    h.cbSimplexInterrupt += interrupt
    h.cbIpmInterrupt += interrupt
    h.cbMipImprovingSolution += improving
    h.run()
    status = _STATUS.get(h.getModelStatus(), "error")
    if status == "interrupted" and stop.reason() is not None:
        status = stop.reason()
    message = "" if status != "error" else h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    sol = h.getSolution()
    x = objective = None
    if sol.value_valid and (relax or not model.integer.any() or info.primal_solution_status == 2):
        x = np.asarray(sol.col_value)
        objective = float(info.objective_function_value)
    if relax or not model.integer.any():
        bound = objective if status == "optimal" else None
    else:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    if status == "optimal" and bound is None:
        bound = objective
    return MipOutcome(status=status, x=x, objective=objective, bound=bound,
                      nodes=int(max(info.mip_node_count, 0)), seconds=time.perf_counter() - t0,
                      message=message)


def _worker_main(fd: str) -> None:
    """Entry point of the child process (started by :func:`colgen.child.spawn`). Reads the model
    (pickled) on stdin and writes pickled messages to file descriptor ``fd``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    out = os.fdopen(int(fd), "wb")

    def send(kind: str, value: Any, x: Any) -> None:
        try:
            pickle.dump((kind, value, x), out)
            out.flush()
        except BrokenPipeError:                   # the parent is gone or stopped listening
            os._exit(1)

    try:
        model, deadline, node_limit, gap, verbose, relax, presolve = pickle.load(sys.stdin.buffer)
    except Exception:                             # the parent died or gave up while sending the model
        os._exit(1)
    # The parent's deadline on the shared wall clock: this process's start-up counts against it.
    time_limit = None if deadline is None else max(deadline - time.time(), 1e-3)
    try:
        result = solve_here(model, stop=Stop(time_limit), node_limit=node_limit, gap=gap, verbose=verbose,
                            relax=relax, presolve=presolve, report=send)
    except Exception as exc:  # report, never hang the parent
        result = MipOutcome("error", None, None, None, message=repr(exc))
    send("done", result, None)
    out.close()


def solve_isolated(model: MatrixModel, *, stop: Stop | None = None, node_limit: int | None = None,
                   gap: float = 0.0, verbose: bool = False, relax: bool = False,
                   progress: Progress | None = None, presolve: bool = True) -> MipOutcome:
    """Solve in a child process (:mod:`colgen.child`) killed at the deadline plus a small grace
    period."""
    t0 = time.perf_counter()
    stop = stop or Stop()
    read_fd, write_fd = os.pipe()
    proc = spawn("colgen.backends.highs:_worker_main", str(write_fd), stdin=subprocess.PIPE, pass_fds=(write_fd,))
    os.close(write_fd)
    messages: queue.Queue[tuple[str, Any, Any]] = queue.Queue()

    def reader() -> None:
        with os.fdopen(read_fd, "rb") as f:
            while True:
                try:
                    messages.put(pickle.load(f))
                except Exception:                 # EOF, a torn message: the child is gone
                    messages.put(("eof", None, None))
                    return

    threading.Thread(target=reader, daemon=True).start()
    time_limit = stop.remaining()
    # The child stops itself at the deadline; it is killed if it is still running a moment later
    # (HiGHS' presolve does not look at the clock everywhere).
    hard = None if time_limit is None else t0 + time_limit + 0.3
    deadline = None if time_limit is None else time.time() + time_limit
    best = MipOutcome("time_limit", None, None, None)
    stopped = None
    def writer() -> None:
        # In a thread: a model of a gigabyte takes seconds to pass, and the deadline holds meanwhile.
        try:
            pickle.dump((model, deadline, node_limit, gap, verbose, relax, presolve), proc.stdin)
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):   # the child is gone (killed at the deadline)
            pass

    threading.Thread(target=writer, daemon=True, name="colgen-highs-writer").start()
    try:
        while stopped is None:
            try:
                kind, value, x = messages.get(timeout=0.05)
            except queue.Empty:
                if stop.reason() == "interrupted":
                    stopped = "interrupted"
                elif hard is not None and time.perf_counter() > hard:
                    stopped = "time_limit"
                continue
            if kind == "done":
                out = value
                if out.x is None and best.x is not None:  # keep what was streamed
                    out.x, out.objective = best.x, best.objective
                out.seconds = time.perf_counter() - t0
                return out
            if kind == "eof":
                stopped = "error"
            elif kind == "incumbent" and (best.objective is None or _better(value, best.objective, model)):
                best.x, best.objective = x, value
            elif kind == "bound" and np.isfinite(value):
                best.bound = value
            if progress is not None and kind in ("incumbent", "bound"):
                progress(best.objective, best.bound)
    except Interrupted:                           # a second Ctrl-C or SIGTERM: the child goes, we go
        raise
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    best.status = stopped
    best.seconds = time.perf_counter() - t0
    if best.status == "error":
        best.message = f"the HiGHS process ended without a result (exit code {proc.returncode})"
    return best


def _better(a: float, b: float, model: MatrixModel) -> bool:
    return a > b if model.maximize else a < b


class HighsBackend(Backend):
    name = "highs"

    def __init__(self, isolate: bool | None = None):
        self.isolate = isolate

    def solve(self, model: MatrixModel, *, stop: Stop | None = None, node_limit: int | None = None,
              gap: float = 0.0, verbose: bool = False, relax: bool = False,
              progress: Progress | None = None, presolve: bool = True) -> MipOutcome:
        isolate = self.isolate if self.isolate is not None else model.nnz > ISOLATE_NNZ
        run = solve_isolated if isolate else solve_here
        return run(model, stop=stop, node_limit=node_limit, gap=gap, verbose=verbose, relax=relax,
                   progress=progress, presolve=presolve)

    def new_lp(self, *, maximize: bool, verbose: bool = False) -> HighsLP:
        return HighsLP(maximize=maximize, verbose=verbose)

    def write(self, model: MatrixModel, path: str) -> None:
        """Write ``model`` as MPS or LP (by the file's extension)."""
        h = new_highs(False)
        _pass_model(h, model, relax=False)
        h.writeModel(str(path))


class HighsLP(IncrementalLP):
    """The master LP in HiGHS; re-solves start from the previous basis."""

    def __init__(self, *, maximize: bool, verbose: bool = False):
        self.h = new_highs(verbose)
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize)
        self.h.cbSimplexInterrupt += lambda e: e.interrupt(interrupted())

    def add_rows(self, lower: np.ndarray, upper: np.ndarray, A: sp.csr_matrix | None = None) -> None:
        n = len(lower)
        A = sp.csr_matrix((n, self.num_cols)) if A is None else sp.csr_matrix(A)
        self.h.addRows(n, np.asarray(lower, float), np.asarray(upper, float), A.nnz,
                       A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(float))

    def set_row_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeRowsBounds(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(lower, float),
                                np.asarray(upper, float))

    def delete_rows(self, idx: np.ndarray) -> None:
        self.h.deleteRows(len(idx), np.asarray(idx, dtype=np.int32))

    def delete_cols(self, idx: np.ndarray) -> None:
        self.h.deleteCols(len(idx), np.asarray(idx, dtype=np.int32))

    def add_cols(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, A: sp.csc_matrix) -> None:
        A = sp.csc_matrix(A)
        self.h.addCols(len(cost), np.asarray(cost, float), np.asarray(lower, float),
                       np.asarray(upper, float), A.nnz, A.indptr[:-1].astype(np.int32),
                       A.indices.astype(np.int32), A.data.astype(float))

    def set_col_bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeColsBounds(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(lower, float),
                                np.asarray(upper, float))

    def set_col_costs(self, idx: np.ndarray, cost: np.ndarray) -> None:
        if len(idx):
            self.h.changeColsCost(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(cost, float))

    def solve(self, stop: Stop | None = None) -> str:
        remaining = None if stop is None else stop.remaining()
        # HiGHS compares time_limit with its run clock, which adds up over every run of this object:
        # the limit is what ran so far plus what remains of the run's deadline.
        self.h.setOptionValue("time_limit", highspy.kHighsInf if remaining is None
                              else self.h.getRunTime() + max(remaining, 1e-3))
        self.h.run()
        status = _STATUS.get(self.h.getModelStatus(), "error")
        if status == "error":
            # A warm-started re-solve now and then ends in kUnknown (seen on large masters after
            # many column and row changes); from scratch the same LP solves.
            self.h.clearSolver()
            self.h.run()
            status = _STATUS.get(self.h.getModelStatus(), "error")
        return status

    def primal(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)

    def duals(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().row_dual)

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    @property
    def num_rows(self) -> int:
        return int(self.h.getNumRow())

    @property
    def num_cols(self) -> int:
        return int(self.h.getNumCol())
