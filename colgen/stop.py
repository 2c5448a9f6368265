"""When to stop: one object for a whole run, handed down to every loop, LP, MIP and enumeration.

A :class:`Stop` holds the run's deadline and sees interrupts (Ctrl-C, SIGTERM). Solvers call
:meth:`Stop.check` between units of work (it raises :class:`Stopped`), give LP/MIP engines
:meth:`Stop.remaining` as their time limit, and let engine callbacks ask :meth:`Stop.reason`.
Inside the limit, work is scheduled by deterministic budgets (nodes, iterations), so that a result
depends on the machine's load only through the deadline itself.

Inside :func:`catch_signals` the first SIGINT or SIGTERM only sets a flag, so the solver returns
its best placement and bound; a second one ends the process at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_interrupt = threading.Event()

TIME_LIMIT = "time_limit"
INTERRUPTED = "interrupted"


class Stopped(Exception):
    """Raised by :meth:`Stop.check`: unwind to the caller that holds the best placement."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Interrupted(KeyboardInterrupt):
    """A signal that ends the command now: SIGINT or SIGTERM outside a solve, or a second one inside
    (the command line exits with ``128 + signum``: 130 or 143)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def raise_interrupted(signum: int, frame: object) -> None:
    """Signal handler: SIGTERM (or SIGINT) raises :class:`Interrupted`, as Ctrl-C raises
    KeyboardInterrupt."""
    raise Interrupted(signum)


class Stop:
    """The stopping rule of one run: an optional deadline plus the process's interrupt flag."""

    def __init__(self, time_limit: float | None = None, *, start: float | None = None):
        self.start = time.perf_counter() if start is None else start
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else self.start + time_limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.perf_counter())

    def reason(self) -> str | None:
        """Why the run must stop now (``interrupted`` or ``time_limit``), None to go on."""
        if _interrupt.is_set():
            return INTERRUPTED
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return TIME_LIMIT
        return None

    def check(self) -> None:
        """Raise :class:`Stopped` when the run must stop."""
        why = self.reason()
        if why is not None:
            raise Stopped(why)


def interrupted() -> bool:
    return _interrupt.is_set()


def engine_interrupted() -> None:
    """An LP/MIP engine reports an interrupt nobody asked it for: it caught the Ctrl-C itself (Gurobi
    installs its own SIGINT handler while it optimizes), so Python never saw the signal. Record it
    as the user's stop request."""
    _interrupt.set()


@contextmanager
def catch_signals() -> Iterator[None]:
    """Turn the first SIGINT or SIGTERM into a stop request (main thread only, else a no-op)."""
    _interrupt.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _interrupt.is_set():          # the second signal: stop at once
            raise Interrupted(signum)
        _interrupt.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _interrupt.clear()           # the interrupt belonged to this run; the next one starts afresh
