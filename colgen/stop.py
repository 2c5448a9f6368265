"""Ctrl-C as a request to stop: solvers poll :func:`stop_requested` and return what they have.

Inside :func:`catch_interrupts` the first Ctrl-C only sets a flag; a second one raises
``KeyboardInterrupt`` as usual, so a stuck run can still be killed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_stop = threading.Event()


def stop_requested() -> bool:
    return _stop.is_set()


def request_stop() -> None:
    _stop.set()


@contextmanager
def catch_interrupts() -> Iterator[None]:
    """Turn the first SIGINT into a stop request (main thread only; elsewhere a no-op)."""
    _stop.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _stop.is_set():
            raise KeyboardInterrupt
        _stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
