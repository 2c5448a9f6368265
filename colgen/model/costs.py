"""What a placement costs and what a solve optimizes: the formulas every engine and the report use.

* **Cost per hour** (USD/h) of a placement: with ``costs.charge`` = ``used`` (rented GPUs, the
  default) the sum of ``price_per_hour`` over the GPUs of its stages; with ``all`` (an owned
  cluster) the sum over every GPU of the cluster, a constant.
* **USD per million tokens**: ``cost_per_hour / (3600 * throughput) * 1e6``.
* **A job** of ``job_tokens`` tokens runs ``job_tokens / (3600 * throughput)`` hours and costs
  ``cost_per_hour`` times that.

A :class:`Goal` is what one solve optimizes: an objective (``throughput``, ``cost`` or
``cost-per-token``) and the limits every placement must meet, gathered from the method's options
(``budget``, ``min_throughput``) and from the instance's ``costs`` block: a budget in USD per hour,
a least throughput (also a job's deadline: ``job_tokens / (3600 * job_max_hours)``), and a cap on
USD per token (``max_usd_per_million_tokens / 1e6``, and a job's budget ``job_max_usd /
job_tokens``). The independent verifier (colgen/check/verify.py) recomputes all of this its own way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from colgen.choices import OBJECTIVES
from colgen.errors import InputError

if TYPE_CHECKING:
    from colgen.model.instance import Instance

#: Seconds per hour: prices are per hour, throughputs per second.
HOUR_S = 3600.0
#: Relative slack when a cost or throughput is compared with a limit (sums of prices in floating point).
LIMIT_RTOL = 1e-9


def missing_price(instance: Instance) -> str | None:
    """Where the first price is missing (``gpu_types.T.price_per_hour``), None when every GPU has one."""
    for g in instance.gpus:
        if g.price_per_hour is None:
            return f"gpu_types.{g.type}.price_per_hour"
    return None


def require_prices(instance: Instance, why: str) -> np.ndarray:
    """The price of every GPU (USD per hour, by id); an :class:`InputError` naming the missing one."""
    where = missing_price(instance)
    if where is not None:
        gpu = next(g for g in instance.gpus if g.price_per_hour is None)
        raise InputError(where, f"missing: GPU {gpu.id} ({gpu.type}) has no price, and {why} needs one for every GPU",
                         f"give gpu_types.{gpu.type}.price_per_hour (USD per GPU-hour) or "
                         "cluster.gpus[i].price_per_hour")
    return np.array([g.price_per_hour for g in instance.gpus], dtype=float)


def cost_per_hour(instance: Instance, gpu_ids: Iterable[int]) -> float | None:
    """USD per hour of a placement using ``gpu_ids`` (None when the instance is not priced)."""
    if missing_price(instance) is not None:
        return None
    if instance.costs.charge == "all":
        return float(math.fsum(g.price_per_hour for g in instance.gpus))
    return float(math.fsum(instance.gpus[g].price_per_hour for g in set(gpu_ids)))


def usd_per_million_tokens(cost: float | None, throughput: float | None) -> float | None:
    """``cost / (3600 * throughput) * 1e6`` (None without a cost or a positive throughput)."""
    if cost is None or throughput is None or not throughput > 0:
        return None
    return cost / (HOUR_S * throughput) * 1e6


def job_hours(tokens: float, throughput: float) -> float:
    """Hours a job of ``tokens`` tokens takes at ``throughput`` tokens/s."""
    return tokens / (HOUR_S * throughput)


@dataclass(frozen=True, kw_only=True)
class CostOptions:
    """The options every method shares for cost-aware placement.

    ``objective``: ``throughput`` (maximize it, the default), ``cost`` (the cheapest placement; with
    ``min_throughput`` the cheapest reaching it) or ``cost-per-token`` (least USD per million
    tokens). ``budget``: most USD per hour. ``min_throughput``: least tokens/s. Both add to the
    instance's own limits (its ``costs`` block); the tighter one holds."""

    objective: str = "throughput"
    budget: float | None = None
    min_throughput: float | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise InputError("objective", f"unknown objective '{self.objective}'",
                             f"use one of {', '.join(OBJECTIVES)}")
        for name, least in (("budget", 0.0), ("min_throughput", None)):
            v = getattr(self, name)
            if v is None:
                continue
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or v < 0 or (least is None and v == 0):
                what = "USD per hour >= 0" if name == "budget" else "tokens/s > 0"
                raise InputError(name, f"{v!r} is not a finite number of {what}")


