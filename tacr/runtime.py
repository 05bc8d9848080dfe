"""Process-level speed settings for CPU runs.

glibc's ``malloc`` serves blocks above its mmap threshold (at most 32 MB, dynamically) with a
fresh ``mmap`` and unmaps them on ``free``, and trims freed memory at the top of the heap above
128 KB. PyTorch on CPU allocates and frees tensors of tens to hundreds of MB on every training
step (a G pass over B x C = 154K candidates at the paper's batch), so each step pays for
page faults and zeroing of memory the kernel just took back. :func:`tune_cpu_allocator` raises
both thresholds so freed blocks are reused from the heap (the saving is measured in
``benchmarks/``, ``docs/performance.md``). Numbers are unchanged (only where memory comes from
changes). The cost: freed memory at the top of the heap is not returned to the OS, so the
resident size stays at its peak.

Called once by :class:`tacr.batch.DeviceData`; set ``TACR_MALLOC_TUNING=0`` to opt out. A no-op
off glibc (macOS, Windows, musl).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>
_done: bool | None = None


def tune_cpu_allocator(mmap_threshold: int = 1 << 30, trim_threshold: int = -1) -> bool:
    """Raise glibc's mmap threshold (bytes, < 2**31) and trim threshold (-1: never trim, as
    glibc's malloc.c documents); True when applied.

    Idempotent: the first call decides. Returns False off glibc or with ``TACR_MALLOC_TUNING=0``.
    """
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("TACR_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)) and mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))
    return _done
