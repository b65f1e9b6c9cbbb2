"""glibc's malloc told to keep freed memory for reuse: on at import, opted out of by ``GRAPHGRAD_MALLOC=system``.

NumPy takes every array's memory from the C library's malloc. glibc maps large blocks freshly from the
kernel (above a threshold it adapts) and hands the top of its heap back once more than twice that threshold
is free, so a training step that allocates and frees the same few megabytes every time page-faults on
fresh memory thousands of times per step (about 1 µs each; PyTorch's caching allocator reuses its blocks).
``keep_freed_memory`` sets the mmap threshold to glibc's maximum (32 MiB on 64-bit) and trims the heap only
beyond 512 MiB free: blocks are reused, the process keeps what it freed (up to that much). Nothing is done
without glibc (macOS, Windows, musl) or when the process already sets ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (glibc's own environment tuning, which then stands).
"""
from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 512 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers from glibc's malloc.h


def _glibc() -> bool:
    """Whether this process runs on glibc."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds as above; True when both took effect, False without glibc."""
    if not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


def _wanted() -> bool:
    """On unless ``GRAPHGRAD_MALLOC=system`` or glibc's own MALLOC_*_THRESHOLD_ variables are set."""
    if os.environ.get("GRAPHGRAD_MALLOC", "").strip().lower() == "system":
        return False
    return not any(v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))


tuned = _wanted() and keep_freed_memory()  # whether this import changed the allocator's settings
