"""Partition counts as kesu judges them: a topic a broker lists before its partitions are in
the metadata (just created by another process) is looked at again, not judged as having 0."""

from __future__ import annotations

from typing import Any

import pytest

from kesu import topic_admin
from kesu.topic_admin import DESCRIBE_ATTEMPTS, partition_counts


class _Metadata:
    """Describes each topic with no partitions for its first `late` looks (a broker whose
    metadata has not caught up yet), then with its real count."""

    def __init__(self, partitions: dict[str, int], late: dict[str, int]) -> None:
        self.partitions, self.late, self.asked = partitions, dict(late), []

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        self.asked.append(list(names))
        out = []
        for name in names:
            behind = self.late.get(name, 0)
            self.late[name] = behind - 1
            count = 0 if behind > 0 else self.partitions[name]
            out.append({"name": name, "partitions": [{"partition": p} for p in range(count)]})
        return out


def test_a_topic_described_without_partitions_is_looked_at_again() -> None:
    metadata = _Metadata({"a": 6, "b": 4}, late={"a": 2})
    waits: list[float] = []
    assert partition_counts(metadata, ["a", "b"], sleep=waits.append) == {"a": 6, "b": 4}  # type: ignore[arg-type]
    assert metadata.asked == [["a", "b"], ["a"], ["a"]]  # only the one not yet described
    assert waits == [topic_admin.DESCRIBE_WAIT] * 2


def test_a_topic_that_never_shows_partitions_is_reported_with_none() -> None:
    metadata = _Metadata({"a": 6}, late={"a": 10 * DESCRIBE_ATTEMPTS})
    waits: list[float] = []
    assert partition_counts(metadata, ["a"], sleep=waits.append) == {"a": 0}  # type: ignore[arg-type]
    assert len(metadata.asked) == DESCRIBE_ATTEMPTS
    assert len(waits) == DESCRIBE_ATTEMPTS - 1


@pytest.mark.parametrize("late", [0, 3])
def test_a_mismatch_is_still_a_mismatch(late: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topic_admin.time, "sleep", lambda _s: None)
    metadata = _Metadata({"a": 4}, late={"a": late})
    with pytest.raises(topic_admin.TopicMismatch, match="has 4 partitions but kesu needs 6"):
        topic_admin._check_partitions(metadata, {"a": 6})  # type: ignore[arg-type]
