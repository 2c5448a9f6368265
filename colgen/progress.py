"""The solver log and its heartbeat.

:class:`Log` sends lines to a sink (stderr in the CLI, nothing by default) and remembers when it
last spoke. :class:`Heartbeat` runs beside a solver and, whenever the log has been silent for
``every`` seconds, prints the solver's current status line (bound, incumbent, gap, elapsed). It is a
thread, so it also speaks while an LP or MIP engine works: HiGHS and Gurobi release the GIL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEARTBEAT_SECONDS = 5.0


class Log:
    """A line-oriented log; thread-safe, so the heartbeat and the solver never interleave."""

    def __init__(self, sink: Callable[[str], None] | None = None):
        self.sink = sink
        self.last = time.perf_counter()
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.last = time.perf_counter()
            if self.sink is not None:
                self.sink(line)

    @property
    def enabled(self) -> bool:
        return self.sink is not None

    def silent_for(self) -> float:
        return time.perf_counter() - self.last


def as_log(log: Log | Callable[[str], None] | None) -> Log:
    return log if isinstance(log, Log) else Log(log)


class Heartbeat:
    """Context manager: while it is open, a status line at least every ``every`` seconds."""

    def __init__(self, log: Log, status: Callable[[], str], every: float = HEARTBEAT_SECONDS):
        self.log, self.status, self.every = log, status, every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        # Speak a little before the limit, so that scheduling noise never makes a gap of `every`.
        margin = min(0.5, self.every / 5)
        while not self._done.wait(min(0.25, self.every / 10)):
            if self.log.silent_for() >= self.every - margin:
                try:
                    line = self.status()
                except Exception as exc:  # a status read racing the solver must not kill the run
                    line = f"  ... (status unavailable: {exc!r})"
                self.log(line)

    def __enter__(self) -> Heartbeat:
        if self.log.enabled:
            self._thread = threading.Thread(target=self._run, name="colgen-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
