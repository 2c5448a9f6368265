"""One entry point for every method; every placement is checked by the verifier before it leaves."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from colgen.check.brute import solve_brute
from colgen.errors import ColgenError, InputError
from colgen.model.instance import Instance
from colgen.stop import catch_interrupts
from colgen.space.pruning import RULES, parse_rules, smaller_k
from colgen.result import Result
from colgen.check.verify import verify

METHODS = ("brute", "ilp", "bnp")


class VerificationError(ColgenError):
    """A solver returned a placement the independent verifier rejects: a bug in colgen."""


def solve(instance: Instance, method: str = "bnp", *, time_limit: float | None = None, gap: float = 0.0,
          backend: str = "auto", formulation: str = "compact", verbose: bool = False,
          prune: str | list[str] | None = None, log: Callable[[str], None] | None = None,
          **options: Any) -> Result:
    """Solve ``instance`` with ``method`` and return a verified :class:`Result`.

    A time limit or Ctrl-C ends the search early with the best placement and bound found so far.
    ``prune`` (colgen/pruning.py): ``none``, ``safe`` or rule names; default ``safe`` for bnp and
    ``none`` for the full ILP. With a heuristic rule the status is ``heuristic`` and the bound of
    the restricted problem is reported as ``statistics["restricted_bound"]`` only (and how its
    search ended as ``statistics["restricted_status"]``).
    """
    if method not in METHODS:
        raise InputError("method", f"unknown method '{method}'", f"use one of {', '.join(METHODS)}")
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit", f"{time_limit} is not a positive number of seconds")
    if not 0 <= gap < 1:
        raise InputError("gap", f"{gap} is not a relative gap in [0, 1)")
    if isinstance(prune, str) or prune is None:
        rules = parse_rules(prune if prune is not None else ("safe" if method == "bnp" else "none"))
    else:
        rules = parse_rules(",".join(prune) or "none")
    if method == "brute" and rules:
        raise InputError("--prune", "brute force enumerates everything", "use --prune none with brute")
    if method == "bnp" and "hierarchical" in rules:
        raise InputError("--prune", "the hierarchical rule applies to the full ILP only",
                         "use it with --method ilp")
    t0 = time.perf_counter()
    with catch_interrupts():
        if method == "brute":
            result = solve_brute(instance, time_limit=time_limit)
        elif method == "bnp":
            from colgen.bnp.search import solve_bnp

            # dominance and bound are inherent in the threshold search (only allocations faster
            # than the target are ever priced), so they change nothing here.
            restricted = smaller_k(instance) if "smaller-k" in rules else instance
            result = solve_bnp(restricted, time_limit=time_limit, gap=gap, backend=backend, log=log,
                               symmetry="symmetry" in rules, single_type="same-type" in rules, **options)
        else:
            from colgen.ilp.model import solve_ilp

            result = solve_ilp(instance, formulation, backend=backend, time_limit=time_limit, gap=gap,
                               verbose=verbose, log=log, prune=rules, **options)
    result.timings["total"] = time.perf_counter() - t0
    result.statistics["prune"] = rules
    if any(not RULES[r].safe for r in rules) and result.placement:
        result.statistics["restricted_bound"] = result.bound
        result.statistics["restricted_status"] = result.status
        result.status, result.bound = "heuristic", None
    check(instance, result)
    return result


def check(instance: Instance, result: Result) -> None:
    """Run the verifier on a result that holds a placement; raise on any violation."""
    if not result.placement:
        return
    verdict = verify(instance, result)
    if not verdict.ok:
        raise VerificationError(
            f"{result.method} returned a placement the verifier rejects: " + "; ".join(verdict.violations))
    result.statistics["verified"] = True
