"""Branching: decisions that split a node, and the rules that choose them.

Every decision is about the unique stage covering one layer (or the boundary after it), so it can
be enforced twice, exactly: on the pool (:meth:`Decision.allows` masks the columns that violate
it) and in pricing (:meth:`Decision.restrict` writes it into :class:`Restrictions`, the arrays the
pricing kernel reads). A :class:`BranchingRule` looks at the LP solution of a node and returns two
complementary decisions (most promising child first) or None when its quantity is integral.

The default order (:data:`DEFAULT_RULES`): where star rows exist (links bind), first whether the
stage covering layer l uses class c, over all layers; then a boundary after l; then, stage by stage
front to back, the GPU count k of the stage, whether it uses class c, how many GPUs of c it uses. Once all
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
    l is forced; ``kmask[l]``: bitmask of the GPU counts allowed for the stage covering l;
    ``lo[l, c]``, ``hi[l, c]``: least and most GPUs of class c in the stage covering l."""

    no_end: np.ndarray
    cut: np.ndarray
    kmask: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def none(cls, M: int, avail: np.ndarray) -> Restrictions:
        return cls(no_end=np.zeros(M + 1, dtype=bool), cut=np.zeros(M + 1, dtype=bool),
                   kmask=np.full(M + 1, -1, dtype=np.int64), lo=np.zeros((M + 1, len(avail)), dtype=np.int64),
                   hi=np.tile(np.asarray(avail, dtype=np.int64), (M + 1, 1)))

    @classmethod
    def of(cls, decisions: list[Decision], M: int, avail: np.ndarray) -> Restrictions:
        r = cls.none(M, avail)
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
class SizeIs:
    """The stage covering ``layer`` has ``k`` GPUs (``equal``) or any other number (not ``equal``)."""

    layer: int
    k: int
    equal: bool = True

    def allows(self, pool: Columns) -> np.ndarray:
        same = pool.view("k") == self.k
        return ~_covers(pool, self.layer) | (same if self.equal else ~same)

    def restrict(self, r: Restrictions) -> None:
        bit = np.int64(1) << self.k
        r.kmask[self.layer] &= bit if self.equal else ~bit


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
        r.kmask[self.layer:self.end + 1] = 0     # pricing may not cover the fixed stage's layers


@dataclass
class Fractional:
    """A node's LP solution restricted to its active columns (z > 0), as the rules read it."""

    M: int
    K: int
    avail: np.ndarray
    start: np.ndarray
    end: np.ndarray
    k: np.ndarray
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

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, k: np.ndarray,
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
                found = rule.on_stage(f, first, f.z[covers], f.k[covers], f.counts[covers])
                if found is not None:
                    return found
        return None


class StageSize:
    """The GPU count k of the stage covering l."""

    name = "stage-size"

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, k: np.ndarray,
                 counts: np.ndarray) -> Branch | None:
        ks = np.bincount(k, weights=mass, minlength=f.K + 1)
        if np.abs(ks - np.round(ks)).max() <= INT_EPS:
            return None
        kk = int(np.argmax(ks))
        a, b = SizeIs(layer, kk), SizeIs(layer, kk, equal=False)
        return (a, b) if ks[kk] >= 0.5 else (b, a)


class ClassUse:
    """Whether the stage covering l uses class c."""

    name = "class-use"

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, k: np.ndarray,
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

    def on_stage(self, f: Fractional, layer: int, mass: np.ndarray, k: np.ndarray,
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
    ClassFirst(), Boundary(), FrontToBack(StageSize(), ClassUse(), ClassCount()))


def integral_stages(f: Fractional) -> list[tuple[int, int, np.ndarray]]:
    """The stages (first layer, last layer, GPU count per class) of a node on which every rule of
    :data:`DEFAULT_RULES` is integral: the averaged class counts of each segment's columns."""
    out = []
    for first, last in f.segments():
        covers = f.covering(first)
        n = (f.z[covers][:, None] * f.counts[covers]).sum(axis=0)
        out.append((first, last, np.round(n).astype(np.int64)))
    return out


def branch(rules: tuple[BranchingRule, ...], f: Fractional) -> Branch | list[tuple[int, int, np.ndarray]]:
    """The first rule's branch, or the integral stages when no rule finds anything fractional."""
    for rule in rules:
        found = rule.select(f)
        if found is not None:
            return found
    return integral_stages(f)
