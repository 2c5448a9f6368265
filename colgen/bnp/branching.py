"""Branching: decisions that split a node, and the rules that choose them.

Every decision is about the unique stage covering one layer (or the boundary after it), so it can
be enforced twice, exactly: on the pool (:meth:`Decision.allows` masks the columns that violate
it) and in pricing (:meth:`Decision.restrict` writes it into :class:`Restrictions`, the arrays the
pricing kernel reads). A :class:`BranchingRule` looks at the LP solution of a node and returns two
complementary decisions (most promising child first) or None when its quantity is integral.

The default order (:data:`DEFAULT_RULES`): where star rows exist (links bind), first whether the
stage covering layer l uses class c, over all layers; then a boundary after l; then, stage by stage
front to back, the shape of the stage (GPU count, tensor-parallel degree), whether it uses class c, how many GPUs of
c it uses. Once all
are integral every segment is fixed, all its columns have the same k and use the same classes, and
their averaged class counts are integral: :func:`integral_stages` reads the placement off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: Integrality tolerance of branching quantities.
INT_EPS = 1e-6


@dataclass
class Restrictions:
    """Branching decisions as the pricing kernel reads them (layers 1-based, index 0 unused).

    ``no_end[l]``: no stage ends at l (and none starts at l+1); ``cut[l]``: a stage boundary after
    l is forced; ``smask[l, s]``: whether the stage covering l may have shape s;
    ``lo[l, c]``, ``hi[l, c]``: least and most GPUs of class c in the stage covering l."""

    no_end: np.ndarray
    cut: np.ndarray
    smask: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def none(cls, M: int, avail: np.ndarray, num_shapes: int) -> Restrictions:
        return cls(no_end=np.zeros(M + 1, dtype=bool), cut=np.zeros(M + 1, dtype=bool),
                   smask=np.ones((M + 1, num_shapes + 1), dtype=bool),
                   lo=np.zeros((M + 1, len(avail)), dtype=np.int64),
                   hi=np.tile(np.asarray(avail, dtype=np.int64), (M + 1, 1)))

    @classmethod
    def of(cls, decisions: list[Decision], M: int, avail: np.ndarray, num_shapes: int) -> Restrictions:
        r = cls.none(M, avail, num_shapes)
        for d in decisions:
            d.restrict(r)
        return r


class Columns(Protocol):
    """What decisions read of the column pool: arrays over its columns."""

    def view(self, name: str) -> np.ndarray: ...


class Decision(Protocol):
    layer: int

    def allows(self, pool: Columns) -> np.ndarray:
        """Boolean mask of the pool columns compatible with this decision."""
        ...

    def restrict(self, r: Restrictions) -> None:
        """Write this decision into the pricing restrictions."""
        ...


def _covers(pool: Columns, layer: int) -> np.ndarray:
    return (pool.view("start") <= layer) & (pool.view("end") >= layer)


@dataclass(frozen=True)
class Cut:
    """A stage boundary after ``layer``."""

    layer: int

    def allows(self, pool: Columns) -> np.ndarray:
        return ~((pool.view("start") <= self.layer) & (pool.view("end") > self.layer))

    def restrict(self, r: Restrictions) -> None:
        r.cut[self.layer] = True


@dataclass(frozen=True)
class Join:
    """No stage boundary after ``layer``."""

    layer: int

    def allows(self, pool: Columns) -> np.ndarray:
        return (pool.view("end") != self.layer) & (pool.view("start") != self.layer + 1)

    def restrict(self, r: Restrictions) -> None:
        r.no_end[self.layer] = True


@dataclass(frozen=True)
class ShapeIs:
    """The stage covering ``layer`` has shape ``shape`` (``equal``: its replicas and tensor-parallel
    degree) or any other shape (not ``equal``)."""

    layer: int
    shape: int
    equal: bool = True

    def allows(self, pool: Columns) -> np.ndarray:
        same = pool.view("shape") == self.shape
        return ~_covers(pool, self.layer) | (same if self.equal else ~same)

    def restrict(self, r: Restrictions) -> None:
        if self.equal:
            keep = r.smask[self.layer, self.shape]
            r.smask[self.layer] = False
            r.smask[self.layer, self.shape] = keep
        else:
            r.smask[self.layer, self.shape] = False


@dataclass(frozen=True)
class CountIn:
    """The stage covering ``layer`` uses between ``lo`` and ``hi`` GPUs of class ``cls``."""

    layer: int
    cls: int
    lo: int
    hi: int

    def allows(self, pool: Columns) -> np.ndarray:
        n = pool.view("counts")[:, self.cls]
        return ~_covers(pool, self.layer) | ((n >= self.lo) & (n <= self.hi))

    def restrict(self, r: Restrictions) -> None:
        r.lo[self.layer, self.cls] = max(r.lo[self.layer, self.cls], self.lo)
        r.hi[self.layer, self.cls] = min(r.hi[self.layer, self.cls], self.hi)


@dataclass(frozen=True)
class Fix:
    """Diving: the stage over ``layer..end`` is pool column ``column`` (no other column covers it)."""

    layer: int
    end: int
    column: int

    def allows(self, pool: Columns) -> np.ndarray:
        mask = ~((pool.view("start") <= self.end) & (pool.view("end") >= self.layer))
        mask[self.column] = True
        return mask

    def restrict(self, r: Restrictions) -> None:
        r.smask[self.layer:self.end + 1] = False     # pricing may not cover the fixed stage's layers


@dataclass
class Fractional:
    """A node's LP solution restricted to its active columns (z > 0), as the rules read it."""

    M: int
    S: int
    avail: np.ndarray
    start: np.ndarray
    end: np.ndarray
    shape: np.ndarray
    counts: np.ndarray
    z: np.ndarray
    network_rows: bool

    def ends(self) -> np.ndarray:
        """``x[l - 1]``: LP mass of stages ending at layer l, for l = 1..M-1."""
        return np.bincount(self.end, weights=self.z, minlength=self.M + 1)[1:self.M]

    def segments(self) -> list[tuple[int, int]]:
        """The stages' segments, valid once every boundary is integral."""
        x = self.ends()
        lasts = [*(np.nonzero(np.round(x) == 1)[0] + 1), self.M]
        out, first = [], 1
        for last in lasts:
            out.append((first, int(last)))
            first = int(last) + 1
        return out

    def covering(self, layer: int) -> np.ndarray:
        return (self.start <= layer) & (self.end >= layer)


