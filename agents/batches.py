"""How every agent consumes: a batch of events in, their outputs confirmed by Kafka together,
then their table writes, then their offsets.

Per batch (Faust's `noack_take`: up to `max_events`, or whatever came within `within`):
1. each event is handled on its own (the table partition is the event's): the handler reads
   state through the batch (`Batch.get`, which sees this batch's earlier writes), stages
   outputs (`Batch.send`) and table writes (`Batch.put`); an exception dead-letters that event
   only;
2. every output is sent without waiting for each (items staged with `send_folded` first become
   one record per topic and key), and the batch waits once for Kafka to have
   them all (acks=all), re-sending the lot after a failure until it has (at-least-once: a
   consumer de-duplicates on ids; re-sending everything keeps the order of each key's records);
3. the table writes are applied — after the outputs, as before: a crash in between replays
   the inputs, and the deterministic core yields the very same outputs — and their changelog
   records confirmed by Kafka, one record batch per partition (agents/changelog);
4. the events are acknowledged, so their offsets can be committed.

That replaces a produce request and an acknowledgement awaited per output (issue #17: ~54k
awaited sends for 5k events) by one wait per batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from faust.streams import _current_event

from agents import crashpoints
from agents.changelog import send_changelogs, serialized, store_write
from agents.kafka_io import log_failure, processing_failed
from agents.produce import PERMANENT, PartitionSendError, retry_delays, send_by_partition
from kesu.metrics import BATCH_EVENTS, KAFKA_SEND_REFUSED, KAFKA_SEND_RETRIES
from streams.codec import Rejection, dead_letter, encode_record, without_copies
from streams.records import DeadLetter, RejectReason, Source

log = logging.getLogger(__name__)

_DELETE = object()
#: A batch's handlers give the event loop back at least this often (seconds). Every stage
#: runs on the worker's one loop: a long batch of one (the grouping stage's 250 ms of voices
#: and delays) held the contact path's events until it was done.
HOLD_LOOP_AT_MOST = 0.005
#: Items of one folded record (agents/ingest: surge contacts of one key, ~300 bytes each).
MAX_FOLDED = 200
#: A folded record larger than this is split: Kafka's default max.message.bytes is 1 MB.
MAX_FOLDED_BYTES = 900_000


@dataclass
class _Output:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None
    origin: faust.types.EventT | None
    partition: None = None  # the key's (agents/produce)


@dataclass
class _Fold:
    encode: Callable[[list[Any]], bytes]
    max_items: int
    items: list[tuple[Any, faust.types.EventT]] = field(default_factory=list)


@dataclass
class _Write:
    event: faust.types.EventT
    table: Any
    key: str
    value: Any
    encode: Callable[[Any], Any] | None


@dataclass
class Batch:
    """One batch's staged outputs and table writes, and reads that see the staged writes."""

    app: faust.App
    dlq_topic: str
    clock: Callable[[], datetime]
    outputs: list[_Output] = field(default_factory=list)
    #: (table, key) -> (event, table, key, value, encode): only a key's last write is written
    writes: dict[tuple[int, str], _Write] = field(default_factory=dict)
    #: For the handler's own parsed state (e.g. a case's model), so that several events of one
    #: key in a batch parse and encode it once.
    memo: dict[Any, Any] = field(default_factory=dict)
    #: (topic, key, input partition or None) -> the items `send_folded` staged for one record
    folds: dict[tuple[str, bytes, Any], _Fold] = field(default_factory=dict)
    #: (topic, key, input partition or None) -> the place in `outputs` of `send_latest`'s record
    latest: dict[tuple[str, bytes, Any], int] = field(default_factory=dict)
    current: faust.types.EventT | None = None

    def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        """Stage an output of the current event (sent with the batch)."""
        pairs = list(headers.items()) if headers else None
        self.outputs.append(_Output(topic, key, value, pairs, self.current))

    def send_latest(self, topic: str, *, key: bytes, value: bytes) -> None:
        """Stage a record for a compacted topic, where only a key's last record counts: an
        earlier one of this batch with the same key is replaced (in its place), so a batch
        writes each key once. (Under exactly_once, per input partition, as `send_folded`.)"""
        if self.current is None:
            raise RuntimeError("an output belongs to an event")
        partition = self.current.message.tp if self.app.in_transaction else None
        place = self.latest.get((topic, key, partition))
        output = _Output(topic, key, value, None, self.current)
        if place is None:
            self.latest[(topic, key, partition)] = len(self.outputs)
            self.outputs.append(output)
        else:
            self.outputs[place] = output

    def send_folded(
        self,
        topic: str,
        *,
        key: bytes,
        item: Any,
        encode: Callable[[list[Any]], bytes],
        max_items: int = MAX_FOLDED,
    ) -> None:
        """Stage `item` for one record per topic and key of this batch: `encode` turns the
        items, in the order staged, into that record's value (at most `max_items` items a
        record: their largest size times it must fit the topic's 1 MB). One record where there
        were as many as items: each costs a produce, a fetch and an acknowledgement whatever
        its size (issue #17).

        Under exactly_once (the R7 experiment) a record folds one input partition's items
        only: its transaction is that partition's (`transaction_of`). At least once, items of
        every input partition share it — a replayed batch re-sends them all either way, and
        the consumers de-duplicate per item."""
        if self.current is None:
            raise RuntimeError("a folded output belongs to an event")
        partition = self.current.message.tp if self.app.in_transaction else None
        group = (topic, key, partition)
        fold = self.folds.setdefault(group, _Fold(encode, max_items))
        fold.items.append((item, self.current))

    def seal(self) -> None:
        """Turn the staged folds into outputs (after the batch's other outputs)."""
        for (topic, key, _), fold in self.folds.items():
            for start in range(0, len(fold.items), fold.max_items):
                chunk = fold.items[start : start + fold.max_items]
                for value, origin in _fitting(fold.encode, chunk):
                    self.outputs.append(_Output(topic, key, value, None, origin))
        self.folds.clear()

    def get(self, table: Any, key: str) -> Any:
        """The table's value for `key` as this batch left it (None when absent or deleted)."""
        staged = self.writes.get((id(table), key))
        if staged is not None:
            return None if staged.value is _DELETE else staged.value
        return table.get(key)

    def put(
        self,
        table: Any,
        key: str,
        value: Any,
        *,
        encode: Callable[[Any], Any] | None = None,
    ) -> None:
        """Stage `table[key] = value` (None deletes), written once the outputs are confirmed;
        `encode` turns the value into what the table stores, once, at write time."""
        if self.current is None:
            raise RuntimeError("a table write belongs to an event")
        stored = _DELETE if value is None else value
        self.writes[(id(table), key)] = _Write(self.current, table, key, stored, encode)

    def dead_letter(
        self, event: faust.types.EventT, rejection: Rejection, source: Source | None = None
    ) -> None:
        """Stage the dead letter of `event` (its exact bytes, origin and reason)."""
        from agents.kafka_io import origin_of

        message = event.message
        letter = dead_letter(
            rejection,
            raw=message.value,
            key=message.key,
            now=self.clock(),
            source=source,
            origin=origin_of(message),
        )
        previous, self.current = self.current, event
        self.send(self.dlq_topic, key=letter.dead_letter_id.encode(), value=encode_record(letter))
        self.current = previous


