"""Options of branch-and-price: what a user chooses, and the engine's tuning, in one object.

Every budget is deterministic (nodes, columns, attempts): within the run's time limit a result does
not depend on how busy the machine is.
"""

from __future__ import annotations

from dataclasses import dataclass

from colgen.model.costs import CostOptions


@dataclass(frozen=True)
class BnpOptions(CostOptions):
    """Options of method ``bnp`` (with the cost options ``objective``, ``budget`` and
    ``min_throughput`` of colgen/model/costs.py).

    ``prune``: ``safe`` (default: GPUs grouped into interchangeable classes), ``none`` (every GPU
    a class of its own, for ablations) or rule names (colgen/space/pruning.py); the heuristic rules
    ``same-type`` and ``smaller-k`` restrict the search and make the status ``heuristic``.
    ``configurations``: decide thresholds where no link can bind by the configuration ILP
    (colgen/bnp/configurations.py); False sends every threshold through branch-and-price.
    ``network_checks``: where links bind, try the component bound (colgen/bnp/components.py), the
    stage walk (colgen/bnp/stage_walk.py) and the group-path heuristic (colgen/bnp/group_path.py)
    before branch-and-price (False: ablation).
    """

    prune: str | tuple[str, ...] = "safe"
    configurations: bool = True
    network_checks: bool = True
    near_symmetry: float = 0.1
    """Where links bind and groups of GPUs differ by less than this (relative), searches on the
    network rounded down and up to near classes (colgen/space/near_symmetry.py), their placements
    relabelled on the real network, give incumbents; 0: off."""
    # ---- tuning
    columns_per_round: int = 64        #: columns added per pricing round (best first)
    node_budget: int = 64              #: first node budget of a tree in the integer phase (grows 4x)
    heuristic_every: int = 16          #: tree nodes between runs of the pool MIP
    pool_mip_nodes: int = 500          #: branch-and-bound nodes of one pool MIP
    multistart: int = 40               #: randomized greedy attempts per ladder target
    path_nodes: int = 20_000           #: depth-first nodes of one group-path search
    ladder: tuple[float, ...] = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
    """Relative steps below the bound at which the ladder looks for incumbents."""
    walk_nodes: int = 50_000           #: search nodes of one stage walk (colgen/bnp/stage_walk.py)
    near_nodes: int = 1000             #: tree nodes of each search on a rounded network
    row_age: int = 200                 #: master solves after which a star row without dual is dropped
    feasibility_eps: float = 1e-6      #: a phase-1 objective at or below this is "feasible"
    price_eps: float = 1e-7            #: a column must improve the LP by more than this

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("columns_per_round", "node_budget", "heuristic_every", "pool_mip_nodes", "near_nodes",
                     "walk_nodes"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"BnpOptions.{name} must be a positive integer")
        if not 0 <= self.near_symmetry < 1:
            raise ValueError("BnpOptions.near_symmetry must be a relative tolerance in [0, 1)")