Branch = tuple[Decision, Decision]


class BranchingRule(Protocol):
    name: str

    def select(self, f: Fractional) -> Branch | None:
        """Two complementary decisions, the more promising first, or None if integral here."""
        ...


def _class_use_branch(layer: int, cls: int, use: float, avail: int) -> Branch:
    yes, no = CountIn(layer, cls, 1, avail), CountIn(layer, cls, 0, 0)
    return (yes, no) if use >= 0.5 else (no, yes)


class ClassFirst:
    """Where links bind: "the stage covering layer l uses class c", most fractional over all (l, c)
    (that is what the star rows are about)."""

    name = "class-first"

    def select(self, f: Fractional) -> Branch | None:
        if not f.network_rows:
            return None
        use = np.zeros((f.M + 2, len(f.avail)))
        used = f.z[:, None] * (f.counts > 0)
        np.add.at(use, f.start, used)
        np.add.at(use, f.end + 1, -used)
        use = np.cumsum(use, axis=0)[1:f.M + 1]
        frac = np.abs(use - np.round(use))
        if frac.max(initial=0) <= INT_EPS:
            return None
        l, c = np.unravel_index(int(np.argmax(frac)), frac.shape)
        return _class_use_branch(int(l) + 1, int(c), float(use[l, c]), int(f.avail[c]))


