"""The allocation space with GPUs grouped into interchangeable classes.

Every engine that counts GPUs per class instead of naming them reads this: stage throughput per
(layers, GPU count, class), eligibility of a class at a target throughput, the candidate values
the optimum can take, and the connected components of the link graph at a target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from colgen.model.costs import LIMIT_RTOL
from colgen.model.spec import StageLimits
from colgen.model.tables import Shapes, Tables
from colgen.result import Stage
from colgen.space.bounds import fluid_upper_bound
from colgen.space.classes import GpuClasses, for_prices, for_tensor_parallel, gpu_classes, singleton_classes


@dataclass(frozen=True)
class ClassSpace:
    """The allocation space with GPUs grouped into interchangeable classes. Stage shapes (replicas
    x tensor-parallel degree) are ``tab.shapes``; stage limits (layers per stage, number of stages)
    come from the instance."""

    tab: Tables
    classes: GpuClasses
    upper: float
    single_type: bool = False    # the heuristic "same-type" rule: stages of one GPU type only
    limits: StageLimits = field(default_factory=StageLimits)
    price: np.ndarray | None = None
    """USD per hour of one GPU of each class (classes are split by price), None when cost is not counted."""
    budget: float | None = None
    """Most USD per hour of a placement (its GPUs' prices), None without a budget."""

    def cost(self, counts: np.ndarray) -> np.ndarray | float:
        """USD per hour of GPU counts per class (``[..., C]``); 0 when cost is not counted."""
        if self.price is None:
            return np.zeros(np.shape(counts)[:-1]) if np.ndim(counts) > 1 else 0.0
        return np.asarray(counts) @ self.price

    def placement_cost(self, placement: tuple[Stage, ...]) -> float:
        """USD per hour of a placement, from its GPU counts per class (0 when cost is not counted)."""
        gpus = [g for s in placement for g in s.gpu_ids]
        return float(self.cost(np.bincount(self.classes.of[gpus], minlength=self.num_classes)))

    def within_budget(self, cost: float) -> bool:
        return self.budget is None or cost <= self.budget * (1 + LIMIT_RTOL)

    @property
    def shapes(self) -> Shapes:
        return self.tab.shapes

    @property
    def num_shapes(self) -> int:
        return self.tab.shapes.count

    def type_groups(self) -> list[np.ndarray]:
        """Class masks within which a stage must stay: one per type under ``single_type``."""
        if not self.single_type:
            return [np.ones(self.num_classes, dtype=bool)]
        return [self.classes.type == t for t in np.unique(self.classes.type)]

    @property
    def num_layers(self) -> int:
        return self.tab.num_layers

    @property
    def max_k(self) -> int:
        return min(self.tab.max_k, self.tab.num_gpus)

    @property
    def num_classes(self) -> int:
        return self.classes.count

    @cached_property
    def _class_tau(self) -> np.ndarray:
        tab, cls = self.tab, self.classes
        t = cls.type
        out = np.where(tab.fits[:, :, t], tab.tau[:, :, t], 0.0)
        sh = tab.shapes
        for s in np.nonzero(sh.t > 1)[0]:
            for c in range(cls.count):
                ok = cls.per_node is not None and sh.t[s] <= cls.per_node[c] and bool(tab.fits[1, s, t[c]])
                out[1:, s, c] = (np.where(tab.fits[1:, s, t[c]], tab.tau_with(np.arange(1, tab.num_layers + 1),
                                                                          int(s), int(t[c]), cls.tp_gbps[c]), 0.0)
                                 if ok else 0.0)
        lengths = np.arange(tab.num_layers + 1)
        allowed = (lengths >= self.limits.min_layers) & (
            lengths <= (self.limits.max_layers if self.limits.max_layers is not None else tab.num_layers))
        out[~allowed] = 0.0
        out.setflags(write=False)
        return out

    def class_tau(self) -> np.ndarray:
        """``[L, s, c]`` throughput of a stage of shape s whose slowest class is c (0 where c lacks
        memory, cannot form the shape's groups, or L is outside the stage limits)."""
        return self._class_tau

    def eligible(self, T: float) -> np.ndarray:
        """``[L, s, c]``: may class c serve a stage of L layers and shape s at throughput >= T?

        Besides throughput and memory: in a pipeline of two or more stages, every class used is
        joined to the others through links of throughput >= T (consecutive stages link every pair),
        so all of them lie in one connected component of that link graph. A component whose GPUs
        cannot reach T even in the fluid relaxation serves no stage shorter than the whole model.
        """
        el = self.class_tau() >= T
        el[:, self.shapes.k > self.max_k, :] = False
        el[0] = False
        el[:, 0] = False
        for comp in self.components(T):
            counts = np.zeros(self.tab.tau.shape[2], dtype=np.int64)
            np.add.at(counts, self.classes.type[comp], self.classes.sizes[comp])
            if fluid_upper_bound(self.tab, counts) < T:
                el[:self.num_layers, :, comp] = False
        return el

    def components(self, T: float) -> list[np.ndarray]:
        """Connected components of the classes under links (either direction) of throughput >= T."""
        adj = (self.classes.rho >= T) | (self.classes.rho >= T).T
        n_comp, label = connected_components(sp.csr_matrix(adj), directed=False)
        return [np.nonzero(label == i)[0] for i in range(n_comp)]

    def column_tau(self, length: np.ndarray, shape: np.ndarray, counts: np.ndarray) -> np.ndarray:
        ct = self.class_tau()[length, shape]                   # [columns, C]
        return np.where(counts > 0, ct, np.inf).min(axis=1)

    def candidates(self) -> np.ndarray:
        """Every value the optimum can take (a stage or a link throughput), ascending, <= upper."""
        ct = self.class_tau()[1:, 1:][:, self.shapes.k[1:] <= self.max_k]
        values = [ct[ct > 0].ravel(), self.classes.rho[np.isfinite(self.classes.rho)].ravel()]
        v = np.unique(np.concatenate(values))
        return v[(v > 0) & (v <= self.upper)]


def class_space(tab: Tables, symmetry: bool = True, single_type: bool = False,
                limits: StageLimits | None = None, prices: np.ndarray | None = None,
                budget: float | None = None) -> ClassSpace:
    """The class space of an instance; ``symmetry=False`` keeps every GPU a class of its own.
    ``prices`` (USD per hour, per GPU): count cost (classes split by price); ``budget``: most USD
    per hour of a placement."""
    U = fluid_upper_bound(tab)
    if symmetry:
        classes = gpu_classes(tab, U)
    elif tab.shapes.tensor_parallel:   # the finest classes that keep a node's GPUs of one type together
        classes = gpu_classes(tab, np.inf)
    else:
        classes = singleton_classes(tab)
    if tab.shapes.tensor_parallel:
        classes = for_tensor_parallel(classes, tab, tuple(int(t) for t in np.unique(tab.shapes.t[1:])))
    price = None
    if prices is not None:
        classes, price = for_prices(classes, np.asarray(prices, dtype=float))
    elif budget is not None:
        raise ValueError("a budget needs prices")
    return ClassSpace(tab=tab, classes=classes, upper=U, single_type=single_type, limits=limits or StageLimits(),
                      price=price, budget=budget)
