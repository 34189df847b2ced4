"""Record batches read from a broker's log segment files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bench.ladder.kafkalog import appended_since, parse_batches

HEADER = struct.Struct(">qiibIhiqqqhii")


def batch(base: int, count: int, max_ts: int, *, control: bool = False, body: int = 20) -> bytes:
    """A v2 batch: header (length counts from the epoch on) and `body` bytes of records."""
    length = HEADER.size - 12 + body
    attributes = 0x20 if control else 0
    header = HEADER.pack(
        base, length, 0, 2, 0, attributes, count - 1, max_ts - 5, max_ts, -1, -1, -1, count
    )
    return header + b"\x00" * body


class TestParseBatches:
    def test_reads_counts_offsets_and_max_timestamps_in_order(self) -> None:
        data = batch(0, 3, 1_000) + batch(3, 1, 1_050, body=7) + batch(4, 500, 2_000, body=900)
        got = [(b.base_offset, b.records, b.max_timestamp_ms) for b in parse_batches(data)]
        assert got == [(0, 3, 1_000), (3, 1, 1_050), (4, 500, 2_000)]

    def test_stops_at_a_batch_still_being_written(self) -> None:
        whole = batch(0, 2, 10) + batch(2, 2, 20)
        assert [b.base_offset for b in parse_batches(whole[:-5])] == [0]

    def test_marks_control_batches(self) -> None:
        assert [
            b.control for b in parse_batches(batch(0, 1, 1, control=True) + batch(1, 1, 2))
        ] == [True, False]

    def test_refuses_old_message_formats(self) -> None:
        data = bytearray(batch(0, 1, 1))
        data[16] = 1  # magic
        with pytest.raises(ValueError, match="magic 1"):
            list(parse_batches(bytes(data)))


def test_appended_since_counts_only_data_batches_past_the_start(tmp_path: Path) -> None:
    """Batches before the start offset and transaction markers are not part of the run."""
    part = tmp_path / "ns.valid.events-0"
    part.mkdir()
    (part / "00000000000000000000.log").write_bytes(batch(0, 5, 100) + batch(5, 2, 200))
    (part / "00000000000000000007.log").write_bytes(
        batch(7, 4, 300) + batch(11, 1, 900, control=True)
    )
    other = tmp_path / "ns.dlq-0"
    other.mkdir()
    (other / "00000000000000000000.log").write_bytes(batch(0, 1, 250))
    got = appended_since(tmp_path, {("ns.valid.events", 0): 5, ("ns.dlq", 0): 0})
    assert (got.records, got.batches, got.last_timestamp_ms) == (7, 3, 300)
    assert got.by_topic == {"ns.dlq": 1, "ns.valid.events": 6}