class Boundary:
    """A boundary after l (cut / join), on the boundary whose mass is closest to one half."""

    name = "boundary"

    def select(self, f: Fractional) -> Branch | None:
        x = f.ends()
        if np.abs(x - np.round(x)).max(initial=0) <= INT_EPS:
            return None
        l = int(np.argmin(np.abs(x - 0.5))) + 1
        cut, join = Cut(l), Join(l)
        return (cut, join) if x[l - 1] >= 0.5 else (join, cut)


class StageRule(Protocol):
    """A rule about one stage: the columns covering its first layer, with their LP mass."""

    name: str

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, shape: np.ndarray,
                 counts: np.ndarray) -> Branch | None: ...


class FrontToBack:
    """Stage rules applied stage by stage, front to back, once the segmentation is integral: the
    first stage with anything fractional is branched on, by the first rule that sees it."""

    name = "front-to-back"

    def __init__(self, *rules: StageRule):
        self.rules = rules

    def select(self, f: Fractional) -> Branch | None:
        for first, _last in f.segments():
            covers = f.covering(first)
            for rule in self.rules:
                found = rule.on_stage(f, first, f.z[covers], f.shape[covers], f.counts[covers])
                if found is not None:
                    return found
        return None


class StageShape:
    """The shape of the stage covering l (its GPU count and tensor-parallel degree)."""

    name = "stage-shape"

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, shape: np.ndarray,
                 counts: np.ndarray) -> Branch | None:
        ss = np.bincount(shape, weights=mass, minlength=f.S + 1)
        if np.abs(ss - np.round(ss)).max() <= INT_EPS:
            return None
        s = int(np.argmax(ss))
        a, b = ShapeIs(layer, s), ShapeIs(layer, s, equal=False)
        return (a, b) if ss[s] >= 0.5 else (b, a)


class ClassUse:
    """Whether the stage covering l uses class c."""

    name = "class-use"

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, shape: np.ndarray,
                 counts: np.ndarray) -> Branch | None:
        used = (mass[:, None] * (counts > 0)).sum(axis=0)
        frac = np.abs(used - np.round(used))
        if frac.max() <= INT_EPS:
            return None
        c = int(np.argmax(frac))
        return _class_use_branch(layer, c, float(used[c]), int(f.avail[c]))


class ClassCount:
    """How many GPUs of class c the stage covering l uses (at most floor / at least ceil)."""

    name = "class-count"

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, shape: np.ndarray,
                 counts: np.ndarray) -> Branch | None:
        n = (mass[:, None] * counts).sum(axis=0)
        frac = np.abs(n - np.round(n))
        if frac.max() <= INT_EPS:
            return None
        c = int(np.argmax(frac))
        up = CountIn(layer, c, int(np.ceil(n[c])), int(f.avail[c]))
        down = CountIn(layer, c, 0, int(np.floor(n[c])))
        return (up, down) if n[c] - np.floor(n[c]) >= 0.5 else (down, up)


DEFAULT_RULES: tuple[BranchingRule, ...] = (
    ClassFirst(), Boundary(), FrontToBack(StageShape(), ClassUse(), ClassCount()))


def integral_stages(f: Fractional) -> list[tuple[int, int, np.ndarray, int]]:
    """The stages (first layer, last layer, GPU count per class, shape) of a node on which every
    rule of :data:`DEFAULT_RULES` is integral: the averaged class counts of each segment's columns
    (all of one shape)."""
    out = []
    for first, last in f.segments():
        covers = f.covering(first)
        n = (f.z[covers][:, None] * f.counts[covers]).sum(axis=0)
        out.append((first, last, np.round(n).astype(np.int64), int(f.shape[covers][0])))
    return out


def branch(rules: tuple[BranchingRule, ...], f: Fractional) -> Branch | list[tuple[int, int, np.ndarray, int]]:
    """The first rule's branch, or the integral stages when no rule finds anything fractional."""
    for rule in rules:
        found = rule.select(f)
        if found is not None:
            return found
    return integral_stages(f)
