"""numba kernels of pricing: the best allocation of every segment under given duals.

They take plain arrays only (see :class:`colgen.bnp.pricing.PricingProblem` for their meaning) and
are compiled once, cached on disk. ``nogil``: the solver's heartbeat thread keeps speaking while a
kernel runs.

numba's compiler cannot be interrupted, and the first compile takes ten seconds or more: longer
than many time limits. So the kernels are compiled in a child process (:func:`compile_in_background`,
started when the engine starts) that leaves the machine code in numba's cache on disk, where this
process's first call finds it; the engine waits for the child only when it needs pricing, and that
wait ends at the deadline or on Ctrl-C (:func:`wait_compiled`). Every call goes through
:func:`price_all`, which hands the kernel arrays of one layout, so that the child compiles exactly
the signature the engine calls.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
from numba import config, njit, typeof

from colgen.child import spawn
from colgen.stop import Stop

NEG = -1e300


@njit(cache=True, nogil=True)
def _allowed(mask, c):
    return (mask[c // 64] >> np.uint64(c % 64)) & np.uint64(1)


@njit(cache=True, nogil=True)
def _choose(r, t, L, sh, e, s, w, f_end, f_start, eligible, avail, lo, hi, use_dp, order, counts, mask, work):
    """Cheapest choice of r groups of t GPUs (shape ``sh``) for segment (s, e) among the classes in
    ``mask``; a group is t GPUs of one class (classes keep a node's GPUs of one type together, see
    colgen/space/classes.py). Writes ``counts`` (GPUs per class), returns the cost (or -1 when there
    is none). ``lo``/``hi`` bound the GPUs of each class; ``work`` is scratch space (``[C + 3, R]``
    with R > r) so that the knapsack allocates nothing."""
    C = w.shape[0]
    for c in range(C):
        counts[c] = 0
    if not use_dp:
        need = r
        cost = 0.0
        for idx in range(C):
            c = order[idx]
            if need == 0:
                break
            if not eligible[L, sh, c] or not _allowed(mask, c):
                continue
            take = min(need, avail[c] // t, hi[c] // t)
            counts[c] = take * t
            need -= take
            cost += take * t * w[c]
        return cost if need == 0 else -1.0
    # Knapsack over classes in units of groups: dp[j] = cheapest way to pick j groups from the
    # classes seen so far; choice[c, j] = how many groups of class c that way uses.
    INF = 1e300
    dp, new, choice = work[C], work[C + 1], work[:C]
    for j in range(r + 1):
        dp[j] = INF
    dp[0] = 0.0
    for c in range(C):
        top = min(avail[c] // t, hi[c] // t, r)
        low = (lo[c] + t - 1) // t
        ok = eligible[L, sh, c] and _allowed(mask, c)
        if low > top or (low > 0 and not ok):
            return -1.0
        for j in range(r + 1):
            choice[c, j] = 0.0
        if not ok:
            continue
        fixed = f_end[e, c] + f_start[s, c]
        for j in range(r + 1):
            new[j] = INF
        for j in range(r + 1):
            if dp[j] >= INF:
                continue
            for n in range(low, top + 1):
                if j + n > r:
                    break
                v = dp[j] + n * t * w[c] + (fixed if n > 0 else 0.0)
                if v < new[j + n]:
                    new[j + n] = v
                    choice[c, j + n] = n
        for j in range(r + 1):
            dp[j] = new[j]
    if dp[r] >= INF:
        return -1.0
    j = r
    for c in range(C - 1, -1, -1):
        n = int(choice[c, j])
        counts[c] = n * t
        j -= n
    return dp[r]


@njit(cache=True, nogil=True)
def price_segments(pi, w, f_end, f_start, eligible, shape_r, shape_t, avail, no_end, cut, smask, lo, hi,
                   restricted, end_ptr, end_masks, end_bonus, start_ptr, start_masks, start_bonus):
    """Best allocation of every segment: arrays over segments (s, e) in order s = 1..M, e = s..M.

    Shapes: ``shape_r[sh]`` groups of ``shape_t[sh]`` GPUs (index 0 unused); ``smask[l, sh]`` says
    whether the stage covering layer l may have shape sh (branching). Returns (value, s, e, shape,
    counts); value is NEG where the segment has no allowed allocation, and is only guaranteed exact
    where positive (segments that cannot price out are pruned).
    """
    M = pi.shape[0] - 1
    S = eligible.shape[1] - 1
    C = w.shape[0]
    W = end_masks.shape[1]
    R = 1
    for sh in range(1, S + 1):
        R = max(R, shape_r[sh] + 1)
    nseg = M * (M + 1) // 2
    value = np.full(nseg, NEG)
    seg_s = np.zeros(nseg, dtype=np.int64)
    seg_e = np.zeros(nseg, dtype=np.int64)
    seg_shape = np.zeros(nseg, dtype=np.int64)
    seg_counts = np.zeros((nseg, C), dtype=np.int64)
    order = np.argsort(w)
    counts = np.zeros(C, dtype=np.int64)
    seg_lo = np.zeros(C, dtype=np.int64)
    seg_hi = np.zeros(C, dtype=np.int64)
    allowed = np.ones(S + 1, dtype=np.bool_)
    both = np.zeros(W, dtype=np.uint64)
    full = np.full(W, np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    zero_lo = np.zeros(C, dtype=np.int64)
    work = np.zeros((C + 3, R))
    floor_sh = np.zeros(S + 1)
    # Where a segment's ends carry no fixed charge and no lower bound applies, the greedy is exact.
    charged_end = np.zeros(f_end.shape[0], dtype=np.bool_)
    for l in range(f_end.shape[0]):
        for c in range(C):
            if f_end[l, c] > 0.0:
                charged_end[l] = True
    charged_start = np.zeros(f_start.shape[0], dtype=np.bool_)
    for l in range(f_start.shape[0]):
        for c in range(C):
            if f_start[l, c] > 0.0:
                charged_start[l] = True
    idx = 0
    for s in range(1, M + 1):
        prefix = 0.0
        for sh in range(S + 1):
            allowed[sh] = True
        for c in range(C):
            seg_lo[c] = 0
            seg_hi[c] = avail[c]
        blocked = restricted and s > 1 and no_end[s - 1]
        for e in range(s, M + 1):
            L = e - s + 1
            prefix += pi[e]
            if restricted:
                for sh in range(S + 1):
                    allowed[sh] = allowed[sh] and smask[e, sh]
                for c in range(C):
                    seg_lo[c] = max(seg_lo[c], lo[e, c])
                    seg_hi[c] = min(seg_hi[c], hi[e, c])
            seg_s[idx] = s
            seg_e[idx] = e
            skip = blocked or (restricted and e < M and no_end[e])
            if restricted and e < M and cut[e]:
                blocked = True  # every longer segment crosses a forced boundary
            if skip:
                idx += 1
                continue
            use_dp = charged_end[e] or charged_start[s]
            if restricted:
                for c in range(C):
                    if seg_lo[c] > 0:
                        use_dp = True
            # A lower bound on the cost of any choice: the cheapest eligible groups, ignoring
            # universes, fixed charges and branching bounds. It prunes universe pairs whose bonus
            # cannot lift the value above the best found (or above zero: no column then).
            floor_cost = 1e300
            for sh in range(1, S + 1):
                floor_sh[sh] = 1e300
                if not allowed[sh]:
                    continue
                c0 = _choose(shape_r[sh], shape_t[sh], L, sh, e, s, w, f_end, f_start, eligible, avail, zero_lo,
                             avail, False, order, counts, full, work)
                if c0 >= 0.0:
                    floor_sh[sh] = c0
                    floor_cost = min(floor_cost, c0)
            best = NEG
            if floor_cost < 1e300:
                top_start = start_bonus[start_ptr[s]] if start_ptr[s + 1] > start_ptr[s] else 0.0
                for ie in range(end_ptr[e], end_ptr[e + 1]):      # bonuses in decreasing order
                    if prefix + end_bonus[ie] + top_start - floor_cost <= max(best, 0.0):
                        break
                    for js in range(start_ptr[s], start_ptr[s + 1]):
                        base = prefix + end_bonus[ie] + start_bonus[js]
                        if base - floor_cost <= max(best, 0.0):
                            break
                        for word in range(W):
                            both[word] = end_masks[ie, word] & start_masks[js, word]
                        for sh in range(1, S + 1):
                            if base - floor_sh[sh] <= max(best, 0.0):
                                continue        # also skips shapes that no choice or branching allows
                            cost = _choose(shape_r[sh], shape_t[sh], L, sh, e, s, w, f_end, f_start, eligible,
                                           avail, seg_lo, seg_hi, use_dp, order, counts, both, work)
                            if cost < 0.0:
                                continue
                            v = base - cost
                            if v > best:
                                best = v
                                seg_shape[idx] = sh
                                for c in range(C):
                                    seg_counts[idx, c] = counts[c]
            value[idx] = best
            idx += 1
    return value, seg_s, seg_e, seg_shape, seg_counts


#: dtypes of :func:`price_segments`' arguments, in order (None: a Python bool).
_DTYPES = (np.float64, np.float64, np.float64, np.float64, np.bool_, np.int64, np.int64, np.int64, np.bool_,
           np.bool_, np.bool_, np.int64, np.int64, None, np.int64, np.uint64, np.float64, np.int64, np.uint64,
           np.float64)


def price_all(*args: object) -> tuple[np.ndarray, ...]:
    """:func:`price_segments` on C-contiguous, writable arrays of fixed dtypes (copied only where an
    argument is not): one compiled signature for every caller and for the compiling child."""
    plain = []
    for a, dtype in zip(args, _DTYPES, strict=True):
        if dtype is None:
            plain.append(bool(a))
            continue
        x = np.ascontiguousarray(a, dtype=dtype)
        plain.append(x if x.flags.writeable else x.copy())
    return price_segments(*plain)


def _sample() -> tuple:
    """Arguments of a one-layer, one-class problem, as :func:`price_all` passes them: one call
    compiles every kernel for the signature every engine call has."""
    M, C, S, W = 1, 1, 1, 1
    args = (np.zeros(M + 1), np.zeros(C), np.zeros((M + 1, C)), np.zeros((M + 2, C)),
            np.ones((M + 1, S + 1, C), dtype=bool), np.ones(S + 1, dtype=np.int64), np.ones(S + 1, dtype=np.int64),
            np.ones(C, dtype=np.int64), np.zeros(M + 1, dtype=bool), np.zeros(M + 1, dtype=bool),
            np.ones((M + 1, S + 1), dtype=bool), np.zeros((M + 1, C), dtype=np.int64),
            np.ones((M + 1, C), dtype=np.int64), False, np.zeros(M + 2, dtype=np.int64),
            np.zeros((0, W), dtype=np.uint64), np.zeros(0), np.zeros(M + 2, dtype=np.int64),
            np.zeros((0, W), dtype=np.uint64), np.zeros(0))
    return args


def compile_now() -> None:
    """Compile the kernels in this process (the compiling child's work, see
    :func:`compile_in_background`); numba writes them to its cache."""
    price_all(*_sample())


#: The compiling child of this process, if one was started (one per process: every engine of the
#: process waits for the same one, and a run stopped while it compiles leaves it to finish for the
#: next run of the process; it dies with the process, so a new process starts over: ``colgen
#: warmup`` compiles once for every later process).
_child: subprocess.Popen | None = None


def compile_in_background() -> bool:
    """Start compiling the kernels in a child process, unless they are compiled or cached already
    (then True: nothing to wait for) or a child is at it (or none can start: the first call then
    compiles in this process)."""
    global _child
    if _child is not None:
        return False
    if compiled_or_cached():
        return True
    try:
        _child = spawn("colgen.bnp.kernels:compile_now", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except OSError:                      # no process can start (a limit, an embedded interpreter)
        _child = None
    return False


def compiling() -> bool:
    """Whether this process's compiling child is still at work."""
    return _child is not None and _child.poll() is None


def wait_compiled(stop: Stop) -> int | None:
    """Wait for the compiling child, if any (raises :class:`~colgen.stop.Stopped` at the deadline or
    on Ctrl-C, leaving the child at work) and return its exit code (None: there was none). After
    a 0 the kernels are cached, unless numba could not write its cache; after anything else the
    first call compiles them in this process."""
    global _child
    while compiling():
        stop.check()
        time.sleep(0.02)
    code = None if _child is None else _child.returncode
    _child = None
    return code


def compiled_or_cached() -> bool:
    """Whether :func:`price_segments` is compiled in this process or cached on disk for this source
    and this CPU; False means its first call compiles it (about ten seconds)."""
    if config.DISABLE_JIT:
        return True
    signature = tuple(typeof(a) for a in _sample())
    if signature in price_segments.signatures:
        return True
    try:
        magic = price_segments.targetctx.codegen().magic_tuple()
        return any(key[:2] == (signature, magic) for key in price_segments._cache._cache_file._load_index())
    except Exception:       # numba's internals moved: assume cached rather than announce wrongly
        return True
