"""The notifier commits only past records whose every delivery has finished."""

from __future__ import annotations

import pytest

from notify.inflight import InFlight


def test_the_commit_stops_at_the_oldest_record_still_held() -> None:
    book = InFlight()
    for offset in (10, 11, 12):
        book.read("p0", offset)
    book.hold("p0", 10)
    book.hold("p0", 11)
    book.hold("p0", 11)
    assert book.committable() == {} and len(book) == 3  # 10 is still being delivered
    book.release("p0", 11)
    book.release("p0", 11)  # 11 is done, but 10 is not: nothing may be committed yet
    assert book.committable() == {}
    book.release("p0", 10)
    assert book.committable() == {"p0": 13}  # 12 never held (no subscriber): done at once
    assert len(book) == 0 and book.committable() == {}


def test_partitions_advance_independently() -> None:
    book = InFlight()
    book.read("p0", 5)
    book.hold("p0", 5)
    book.read("p1", 7)
    book.read("p1", 8)
    book.hold("p1", 8)
    assert book.committable() == {"p1": 8}  # p0 waits for its slow delivery, p1 does not
    book.release("p0", 5)
    assert book.committable() == {"p0": 6}
    book.release("p1", 8)
    assert book.committable() == {"p1": 9}


def test_offsets_must_come_in_order() -> None:
    book = InFlight()
    book.read("p0", 3)
    with pytest.raises(ValueError, match="out of order"):
        book.read("p0", 3)