@dataclass(frozen=True)
class Goal:
    """What one solve optimizes (see the module docstring). Limits are None when absent;
    ``max_usd_per_token`` caps ``cost_per_hour / (3600 * throughput)``. ``sources`` names where each
    limit came from (for messages)."""

    objective: str = "throughput"
    max_usd_per_hour: float | None = None
    min_throughput: float | None = None
    max_usd_per_token: float | None = None
    charge: str = "used"
    sources: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, instance: Instance, objective: str = "throughput", budget: float | None = None,
           min_throughput: float | None = None) -> Goal:
        """The goal of a solve: the options' objective and limits with the instance's own ones.
        Raises :class:`InputError` naming the missing price when the goal needs prices."""
        c = instance.costs
        sources: dict[str, str] = {}

        def tighter(name: str, pairs: list[tuple[float | None, str]], pick: type[min] | type[max]) -> float | None:
            given = [(v, src) for v, src in pairs if v is not None]
            if not given:
                return None
            value, src = pick(given, key=lambda p: p[0])
            sources[name] = src
            return float(value)

        deadline = None
        if c.job_tokens is not None and c.job_max_hours is not None:
            deadline = c.job_tokens / (HOUR_S * c.job_max_hours)
        per_token = None
        if c.max_usd_per_million_tokens is not None:
            per_token = c.max_usd_per_million_tokens / 1e6
        job_cap = c.job_max_usd / c.job_tokens if c.job_tokens is not None and c.job_max_usd is not None else None
        goal = cls(
            objective=objective,
            max_usd_per_hour=tighter("max_usd_per_hour", [(budget, "--budget"),
                                                          (c.max_usd_per_hour, "costs.max_usd_per_hour")], min),
            min_throughput=tighter("min_throughput", [(min_throughput, "--min-throughput"),
                                                      (deadline, "costs.job_max_hours")], max),
            max_usd_per_token=tighter("max_usd_per_token", [(per_token, "costs.max_usd_per_million_tokens"),
                                                            (job_cap, "costs.job_max_usd")], min),
            charge=c.charge,
            sources=tuple(sorted(sources.items())),
        )
        if goal.needs_prices:
            why = (f"the objective '{objective}'" if objective != "throughput"
                   else f"the budget ({next(s for n, s in goal.sources if n != 'min_throughput')})")
            require_prices(instance, why)
        return goal

    @property
    def needs_prices(self) -> bool:
        return (self.objective != "throughput" or self.max_usd_per_hour is not None
                or self.max_usd_per_token is not None)

    @property
    def plain(self) -> bool:
        """Today's problem: maximize throughput, no limits."""
        return self.objective == "throughput" and self.min_throughput is None and not self.needs_prices

    def source(self, name: str) -> str:
        return dict(self.sources).get(name, name)

    def broken(self, throughput: float, cost: float | None) -> list[str]:
        """The limits a placement of this throughput and cost breaks, in words (empty: none)."""
        out = []
        if self.min_throughput is not None and throughput < self.min_throughput * (1 - LIMIT_RTOL):
            out.append(f"throughput {throughput:.6g} tokens/s is below {self.min_throughput:.6g} "
                       f"({self.source('min_throughput')})")
        if cost is not None and self.max_usd_per_hour is not None and cost > self.max_usd_per_hour * (1 + LIMIT_RTOL):
            out.append(f"USD {cost:.6g} per hour is above {self.max_usd_per_hour:.6g} "
                       f"({self.source('max_usd_per_hour')})")
        if cost is not None and self.max_usd_per_token is not None:
            per_token = cost / (HOUR_S * throughput)
            if per_token > self.max_usd_per_token * (1 + LIMIT_RTOL):
                out.append(f"USD {per_token * 1e6:.6g} per million tokens is above {self.max_usd_per_token * 1e6:.6g} "
                           f"({self.source('max_usd_per_token')})")
        return out

    def meets(self, throughput: float, cost: float | None) -> bool:
        return not self.broken(throughput, cost)

    def value(self, throughput: float, cost: float) -> float:
        """The objective's value of a placement: tokens/s, USD/h or USD per million tokens."""
        if self.objective == "throughput":
            return throughput
        if self.objective == "cost":
            return cost
        return cost / (HOUR_S * throughput) * 1e6

    @property
    def minimize(self) -> bool:
        return self.objective != "throughput"

    def to_dict(self) -> dict[str, object]:
        return {"objective": self.objective, "max_usd_per_hour": self.max_usd_per_hour,
                "min_throughput": self.min_throughput,
                "max_usd_per_million_tokens": None if self.max_usd_per_token is None else self.max_usd_per_token * 1e6,
                "charge": self.charge, "sources": dict(self.sources)}
