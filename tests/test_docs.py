"""The documentation: every public function has an example, every example runs, and the API
reference builds (docs/api.md)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys

import pytest

import colgen
from tests.conftest import ROOT

#: Modules whose docstring examples run here (the public API and the modules it documents).
MODULES = ["colgen.api", "colgen.model.instance", "colgen.model.hf", "colgen.result", "colgen.check.verify",
           "colgen.report.text", "colgen.report.plot", "colgen.sweep", "colgen.sweep.grid"]


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    out = []
    for name in MODULES:
        out += [t for t in finder.find(importlib.import_module(name)) if t.examples]
    return sorted(out, key=lambda t: t.name)


EXAMPLES = _examples()


def test_every_public_function_has_an_example():
    missing = [name for name in colgen.__all__ if inspect.isfunction(getattr(colgen, name))
               and ">>>" not in (getattr(colgen, name).__doc__ or "")]
    assert not missing, f"public functions without an example: {missing}"
    covered = {t.name.rsplit(".", 1)[-1] for t in EXAMPLES}
    functions = {n for n in colgen.__all__ if inspect.isfunction(getattr(colgen, n))}
    assert functions <= covered, functions - covered


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_example_runs(test, monkeypatch):
    if "plot" in test.name:
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(ROOT)                     # examples name files as instances/...
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=lambda text: print(text, end=""))
    assert runner.failures == 0, f"{test.name}: {runner.failures} failing example(s), see the output above"


def test_api_reference_builds(tmp_path):
    pytest.importorskip("pdoc")
    subprocess.run([sys.executable, "-m", "pdoc", "colgen", "-o", str(tmp_path)], check=True, cwd=ROOT,
                   capture_output=True)
    page = (tmp_path / "colgen.html").read_text()
    for name in colgen.__all__:
        if name != "__version__":
            assert f'id="{name}"' in page, name
    assert "&gt;&gt;&gt;" in page or "pdoc-code" in page        # the examples are on the page
