"""One entry point for every method; every placement is checked by the verifier before it leaves.

:func:`solve` takes the options common to all methods (time limit, gap, backend, log) as keywords
and the method's own options as an options object (:class:`BnpOptions`, :class:`IlpOptions`,
:class:`BruteOptions`) or as keywords naming its fields; an option the method does not have is an
:class:`~colgen.errors.InputError` naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from colgen.backends import check_backend_name
from colgen.bnp.options import BnpOptions
from colgen.bnp.search import solve_bnp
from colgen.check.brute import BruteOptions, solve_brute
from colgen.check.verify import verify, verify_frontier
from colgen.choices import METHODS
from colgen.errors import InputError, VerificationError
from colgen.ilp.solver import IlpOptions, solve_ilp
from colgen.model.instance import Instance
from colgen.progress import Log, as_log
from colgen.result import Result
from colgen.space.feasibility import why_infeasible
from colgen.space.pruning import RULES, parse_rules
from colgen.stop import Stop, Stopped, catch_signals

__all__ = ["VerificationError", "check", "method_options", "pareto", "same_type_segments", "solve"]

Options = BnpOptions | IlpOptions | BruteOptions
OPTIONS: dict[str, type] = {"bnp": BnpOptions, "ilp": IlpOptions, "brute": BruteOptions}


def method_options(method: str, options: Options | None = None, **fields: Any) -> Options:
    """The options object of ``method``: ``options`` (or its defaults) updated with ``fields``."""
    if method not in METHODS:
        raise InputError("method", f"unknown method '{method}'", f"use one of {', '.join(METHODS)}")
    kind = OPTIONS[method]
    if options is not None and not isinstance(options, kind):
        raise InputError("options", f"{type(options).__name__} given for method '{method}'",
                         f"pass {kind.__name__}(...)")
    known = {f.name for f in dataclasses.fields(kind)}
    for name in fields:
        if name not in known:
            owners = [m for m, k in OPTIONS.items() if name in {f.name for f in dataclasses.fields(k)}]
            where = f" (an option of {', '.join(owners)})" if owners else ""
            raise InputError(name, f"is not an option of method '{method}'{where}",
                             f"options of {method}: {', '.join(sorted(known)) or 'none'}")
    try:
        return dataclasses.replace(options or kind(), **fields)
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("options", str(exc)) from None


def solve(instance: Instance, method: str = "bnp", *, time_limit: float | None = None, gap: float = 0.0,
          backend: str = "auto", log: Log | Callable[[str], None] | None = None,
          options: Options | None = None, **fields: Any) -> Result:
    """Solve ``instance`` with ``method`` and return a verified :class:`Result`.

    ``time_limit`` (seconds) holds for the whole run; it, Ctrl-C and SIGTERM end the search early
    with the best placement and bound found so far. With a heuristic pruning rule the status is
    ``heuristic`` and the bound of the restricted problem is reported as
    ``statistics["restricted_bound"]`` only (how its search ended as ``statistics["restricted_status"]``).

    >>> from colgen import load_instance, solve
    >>> r = solve(load_instance("instances/seed-tiny.json"), "bnp", time_limit=60)
    >>> r.status, r.gap
    ('optimal', 0.0)
    """
    stop = Stop(time_limit)
    opts = method_options(method, options, **fields)
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit", f"{time_limit} is not a positive number of seconds")
    if not 0 <= gap < 1:
        raise InputError("gap", f"{gap} is not a relative gap in [0, 1)")
    check_backend_name(backend)
    rules = parse_rules(getattr(opts, "prune", "none"))
    if method == "bnp" and "hierarchical" in rules:
        raise InputError("--prune", "the hierarchical rule applies to the full ILP only", "use it with --method ilp")
    say = as_log(log)
    with catch_signals():
        if method == "brute":
            result = solve_brute(instance, opts, stop=stop, log=say)
        elif method == "bnp":
            result = solve_bnp(instance, opts, stop=stop, gap=gap, backend=backend, log=say)
        else:
            segments = same_type_segments(instance, stop, backend) if "hierarchical" in rules else None
            result = solve_ilp(instance, opts, stop=stop, gap=gap, backend=backend, log=say, segments=segments)
    result.timings["total"] = stop.elapsed()
    result.statistics["prune"] = rules
    result.options = {"method": method, "time_limit": time_limit, "gap": gap, "backend": backend,
                      **{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(opts).items()}}
    result.statistics["gap_limit"] = gap
    if any(not RULES[r].safe for r in rules) and result.placement:
        result.statistics["restricted_bound"] = result.bound
        result.statistics["restricted_status"] = result.status
        result.status, result.bound = "heuristic", None
    last = {"time_s": result.timings["total"], "incumbent": result.objective, "bound": result.bound}
    if not result.trace or result.trace[-1] != last:
        result.trace.append(last)       # every trace ends with what the result says, at the end of the run
    if result.status == "infeasible":
        reason = why_infeasible(instance)
        if reason:
            result.statistics["infeasible_because"] = reason
    check(instance, result)
    return result


def pareto(instance: Instance, method: str = "bnp", *, time_limit: float | None = None, backend: str = "auto",
           log: Log | Callable[[str], None] | None = None, options: Options | None = None,
           **fields: Any) -> dict[str, Any]:
    """Every non-dominated (throughput, USD per hour) placement, exact, each one verified: the JSON
    report of ``colgen pareto`` (``points`` in increasing throughput, each with ``throughput``,
    ``cost_per_hour``, ``usd_per_million_tokens`` and ``allocations``; ``status`` optimal when the
    frontier is complete). The instance's limits (its costs block, and ``budget`` or
    ``min_throughput`` among the options) hold for every point; ``objective`` is not used.

    >>> from colgen import load_instance, pareto
    >>> report = pareto(load_instance("instances/seed-demo-priced.json"), "bnp")
    >>> report["status"], len(report["points"]) > 1
    ('optimal', True)
    >>> [round(p["cost_per_hour"], 2) for p in report["points"]][:3]
    [2.02, 3.03, 4.04]
    """
    from colgen.bnp.search import BnpCosts
    from colgen.check.brute import BruteCosts
    from colgen.goals import Frontier, frontier_report
    from colgen.goals import pareto as walk
    from colgen.ilp.solver import IlpCosts
    from colgen.model.costs import Goal, require_prices

    stop = Stop(time_limit)
    opts = method_options(method, options, **fields)
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit", f"{time_limit} is not a positive number of seconds")
    check_backend_name(backend)
    say = as_log(log)
    require_prices(instance, "the frontier of throughput against cost")
    goal = Goal.of(instance, "cost", opts.budget, opts.min_throughput)
    name = method if method != "ilp" else f"ilp-{opts.formulation}"
    with catch_signals():
        try:
            if method == "brute":
                engine = BruteCosts(instance, opts, stop, say)
            elif method == "bnp":
                engine = BnpCosts(instance, opts, stop=stop, backend=backend, log=say)
            else:
                engine = IlpCosts(instance, opts, stop=stop, backend=backend, log=say)
            frontier = walk(instance, goal, engine)
            frontier.statistics.update(engine.statistics())
        except Stopped as why:
            frontier = Frontier([], why.reason)
    report = frontier_report(instance, frontier, name, goal)
    violations = verify_frontier(instance, report)
    if violations:
        raise VerificationError(f"{name} returned a frontier the verifier rejects: " + "; ".join(violations))
    report["statistics"]["verified"] = True
    report["timings"] = {"total": stop.elapsed()}
    report["options"] = {"method": method, "time_limit": time_limit, "backend": backend,
                         **{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(opts).items()}}
    return report


def same_type_segments(instance: Instance, stop: Stop, backend: str = "auto") -> set[tuple[int, int]]:
    """The segments of the same-type optimum (branch-and-price on single-type stages): what the
    hierarchical rule keeps before the full ILP chooses GPU sets again on exactly those segments."""
    first = solve_bnp(instance, BnpOptions(prune="symmetry,same-type"), stop=stop, backend=backend)
    return {(s.start_layer, s.end_layer) for s in first.placement}


def check(instance: Instance, result: Result) -> None:
    """Run the verifier on a result that holds a placement; raise on any violation."""
    if not result.placement:
        return
    verdict = verify(instance, result)
    if not verdict.ok:
        raise VerificationError(
            f"{result.method} returned a placement the verifier rejects: " + "; ".join(verdict.violations))
    result.statistics["verified"] = True
