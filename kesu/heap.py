"""The worker's C heap: few malloc arenas, large blocks in their own mappings, and free pages
handed back after large transients.

Why (the memory ladder, 2026-12-07): after a worker recovers 100k open cases from their
changelog and rebuilds its due indexes, most of its growth was memory glibc's malloc had
freed but kept — scattered over one arena per thread that allocated (the Kafka consumer's
thread fetches the whole changelog; RocksDB's threads flush it). With at most two arenas and
a trim after each rebuild, the same worker held 36–40 MB per 100k clocks instead of 58.

All are no-ops where the C library is not glibc; an operator's own MALLOC_ARENA_MAX or
MALLOC_MMAP_THRESHOLD_ wins.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys

log = logging.getLogger(__name__)

#: glibc's mallopt parameters for the arena limit and the mmap threshold (malloc.h).
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
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


#: Blocks at least this large get their own mapping, handed back whole when freed (glibc's
#: starting value; left to itself glibc raises it to the largest block freed so far, up to 32 MB).
WORKER_MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold(size: int = WORKER_MMAP_THRESHOLD) -> bool:
    """Keep malloc's mmap threshold at `size`; call at start. False if not applied.

    A worker recovering its tables frees large blocks (fetched changelog batches, decoded
    values); glibc then raises its threshold, later large transients come from the heap, and
    the heap keeps their pages scattered among live objects where a trim cannot return them.
    With the threshold fixed, the memory bench's 100k open clocks cost ~35 MB instead of ~48
    (2026-12-07, README: Measured). An operator's MALLOC_MMAP_THRESHOLD_ wins.
    """
    if _LIBC is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    return bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, size))


def release_free_heap() -> bool:
    """Hand malloc's free pages back to the system (after a large transient). True if any was."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))


def freeze_long_lived() -> int:
    """Move every object alive now out of the cyclic collector's sight; how many were moved.

    The worker calls it once its scorer is loaded: the lexicons and models live as long as the
    process, and every full collection walked them again — 60–145 ms pauses of the event loop
    every few seconds in the open loop at 327 events/s, 2–70 ms after (README: Measured).
    Objects frozen are still freed by their reference counts; only cycles among them that
    become garbage later would stay (the scorer's tables are never dropped).
    """
    gc.collect()
    before = gc.get_freeze_count()
    gc.freeze()
    return gc.get_freeze_count() - before
