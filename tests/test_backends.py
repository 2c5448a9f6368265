"""Engine selection, the Gurobi license fallback and the incremental LP interface."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from colgen.backends import MatrixModel, get_backend
from colgen.backends import gurobi as gurobi_mod
from colgen.backends.highs import HighsBackend
from colgen.cli.main import main
from colgen.errors import BackendError
from tests.conftest import INSTANCES

needs_gurobi = pytest.mark.skipif(gurobi_mod.gurobi_unavailable() is not None, reason="Gurobi not available")


def small_mip() -> MatrixModel:
    # max 5x + 4y + 3z, 2x + 3y + z <= 5, 4x + y + 2z <= 11, 3x + 4y + 2z <= 8, binaries
    A = sp.csr_matrix(np.array([[2, 3, 1], [4, 1, 2], [3, 4, 2]], dtype=float))
    return MatrixModel(c=np.array([5.0, 4.0, 3.0]), A=A, row_lower=np.full(3, -np.inf),
                       row_upper=np.array([5.0, 11.0, 8.0]), col_lower=np.zeros(3), col_upper=np.ones(3),
                       integer=np.ones(3, dtype=bool))


@pytest.mark.parametrize("isolate", [False, True])
def test_highs_solves_in_process_and_isolated(isolate):
    out = HighsBackend(isolate=isolate).solve(small_mip())
    assert out.status == "optimal" and out.objective == pytest.approx(9.0)
    assert out.bound == pytest.approx(9.0)
    relaxed = HighsBackend(isolate=isolate).solve(small_mip(), relax=True)
    assert relaxed.objective >= 9.0


@needs_gurobi
def test_gurobi_solves_small_models():
    out = get_backend("gurobi", 3, 3).solve(small_mip())
    assert out.status == "optimal" and out.objective == pytest.approx(9.0)


@needs_gurobi
def test_size_limited_license_falls_back_to_highs(monkeypatch):
    monkeypatch.setattr(gurobi_mod, "license_limit", lambda: 2000)
    said = []
    backend = get_backend("auto", 5000, 10, said.append)
    assert backend.name == "highs"
    assert "size-limited" in said[0]
    with pytest.raises(BackendError, match="size-limited"):
        get_backend("gurobi", 5000, 10)
    assert get_backend("auto", 100, 10).name == "gurobi"
    monkeypatch.setattr(gurobi_mod, "license_limit", lambda: None)
    assert get_backend("auto", 5000, 10).name == "gurobi"


def test_missing_gurobi_falls_back(monkeypatch):
    monkeypatch.setattr(gurobi_mod, "gurobi_unavailable", lambda: "gurobipy is not installed")
    said = []
    assert get_backend("auto", 10, 10, said.append).name == "highs"
    assert "not installed" in said[0]
    with pytest.raises(BackendError, match="not installed"):
        get_backend("gurobi", 10, 10)


@needs_gurobi
def test_gurobi_error_10010_is_a_clear_message(monkeypatch):
    if gurobi_mod.license_limit() is None:
        pytest.skip("an unrestricted Gurobi license is installed")
    # Hide the limit so the model reaches optimize(), which raises error 10010.
    monkeypatch.setattr(gurobi_mod, "license_limit", lambda: None)
    n = 2500
    model = MatrixModel(c=np.ones(n), A=sp.csr_matrix(np.ones((1, n))), row_lower=np.array([-np.inf]),
                        row_upper=np.array([1.0]), col_lower=np.zeros(n), col_upper=np.ones(n),
                        integer=np.zeros(n, dtype=bool))
    with pytest.raises(BackendError, match="size-limited"):
        gurobi_mod.GurobiBackend().solve(model)


@needs_gurobi
def test_cli_backend_gurobi_too_large_is_refused_without_traceback(capsys):
    if gurobi_mod.license_limit() is None:
        pytest.skip("an unrestricted Gurobi license is installed")
    code = main(["solve", str(INSTANCES / "legacy-small.json"), "--method", "ilp", "--backend", "gurobi"])
    err = capsys.readouterr().err
    assert code == 5 and "size-limited" in err and "Traceback" not in err


@pytest.mark.parametrize("backend", ["highs", pytest.param("gurobi", marks=needs_gurobi)])
def test_incremental_lp_duals_and_columns(backend):
    lp = get_backend(backend).new_lp(maximize=True)
    lp.add_rows(np.array([-np.inf, 3.0]), np.array([4.0, np.inf]))           # x + y <= 4 ; y >= 3
    lp.add_cols(np.array([2.0, 1.0]), np.zeros(2), np.full(2, np.inf),
                sp.csc_matrix(np.array([[1.0, 1.0], [0.0, 1.0]])))
    assert lp.solve() == "optimal"
    assert lp.objective() == pytest.approx(5.0)
    assert lp.duals() == pytest.approx([2.0, -1.0])                           # d objective / d rhs
    lp.add_cols(np.array([3.0]), np.zeros(1), np.array([1.0]), sp.csc_matrix(np.array([[1.0], [0.0]])))
    assert lp.solve() == "optimal" and lp.objective() == pytest.approx(6.0)
    lp.set_col_bounds(np.array([2]), np.zeros(1), np.zeros(1))
    assert lp.solve() == "optimal" and lp.objective() == pytest.approx(5.0)
    assert (lp.num_rows, lp.num_cols) == (2, 3)


def test_highs_master_lp_recovers_from_an_unknown_status(monkeypatch):
    """A warm-started HiGHS re-solve that ends in kUnknown is solved again from scratch."""
    import highspy

    lp = HighsBackend().new_lp(maximize=True)
    lp.add_rows(np.array([-np.inf]), np.array([4.0]))
    lp.add_cols(np.array([2.0, 1.0]), np.zeros(2), np.full(2, np.inf), sp.csc_matrix(np.array([[1.0, 1.0]])))
    assert lp.solve() == "optimal"
    real, cleared = lp.h.getModelStatus, []
    monkeypatch.setattr(lp.h, "clearSolver", lambda: cleared.append(True))
    monkeypatch.setattr(lp.h, "getModelStatus", lambda: real() if cleared else highspy.HighsModelStatus.kUnknown)
    assert lp.solve() == "optimal" and cleared == [True]
    assert lp.objective() == pytest.approx(8.0)
