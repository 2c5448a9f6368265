"""One entry point for every method; every placement is checked by the verifier before it leaves."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from colgen.brute import solve_brute
from colgen.errors import ColgenError, InputError
from colgen.instance import Instance
from colgen.interrupt import catch_interrupts
from colgen.result import Result
from colgen.verify import verify

METHODS = ("brute", "ilp", "bnp")


class VerificationError(ColgenError):
    """A solver returned a placement the independent verifier rejects: a bug in colgen."""


def solve(instance: Instance, method: str = "bnp", *, time_limit: float | None = None, gap: float = 0.0,
          backend: str = "auto", formulation: str = "compact", verbose: bool = False,
          log: Callable[[str], None] | None = None, **options: Any) -> Result:
    """Solve ``instance`` with ``method`` and return a verified :class:`Result`.

    A time limit or Ctrl-C ends the search early with the best placement and bound found so far.
    """
    if method not in METHODS:
        raise InputError("method", f"unknown method '{method}'", f"use one of {', '.join(METHODS)}")
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit", f"{time_limit} is not a positive number of seconds")
    if not 0 <= gap < 1:
        raise InputError("gap", f"{gap} is not a relative gap in [0, 1)")
    t0 = time.perf_counter()
    with catch_interrupts():
        if method == "brute":
            result = solve_brute(instance, time_limit=time_limit)
        elif method == "bnp":
            from colgen.bnp import solve_bnp

            result = solve_bnp(instance, time_limit=time_limit, gap=gap, backend=backend, log=log, **options)
        else:
            from colgen.ilp import solve_ilp

            result = solve_ilp(instance, formulation, backend=backend, time_limit=time_limit, gap=gap,
                               verbose=verbose, log=log, **options)
    result.timings["total"] = time.perf_counter() - t0
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
