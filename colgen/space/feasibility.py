"""Why an instance has no placement, in words (for ``colgen solve`` and ``colgen show``).

Checks, cheapest first, the reasons users meet in practice: no GPU (or tensor-parallel group) holds
a layer; all GPUs together hold fewer layers than the model has (each GPU at its best shape); the
stage limits cannot cover the model. Each is a proof of infeasibility; None means no simple reason
was found (the solvers may still prove infeasibility).
"""

from __future__ import annotations

import numpy as np

from colgen.model.instance import Instance


def why_infeasible(instance: Instance) -> str | None:
    tab, M = instance.tables, instance.num_layers
    limits = instance.stage_limits
    if limits.min_layers > M:
        return f"min_layers_per_stage {limits.min_layers} is more than the model's {M} layers"
    sh = tab.shapes
    ok = sh.k[1:] <= min(instance.max_gpus_per_segment, instance.num_gpus)
    fits = tab.fits[1:, 1:][:, ok]                                  # [L, shape, type]
    ks = sh.k[1:][ok]
    # Most layers one GPU of each type holds, at each shape (fits shrink with L).
    lmax = np.where(fits.any(axis=0), fits.shape[0] - np.argmax(fits[::-1], axis=0), 0)   # [shape, type]
    best_stage = int(lmax.max(initial=0))
    if best_stage == 0:
        degrees = ", ".join(map(str, instance.tp_degrees))
        return (f"no GPU holds even one layer ({instance.model.weight_gb_per_layer:.3g} GB of weights per layer; "
                f"tensor-parallel degrees {degrees}): allow larger degrees or add larger GPUs")
    counts = np.bincount(tab.gpu_type, minlength=tab.fits.shape[2])
    share = np.where(lmax > 0, lmax / ks[:, None], 0.0).max(axis=0)        # layers per GPU, best shape
    total = float((share * counts).sum())
    if total < M - 1e-9:
        return (f"all {instance.num_gpus} GPUs together hold at most {total:.3g} of the model's {M} layers "
                f"(the longest stage any shape holds has {best_stage} layers): add GPUs, allow tensor "
                "parallelism, or shrink the batch")
    longest = min(best_stage, limits.max_layers or best_stage)
    if limits.max_stages is not None and limits.max_stages * longest < M:
        return (f"at most {limits.max_stages} stages (max_stages) of at most {longest} layers each cover "
                f"{limits.max_stages * longest} of the model's {M} layers")
    return None
