"""colgen: exact placement of LLM layers on heterogeneous GPU clusters.

Data flows one way: instance -> (pruned) allocation space -> solver -> placement -> verifier ->
report. The public API::

    from colgen import load_instance, solve, verify
    inst = load_instance("instances/seed-demo.json")
    result = solve(inst, method="bnp")
    assert verify(inst, result).ok
"""

from colgen.errors import ColgenError, InputError
from colgen.model.instance import Instance, instance_from_dict, load_instance
from colgen.result import Placement, Result, Stage
from colgen.check.verify import Verdict, verify

__all__ = [
    "ColgenError",
    "InputError",
    "Instance",
    "Placement",
    "Result",
    "Stage",
    "Verdict",
    "instance_from_dict",
    "load_instance",
    "verify",
]
