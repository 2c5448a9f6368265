"""Size limits on what colgen reads, and the memory it lets one command take.

Fixed limits (an input beyond them is bad input, exit code 2, with a message naming the limit) are
set well above real clusters and models: 16,384 GPUs and 1,000 layers pass with room to spare.
Limits that depend on the machine (the memory a model, a table or an enumeration would need) are
checked against :func:`available_memory_bytes` and refused with the estimate (exit code 5).
README.md ("Limits, exit codes and signals") lists them.
"""

from __future__ import annotations

import os
from typing import Any

from colgen.errors import ModelTooLargeError

MAX_FILE_BYTES = 512 * 1024 * 1024   #: an instance or result file (a 4,096-GPU bandwidth matrix is ~200 MB)
MAX_DEPTH = 64                       #: JSON nesting (instances nest 6 deep, results 4)
MAX_INT_DIGITS = 30                  #: digits of a JSON integer (Python refuses 4,300; every count here is smaller)
MAX_GPUS = 32_768                    #: GPUs in a cluster
MAX_LAYERS = 2_048                   #: decoder layers
MAX_K = 512                          #: GPUs in one stage (max_gpus_per_segment)
MAX_GPU_TYPES = 64                   #: GPU types declared
MAX_NAME_CHARS = 256                 #: a GPU type's or a node's name

#: Share of the available memory one command may plan to use (models, tables, enumerations).
MEMORY_SHARE = 0.8


def available_memory_bytes() -> int:
    """MemAvailable of this machine (the kernel's estimate), or physical memory as a fallback."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 8 * 1024**3


def memory_budget_bytes() -> int:
    """What one command may plan to use: :data:`MEMORY_SHARE` of the available memory."""
    return int(MEMORY_SHARE * available_memory_bytes())


def gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.3g} GB"


class Budget:
    """The time and memory one enumeration or model build may take.

    ``check()`` asks the run's :class:`~colgen.stop.Stop` (deadline, interrupts); ``take(n, what)``
    books ``n`` bytes before they are allocated and raises
    :class:`~colgen.errors.ModelTooLargeError` with the running total when the limit would be
    passed, so a build stops before it takes the machine's memory, not after.
    """

    def __init__(self, stop: Any = None, limit_bytes: int | None = None, what: str = "the model"):
        self.stop = stop
        self.limit = memory_budget_bytes() if limit_bytes is None else int(limit_bytes)
        self.what = what
        self.used = 0

    def check(self) -> None:
        if self.stop is not None:
            self.stop.check()

    def take(self, n_bytes: float, what: str = "") -> None:
        """Book ``n_bytes`` that stay allocated until the build ends."""
        self.peak(n_bytes, what)
        self.used += int(n_bytes)

    def peak(self, n_bytes: float, what: str = "") -> None:
        """Check that ``n_bytes`` more, freed again right after, still fit."""
        self.check()
        if self.used + n_bytes > self.limit:
            raise ModelTooLargeError(
                f"building {self.what} would pass {gb(self.used + n_bytes)}{f' ({what})' if what else ''}, more "
                f"than the {gb(self.limit)} this machine can spare; use --method bnp (it prices allocations "
                "instead of enumerating them)")


#: Bytes of temporary arrays one vectorized step may allocate (chunks are sized to stay below).
CHUNK_BYTES = 64 * 1024 * 1024


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cap_address_space() -> int | None:
    """The backstop behind every estimate: limit this process (and the children it starts, which
    inherit the limit) to its current size plus :data:`MEMORY_SHARE` of the available memory, at
    least 2 GB more. An allocation beyond it raises MemoryError (the command line's exit code 5)
    instead of taking the machine. Returns the limit, or None where it cannot be set.
    ``COLGEN_NO_MEMORY_CAP=1`` turns it off."""
    if os.environ.get("COLGEN_NO_MEMORY_CAP"):
        return None
    try:
        import resource
    except ImportError:         # not a Unix system
        return None
    extra = os.environ.get("COLGEN_MEMORY_CAP_BYTES")
    limit = _vm_size_bytes() + (int(extra) if extra else max(memory_budget_bytes(), 2 * 1024**3))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft < limit:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return None
    return limit
