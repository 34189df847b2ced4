"""kesu/heap.py: the worker hands freed malloc memory back, and respects an operator's limit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kesu import heap


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(heap._LIBC is None, reason="glibc only")
def test_freed_memory_scattered_among_live_objects_goes_back_to_the_system() -> None:
    # ~240 MB of 1.2 KB values (malloc, not pymalloc), every seventh kept: the heap cannot
    # shrink from its top, so only a trim returns the free pages in between
    values = [bytearray(1200) for _ in range(200_000)]
    kept = values[::7]
    del values
    before = _rss_bytes()
    assert heap.release_free_heap()
    after = _rss_bytes()
    assert before - after > 50 * 1024 * 1024, (before, after)
    assert len(kept) == 28_572


def test_an_operators_arena_limit_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert heap.limit_arenas() is False


#: Run in a fresh interpreter: in this one, earlier tests leave free chunks in the heap that
#: malloc reuses for large blocks before it considers a mapping at all.
_LARGE_BLOCKS = """
import sys
from kesu import heap

def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmRSS:"))

def touched(size):
    block = bytearray(size)
    block[::4096] = b"\\x01" * len(range(0, size, 4096))
    return block

if sys.argv[1] == "fixed":
    assert heap.fix_mmap_threshold()
first = touched(8 * 1024 * 1024)
del first
blocks, live = [], []
for _ in range(64):  # transient large blocks, each followed by a small one that stays
    blocks.append(touched(1024 * 1024))
    live.append(bytearray(1200))
before = rss()
del blocks
print(before - rss())
"""


def _released_after_large_blocks(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _LARGE_BLOCKS, mode],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
    )
    return int(out.stdout)


@pytest.mark.skipif(heap._LIBC is None, reason="glibc only")
def test_large_blocks_freed_after_the_threshold_is_fixed_go_back_at_once() -> None:
    """With the threshold fixed, 64 freed 1 MB blocks are unmapped at once. Left to itself,
    glibc raises the threshold past 1 MB once an 8 MB block was freed, the blocks then come
    from the heap, and the small live blocks between them keep their pages until a trim."""
    assert _released_after_large_blocks("fixed") > 48 * 1024 * 1024


def test_an_operators_mmap_threshold_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert heap.fix_mmap_threshold() is False


def test_objects_alive_at_the_freeze_leave_the_collectors_sight() -> None:
    import gc

    kept = [[i] for i in range(10_000)]  # tracked containers, alive through the freeze
    try:
        moved = heap.freeze_long_lived()
        assert moved >= len(kept)
        assert gc.get_freeze_count() >= moved
        tracked_now = {id(obj) for obj in gc.get_objects()}
        assert not any(id(item) in tracked_now for item in kept)
    finally:
        gc.unfreeze()
