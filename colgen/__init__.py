"""colgen: exact placement of LLM layers on heterogeneous GPU clusters.

Data flows one way: instance -> allocation space -> engine -> placement -> verifier -> report.
The public API::

    from colgen import load_instance, solve, verify
    inst = load_instance("instances/seed-demo.json")
    result = solve(inst, "bnp", time_limit=60)
    assert verify(inst, result).ok

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
    "instance_from_dict": "colgen.model.instance",
    "load_instance": "colgen.model.instance",
    "solve": "colgen.api",
    "verify": "colgen.check.verify",
}

__all__ = [
    "BnpOptions", "BruteOptions", "ColgenError", "IlpOptions", "InputError", "Instance", "Placement", "Result",
    "Stage", "Stop", "Verdict", "__version__", "instance_from_dict", "load_instance", "solve", "verify",
]

if TYPE_CHECKING:
    from colgen.api import solve
    from colgen.bnp.options import BnpOptions
    from colgen.check.brute import BruteOptions
    from colgen.check.verify import Verdict, verify
    from colgen.errors import ColgenError, InputError
    from colgen.ilp.solver import IlpOptions
    from colgen.model.instance import Instance, instance_from_dict, load_instance
    from colgen.result import Placement, Result, Stage
    from colgen.stop import Stop


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colgen' has no attribute '{name}'")
