"""Child processes that never outlive colgen.

Work that cannot be stopped from inside the process (a HiGHS presolve that ignores its time limit,
numba compiling the pricing kernels) runs in a child the parent can kill at the deadline or on
Ctrl-C. The child is a fresh interpreter (``python -c``), so scripts calling colgen need no
``if __name__ == "__main__"`` guard; it runs in its own session, so Ctrl-C reaches only the parent,
and it dies with the parent whatever kills that (see :func:`die_with_parent`). On Linux the kernel's
signal comes when the *thread* that started the child ends: a child started from a worker thread
goes with that thread (colgen then does that work in-process or starts it again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

#: The child's first lines: die with the parent (before importing anything heavy: HiGHS, numpy,
#: scipy and numba take a second or more to import on a busy machine), then call ``module:function``
#: with the remaining arguments (strings).
_BOOT = ("import importlib, sys\n"
         "from colgen.child import die_with_parent\n"
         "die_with_parent(int(sys.argv[1]))\n"
         "module, function = sys.argv[2].split(':')\n"
         "getattr(importlib.import_module(module), function)(*sys.argv[3:])\n")


def die_with_parent(parent: int) -> None:
    """Make sure this process never outlives ``parent``, whatever kills the parent: the kernel sends
    SIGKILL when the parent dies (Linux), and a watchdog thread checks the parent's pid elsewhere."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:                           # the parent died before prctl
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def spawn(target: str, *args: str, **popen: Any) -> subprocess.Popen:
    """Start ``target`` (``"module:function"``, called with the strings ``args``) in a child process
    of its own session that dies with this one; ``popen`` goes to :class:`subprocess.Popen`."""
    return subprocess.Popen([sys.executable, "-c", _BOOT, str(os.getpid()), target, *args],
                            start_new_session=True, **popen)