def _fitting(
    encode: Callable[[list[Any]], bytes], chunk: list[tuple[Any, faust.types.EventT]]
) -> list[tuple[bytes, faust.types.EventT]]:
    """`chunk` encoded as one record, or as several (halved until each fits
    `MAX_FOLDED_BYTES`): a record Kafka refuses as too large would dead-letter only the event
    that sealed it, and lose the others' items. Each record's origin is its last item's event."""
    value = encode([item for item, _ in chunk])
    if len(value) <= MAX_FOLDED_BYTES or len(chunk) == 1:
        return [(value, chunk[-1][1])]
    half = len(chunk) // 2
    return [*_fitting(encode, chunk[:half]), *_fitting(encode, chunk[half:])]


Handler = Callable[[faust.types.EventT, Batch], None]


async def consume_in_batches(
    app: faust.App,
    stream: faust.StreamT[bytes],
    *,
    name: str,
    dlq_topic: str,
    clock: Callable[[], datetime],
    handle: Handler,
    max_events: int = 500,
    within: float,
    after_batch: Callable[[Batch], Awaitable[None] | None] | None = None,
) -> None:
    """Run `handle` over `stream` batch by batch, forever (see the module docstring)."""
    take = stream.noack_take  # type: ignore[attr-defined]  # Stream has it; StreamT does not say
    async for events in take(max_events, within):
        batch = Batch(app, dlq_topic, clock)
        since = time.perf_counter()
        for index, event in enumerate(events):
            if index == len(events) // 2:
                crashpoints.reached("mid-batch", name)
            set_current(event)
            batch.current = event
            try:
                handle(event, batch)
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure(name, event.message, exc)
                batch.dead_letter(event, processing_failed(exc))
            if time.perf_counter() - since >= HOLD_LOOP_AT_MOST:
                await asyncio.sleep(0)  # the other stages' events wait for this loop too
                since = time.perf_counter()
        batch.seal()
        await deliver(app, batch, name)
        crashpoints.reached("after-produce", name)
        await write_tables(app, batch, name)
        if batch.writes:
            crashpoints.reached("after-changelog", name)
        if after_batch is not None:
            result = after_batch(batch)
            if asyncio.iscoroutine(result):
                await result
        for event in events:
            await stream.ack(event)
        BATCH_EVENTS.labels(name).observe(len(events))


