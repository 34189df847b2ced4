"""The seek fence (agents/seek_fence.py): records fetched before a partition was sought never
reach a stream after the seek, never move where reading resumes, and are read again."""

from __future__ import annotations

from agents.seek_fence import FencedReadOffsets, InFlight, SeekFence, fenced

P0, P1 = ("raw.social", 0), ("raw.social", 1)


def test_records_fetched_before_a_seek_stop_at_it_and_the_partition_is_read_again() -> None:
    fence = SeekFence()
    reseek: list[object] = []
    fetched_at = fence.serial
    records = fenced({P0: [5, 6, 7], P1: [1, 2]}, fence, fetched_at, reseek.append)
    delivered = []
    first = iter(records[P0])
    delivered.append(next(first))  # record 5 delivered before the seek
    fence.seeking([P0])
    fence.aimed({P0: 0})
    delivered.extend(first)  # 6 and 7 were fetched from the old position: not delivered
    assert delivered == [5] and reseek == [P0] and fence.target(P0) == 0
    assert list(records[P1]) == [1, 2]  # the partition not sought goes on


def test_a_fetch_after_the_seek_is_delivered_whole() -> None:
    fence = SeekFence()
    fence.seeking([P0])
    fence.aimed({P0: 3})
    reseek: list[object] = []
    records = fenced({P0: [3, 4]}, fence, fence.serial, reseek.append)
    assert list(records[P0]) == [3, 4] and reseek == []


def test_a_read_offset_from_before_the_seek_does_not_move_the_seeks() -> None:
    fence = SeekFence()
    offsets = FencedReadOffsets(fence)
    offsets.delivering = fence.serial  # a fetch began…
    offsets[P0] = 41
    fence.seeking([P0])  # …the partition is sought back to its committed offset…
    offsets.update({P0: 12})  # (Faust's perform_seek writes with update)
    offsets[P0] = 42  # …and the record in flight from the old fetch finishes
    assert offsets[P0] == 12 and offsets.refused == 1
    offsets[P1] = 7  # other partitions are unaffected
    assert offsets[P1] == 7
    offsets.delivering = fence.serial  # the next fetch began after the seek
    offsets[P0] = 12
    assert offsets[P0] == 12 and offsets.refused == 1
    offsets[P0] = 13
    assert offsets[P0] == 13


def test_revoked_partitions_are_forgotten() -> None:
    fence = SeekFence()
    fence.seeking([P0])
    fence.aimed({P0: 9})
    fence.forget([P0])
    assert not fence.sought_since(P0, 0) and fence.target(P0) is None
    assert FencedReadOffsets(fence)[P1] is None  # unknown partitions read as None, as in Faust


def test_in_flight_floor_is_the_lowest_offset_not_yet_acknowledged() -> None:
    flight = InFlight()
    assert flight.floor(P0, None) is None
    for offset in (0, 1, 2, 3):
        flight.add(P0, offset)
    for offset in (1, 2, 3):  # the record at 0 was lost between queue and stream
        flight.discard(P0, offset)
    assert flight.floor(P0, None) == 0  # no commit may pass it
    flight.discard(P0, 0)  # read again after the seek, and acknowledged
    assert flight.floor(P0, None) is None


def test_in_flight_offsets_below_the_commit_are_dropped() -> None:
    flight = InFlight()
    flight.add(P0, 4)
    flight.add(P0, 9)
    assert flight.floor(P0, 5) == 9 and flight.floor(P0, 10) is None
    flight.add(P1, 2)
    flight.forget([P1])
    assert flight.floor(P1, None) is None


def test_a_delivery_is_reported_unless_it_was_refused() -> None:
    fence = SeekFence()
    delivered: list[tuple[object, int]] = []
    offsets = FencedReadOffsets(
        fence, on_delivered=lambda tp, offset: delivered.append((tp, offset))
    )
    offsets[P0] = 3
    fence.seeking([P0])
    offsets[P0] = 4  # fetched before the seek: refused, not in flight
    assert delivered == [(P0, 3)]


def test_an_offset_never_acknowledged_is_reported_after_the_patience() -> None:
    flight = InFlight()
    flight.add(P0, 7, at=100.0)
    flight.add(P0, 8, at=150.0)
    assert flight.stalled(now=200.0, patience=120.0) is None
    assert flight.stalled(now=221.0, patience=120.0) == (P0, 7)
    flight.discard(P0, 7)
    assert flight.stalled(now=221.0, patience=120.0) is None


def test_in_flight_describes_how_many_offsets_wait_and_the_lowest() -> None:
    in_flight = InFlight()
    assert in_flight.describe("p") == "0"
    in_flight.add("p", 12)
    in_flight.add("p", 7)
    assert in_flight.describe("p") == "2@7"
    in_flight.discard("p", 7)
    assert in_flight.describe("p") == "1@12"
