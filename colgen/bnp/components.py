"""A cheap, exact-where-it-can refutation for thresholds where links bind: the configuration problem
per connected component of the link graph.

At a target T, join two usable classes when a link between them (either direction) reaches T. In a
placement of two or more stages whose every link reaches T, consecutive stages link every pair of
their GPUs, so all the classes the placement uses lie in one connected component Q of that graph.
Every stage is shorter than the model, reaches T and fits in memory, so the multiset of the stages'
GPU-type vectors solves the configuration problem (colgen/bnp/configurations.py) over the GPUs of Q.
Hence, when no single stage reaches T and the configuration problem of every component is
infeasible, no placement reaches T: T is refuted. The test only gets stronger as T grows (fewer
eligible classes, fewer links), so a bisection over the candidates stays valid.

Where a component is a clique at T (every two of its classes linked both ways, and each class with
itself when it has two or more GPUs), stage order inside it is irrelevant and the configuration
answer is exact: its placement is returned.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from colgen.bnp.configurations import decide, single_stage, usable_classes
from colgen.bnp.probe import REFUTED, Probe
from colgen.space.class_space import ClassSpace
from colgen.stop import Stop


def component_check(space: ClassSpace, T: float, eligible: np.ndarray, *, backend: str = "auto",
                    stop: Stop | None = None) -> Probe | None:
    """REFUTED (proven), a placement reaching T (exact on a clique component), or None (not refuted:
    some component's relaxation is feasible, or has too many configurations to enumerate)."""
    one = single_stage(space, eligible)
    if one is not None:
        return Probe.found(one)
    M = space.num_layers
    if M == 1:
        return REFUTED
    use = usable_classes(space, eligible)
    link = space.classes.rho >= T
    sizes = space.classes.sizes
    adj = (link | link.T) & use[:, None] & use[None, :]
    n, label = connected_components(sp.csr_matrix(adj), directed=False)
    refuted = True
    for comp in range(n):
        members = np.nonzero((label == comp) & use)[0]
        if not len(members):
            continue
        el = eligible.copy()
        outside = np.ones(space.num_classes, dtype=bool)
        outside[members] = False
        el[1:M, :, outside] = False
        answer = decide(space, el, backend=backend, stop=stop)
        if answer is False:
            continue
        refuted = False
        if answer is None:
            continue
        sub = link[np.ix_(members, members)]
        pairs_linked = bool(sub[~np.eye(len(members), dtype=bool)].all())
        clique = pairs_linked and bool(np.all(np.diag(sub) | (sizes[members] == 1)))
        if clique:
            return Probe.found(answer)
    return REFUTED if refuted else None