async def write_tables(app: faust.App, batch: Batch, name: str) -> None:
    """Write the batch's staged table writes (each key's last), each on its event's partition,
    and return once their changelog records are in Kafka (agents/changelog). Tables in memory,
    and every table under exactly_once, are written the way Faust writes them
    (`apply_writes`): Faust sends their changelogs, flushed before it commits."""
    if app.in_transaction or not all(serialized(w.table) for w in batch.writes.values()):
        apply_writes(batch)
        return
    records = []
    for write in batch.writes.values():
        set_current(write.event)
        value = None if write.value is _DELETE else write.value
        if value is not None and write.encode is not None:
            value = write.encode(value)
        record = store_write(write.table, write.key, value, write.event.message.partition)
        if record is not None:
            records.append(record)
    set_current(None)
    if records:
        faust_producer: Any = app.producer  # the aiokafka driver's: it holds the client
        await send_changelogs(faust_producer._ensure_producer(), records, name)


def apply_writes(batch: Batch) -> None:
    """Write the batch's staged table writes (each key's last), each on its event's partition,
    through Faust's tables (each write sends its changelog record)."""
    for write in batch.writes.values():
        set_current(write.event)
        if write.value is _DELETE:
            write.table.pop(write.key, None)
        else:
            value = write.value if write.encode is None else write.encode(write.value)
            write.table[write.key] = value
    set_current(None)


def transaction_of(app: faust.App, origin: faust.types.EventT | None) -> str | None:
    """Under exactly_once (the R7 experiment only), the transaction of the input partition an
    output came from: Faust commits that partition's offsets in the same transaction. Faust's
    own choice (by the output's partition) would tie outputs to another partition's offsets.
    None under at_least_once, and for outputs of no input (timers)."""
    if origin is None or not app.in_transaction:
        return None
    tp = origin.message.tp
    return f"{app.conf.id}-{app.assignor.group_for_topic(tp.topic)}-{tp.partition}"


def cause_of(exc: BaseException) -> BaseException:
    """Faust (ProducerSendError) and agents/produce (PartitionSendError) wrap the client's
    error; the client's is what tells."""
    wrapped = isinstance(exc, ProducerSendError | PartitionSendError)
    return exc.__cause__ if wrapped and exc.__cause__ else exc


def set_current(event: faust.types.EventT | None) -> None:
    """Make `event` the current one of this task, as Faust's tables see it (they write to and
    read from its partition). Only the context variable: the stream's own `current_event`
    belongs to the background task that fills the take buffer."""
    _current_event.set(weakref.ref(event) if event is not None else None)


