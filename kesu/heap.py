"""The worker's C heap: few malloc arenas, and free pages handed back after large transients.

Why (the memory ladder, 2026-12-07): after a worker recovers 100k open cases from their
changelog and rebuilds its due indexes, most of its growth was memory glibc's malloc had
freed but kept — scattered over one arena per thread that allocated (the Kafka consumer's
thread fetches the whole changelog; RocksDB's threads flush it). With at most two arenas and
a trim after each rebuild, the same worker held 36–40 MB per 100k clocks instead of 58.

Both are no-ops where the C library is not glibc, and an operator's own MALLOC_ARENA_MAX wins.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

#: glibc's mallopt parameter for the arena limit (malloc.h).
_M_ARENA_MAX = -8
#: Arenas the worker allows: one for the event loop, one shared by the other threads.
WORKER_ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (absent from musl: not glibc)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_arenas(count: int = WORKER_ARENAS) -> bool:
    """Cap malloc's arenas; call before the process starts threads. False if not applied."""
    if _LIBC is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, count))


def release_free_heap() -> bool:
    """Hand malloc's free pages back to the system (after a large transient). True if any was."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
