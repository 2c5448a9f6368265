"""colgen: exact placement of LLM layers on heterogeneous GPU clusters.

Data flows one way: instance -> allocation space -> engine -> placement -> verifier -> report.
The public API::

    from colgen import load_instance, solve, verify, describe_result, plot_placement
    inst = load_instance("instances/hf-llama-3.1-70b.json")   # its model is a Hugging Face config.json
    result = solve(inst, "bnp", time_limit=60)
    assert verify(inst, result).ok
    print(describe_result(inst, result))                        # stages, nodes, links, the bottleneck
    plot_placement(inst, result, "placement.png")               # needs the [plot] extra

plus :func:`pareto` (every non-dominated placement of throughput against USD per hour; ``solve``
also takes ``objective="cost"`` or ``"cost-per-token"``, ``budget`` and ``min_throughput``),
:func:`model_from_hf_config` and :func:`load_hf_config` (Hugging Face configs),
:func:`plot_convergence` and :func:`run_sweep` (many solves, one CSV row each, local, Dask or Ray).
Every function here has an example that the tests run (tests/test_docs.py); the reference is
built with ``python -m pdoc colgen -o docs/api`` (docs/api.md).

Names are imported on first use, so that ``import colgen`` (and ``colgen --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("colgen")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

_EXPORTS = {
    "BnpOptions": "colgen.bnp.options",
    "BruteOptions": "colgen.check.brute",
    "ColgenError": "colgen.errors",
    "IlpOptions": "colgen.ilp.solver",
    "InputError": "colgen.errors",
    "Instance": "colgen.model.instance",
    "Placement": "colgen.result",
    "Result": "colgen.result",
    "Stage": "colgen.result",
    "Stop": "colgen.stop",
    "Verdict": "colgen.check.verify",
    "describe_result": "colgen.report.text",
    "instance_from_dict": "colgen.model.instance",
    "load_hf_config": "colgen.model.hf",
    "load_instance": "colgen.model.instance",
    "model_from_hf_config": "colgen.model.hf",
    "pareto": "colgen.api",
    "plot_convergence": "colgen.report.plot",
    "plot_placement": "colgen.report.plot",
    "run_sweep": "colgen.sweep",
    "solve": "colgen.api",
    "verify": "colgen.check.verify",
}

__all__ = [
    "BnpOptions", "BruteOptions", "ColgenError", "IlpOptions", "InputError", "Instance", "Placement", "Result",
    "Stage", "Stop", "Verdict", "__version__", "describe_result", "instance_from_dict", "load_hf_config",
    "load_instance", "model_from_hf_config", "pareto", "plot_convergence", "plot_placement", "run_sweep", "solve",
    "verify",
]

if TYPE_CHECKING:
    from colgen.api import solve
    from colgen.bnp.options import BnpOptions
    from colgen.check.brute import BruteOptions
    from colgen.check.verify import Verdict, verify
    from colgen.errors import ColgenError, InputError
    from colgen.ilp.solver import IlpOptions
    from colgen.model.hf import load_hf_config, model_from_hf_config
    from colgen.model.instance import Instance, instance_from_dict, load_instance
    from colgen.report.plot import plot_convergence, plot_placement
    from colgen.report.text import describe_result
    from colgen.result import Placement, Result, Stage
    from colgen.stop import Stop
    from colgen.sweep import run_sweep


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colgen' has no attribute '{name}'")