async def deliver(app: faust.App, batch: Batch, name: str) -> None:
    """Send every staged output and return once Kafka acknowledged them all.

    A record Kafka can never take (too large for its topic) is replaced by the dead letter of
    the event it came from; everything else is re-sent, in order, until it is acknowledged.
    """
    delays = retry_delays()
    while batch.outputs:
        refused = await _send_all(app, batch.outputs)
        if refused is None:
            return
        if isinstance(refused, _Output):
            batch.outputs = _replace_refused(batch, refused, name)
            continue
        KAFKA_SEND_RETRIES.labels(refused).inc()
        delay = next(delays)
        log.warning("%s: send to %s failed; re-sending the batch in %.1f s", name, refused, delay)
        await asyncio.sleep(delay)


async def _send_all(app: faust.App, outputs: list[_Output]) -> _Output | str | None:
    """None when all were acknowledged; the output Kafka refused for good; or the topic of a
    retriable failure.

    At least once, the outputs go out as one record batch per partition (agents/produce). A
    failure worth retrying (a broker away) is answered as such; when Kafka refused a record
    batch for good (too large), the outputs are sent again one by one, which finds the
    record it refuses. Under exactly_once (R7) each output is sent on its input partition's
    transactional producer."""
    if not app.in_transaction:
        faust_producer: Any = app.producer  # the aiokafka driver's: it holds the client
        try:
            await send_by_partition(faust_producer._ensure_producer(), outputs)
            return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a refused record is found one by one below
            if not isinstance(cause_of(exc), PERMANENT):
                return exc.topic if isinstance(exc, PartitionSendError) else outputs[0].topic
            log.info("batched send refused (%s); sending one by one", cause_of(exc))
    futures: list[tuple[_Output, asyncio.Future[Any]]] = []
    try:
        for output in outputs:
            future = await app.producer.send(
                output.topic,
                output.key,
                output.value,
                partition=None,
                timestamp=None,
                headers=output.headers,
                transactional_id=transaction_of(app, output.origin),
            )
            futures.append((output, asyncio.ensure_future(future)))
    except (KafkaError, ProducerSendError) as exc:
        _forget(futures)
        if isinstance(cause_of(exc), PERMANENT):
            return outputs[len(futures)]
        return outputs[len(futures)].topic
    results = await asyncio.gather(*(f for _, f in futures), return_exceptions=True)
    failed = next(
        (
            (output, r)
            for (output, _), r in zip(futures, results, strict=True)
            if isinstance(r, BaseException)
        ),
        None,
    )
    if failed is None:
        return None
    output, error = failed
    if isinstance(error, asyncio.CancelledError):
        raise error
    return output if isinstance(cause_of(error), PERMANENT) else output.topic


def _forget(futures: list[tuple[_Output, asyncio.Future[Any]]]) -> None:
    for _, future in futures:
        future.add_done_callback(lambda f: f.cancelled() or f.exception())


def _replace_refused(batch: Batch, refused: _Output, name: str) -> list[_Output]:
    """The outputs with the refused one replaced by a dead letter of its event (or, for a
    refused dead letter, by the same letter without the copied bytes)."""
    KAFKA_SEND_REFUSED.labels(refused.topic).inc()
    log.error("%s: %s refused a record for good (too large)", name, refused.topic)
    outputs = [o for o in batch.outputs if o is not refused]
    if refused.topic == batch.dlq_topic and refused.value is not None:
        letter = without_copies(DeadLetter.model_validate_json(refused.value))
        outputs.append(
            _Output(refused.topic, refused.key, encode_record(letter), None, refused.origin)
        )
    elif refused.origin is not None:
        rest = Batch(batch.app, batch.dlq_topic, batch.clock)
        rest.dead_letter(
            refused.origin,
            Rejection(
                RejectReason.PROCESSING_FAILED,
                f"an output to {refused.topic} was too large for the topic",
            ),
        )
        outputs.extend(rest.outputs)
    return outputs
