"""Size limits on what colgen reads, and the memory it lets one command take.

Fixed limits (an input beyond them is bad input, exit code 2, with a message naming the limit) are
set well above real clusters and models: 16,384 GPUs and 1,000 layers pass with room to spare.
Limits that depend on the machine (the memory a model, a table or an enumeration would need) are
checked against :func:`available_memory_bytes` and refused with the estimate (exit code 5).
README.md ("Limits, exit codes and signals") lists them.
"""

from __future__ import annotations

import os

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
