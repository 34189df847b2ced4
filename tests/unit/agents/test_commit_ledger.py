"""A commit the broker refused is not believed done (agents/commit_ledger.py): the offsets are
tried again by the next commit, and a seek makes the broker's word the consumer's belief.

The consumer tests run Faust's own commit path in kesu's consumer; only the thread that talks
to Kafka is a stand-in, refusing as aiokafka's driver does when the group is rebalancing (it
returns False and says nothing). The crash trials exercise the real thing against a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from agents.app import create_app
from agents.commit_ledger import RefusedCommits
from kesu.settings import Settings

P0, P1 = TP("raw.call", 0), TP("raw.call", 1)


def test_a_refused_offset_is_offered_to_the_next_commit_until_one_covers_it() -> None:
    ledger = RefusedCommits()
    ledger.refused({P0: 10, P1: 4})
    ledger.refused({P0: 7})  # a lower refusal does not lower the retry
    always = lambda tp, offset: True  # noqa: E731
    assert ledger.merged_into({P0: 3}, assigned={P0, P1}, worth_committing=always) == {
        P0: 10,
        P1: 4,
    }
    assert ledger.merged_into({P0: 12}, assigned={P0}, worth_committing=always) == {P0: 12}
    ledger.committed({P0: 10, P1: 3})  # covers P0's retry, not P1's
    assert ledger.merged_into({}, assigned={P0, P1}, worth_committing=always) == {P1: 4}
    ledger.forget([P1])
    assert not ledger


def test_a_retry_behind_the_belief_is_not_offered() -> None:
    ledger = RefusedCommits()
    ledger.refused({P0: 10})
    behind = lambda tp, offset: offset > 20  # noqa: E731  (the consumer already committed 20)
    assert ledger.merged_into({}, assigned={P0}, worth_committing=behind) == {}


class _RefusingThread:
    """Kafka's side of the consumer: records what it was asked to commit, refuses on demand."""

    def __init__(self, assigned: set[TP], committed: Mapping[TP, int | None]) -> None:
        self.assigned = assigned
        self.broker = dict(committed)
        self.refuse = False
        self.asked: list[dict[TP, int]] = []

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    async def commit(self, offsets: Mapping[TP, int]) -> bool:
        self.asked.append(dict(offsets))
        if self.refuse:
            return False
        self.broker.update(offsets)
        return True

    async def seek_to_committed(self) -> Mapping[TP, int | None]:
        return {tp: self.broker.get(tp) for tp in self.assigned}


@pytest.fixture
def consumer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = create_app(
        Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", namespace="x", data_dir=tmp_path)
    )
    consumer = app.consumer
    consumer._thread = _RefusingThread({P0}, {P0: None})

    async def flushed() -> None:
        return None

    monkeypatch.setattr(app.producer, "flush", flushed)
    return consumer


def _ack(consumer: Any, *offsets: int) -> None:
    consumer._acked[P0].extend(offsets)
    consumer._acked_index[P0].update(offsets)


def test_a_refused_commit_is_not_believed_and_the_next_commit_sends_it_again(
    consumer: Any,
) -> None:
    async def run() -> None:
        thread = consumer._thread
        _ack(consumer, 0, 1, 2)
        assert await consumer.force_commit() and thread.broker[P0] == 3
        _ack(consumer, 3, 4)
        thread.refuse = True
        assert not await consumer.force_commit()
        assert thread.asked[-1] == {P0: 5} and thread.broker[P0] == 3
        assert consumer._committed_offset[P0] == 3  # Faust alone would believe 5, for good
        thread.refuse = False
        _ack(consumer, 5, 6)
        assert await consumer.force_commit()
        assert thread.broker[P0] == 5  # the refused offset first: the acks after it wait
        assert await consumer.force_commit()
        assert thread.broker[P0] == 7 and consumer._committed_offset[P0] == 7
        assert not consumer._refused

    asyncio.run(run())


def test_a_partition_revoked_during_a_refused_commit_is_not_believed_committed(
    consumer: Any,
) -> None:
    async def run() -> None:
        thread = consumer._thread
        _ack(consumer, 0, 1)

        async def refused_while_revoked(offsets: Mapping[TP, int]) -> bool:
            await consumer.on_partitions_revoked({P0})  # the rebalance's revoke, meanwhile
            thread.assigned = set()
            return False

        thread.commit = refused_while_revoked
        assert not await consumer.force_commit()
        assert P0 not in consumer._committed_offset and not consumer._refused

    asyncio.run(run())


def test_a_seek_of_a_never_committed_partition_drops_a_stale_belief(consumer: Any) -> None:
    async def run() -> None:
        consumer._committed_offset[P0] = 950  # believed from a commit the broker never recorded
        consumer._refused.refused({P0: 950})
        await consumer.seek_to_committed()
        assert consumer._committed_offset[P0] is None and not consumer._refused
        _ack(consumer, 0, 1)  # records read again from the start now commit
        assert await consumer.force_commit()
        assert consumer._thread.broker[P0] == 2

    asyncio.run(run())
