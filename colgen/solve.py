"""One entry point for every method; every placement is checked by the verifier before it leaves."""

from __future__ import annotations

import time
from typing import Any

from colgen.brute import solve_brute
from colgen.errors import ColgenError, InputError
from colgen.instance import Instance
from colgen.result import Result
from colgen.verify import verify

METHODS = ("brute",)


class VerificationError(ColgenError):
    """A solver returned a placement the independent verifier rejects: a bug in colgen."""


def solve(instance: Instance, method: str = "brute", *, time_limit: float | None = None,
          **options: Any) -> Result:
    """Solve ``instance`` with ``method`` and return a verified :class:`Result`."""
    if method not in METHODS:
        raise InputError("method", f"unknown method '{method}'", f"use one of {', '.join(METHODS)}")
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit", f"{time_limit} is not a positive number of seconds")
    t0 = time.perf_counter()
    result = solve_brute(instance, time_limit=time_limit, **options)
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
