"""kesu/heap.py: the worker hands freed malloc memory back, and respects an operator's limit."""

from __future__ import annotations

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
