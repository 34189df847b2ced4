"""Crash trials R1 and R4 of ../shared/test-plan.md (`make reliability`): SIGKILL a worker
mid-stream and check that no accepted event was lost and no alert change became visible twice;
and a reproduction of the defect they found.

A thousand mixed events (tier-1 threats, some followed by a second contact; tier-2 faults; calm
texts; hostile records) go to the raw topics. When a random share (10–90 %) of them has been
assessed, the worker is killed -9 and restarted 1–3 s later. Afterwards:

- lost = 0: every good event has an assessment, every hostile record a dead letter carrying its
  exact bytes;
- every customer with a complaint has exactly one alert, opened once, holding every one of its
  contacts and no extra ones;
- visible_dup = 0: copies of a lifecycle record (at-least-once may re-send one) are identical, so a
  receiver that de-duplicates on `record_id` sees each change once, and versions run 1..n.

The seed is printed; `KESU_CRASH_SEED=<n>` replays a run. `KESU_TRIAL_RUNS=<n>` repeats R1, R4
and the reproduction n times on one broker (`make reliability-loop`), each run with its own seed
and its own line in the trials table.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from agents.crashpoints import POINTS
from streams.records import AlertEvent, AlertKind, AssessedEvent, DeadLetter, Source, Transition
from streams.topics import ASSESSMENTS, CLEAN, DLQ, LIFECYCLE, RAW, SURGE_CONTACTS, VALID
from tests import hostile
from tests.conftest import Broker, SettingsFactory, Worker, WorkerFactory
from tests.factories import make_event, to_bytes
from tests.integration.support import eventually, publish, read_all, wait_caught_up
from tests.integration.trials import TrialRow, report

#: Repetitions of R1, R4 and the never-committed reproduction (each with its own seed).
RUNS = range(1, int(os.environ.get("KESU_TRIAL_RUNS", "1")) + 1)

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！"
SECOND_CONTACT = "我已经是第三次打电话了，到现在还是没人处理，太失望了"
FAULT = "手机用了三天就黑屏，开不了机，麻烦帮忙看看怎么修"
CALM = ("谢谢你们，师傅很专业，问题解决了", "请问发票什么时候能开好？", "收到了，包装很好")

THREAT_CUSTOMERS = 150  # one alert each; the first third also call a second time
FAULT_CUSTOMERS = 150
CALM_EVENTS = 600
HOSTILE_RECORDS = 50

#: pytest-timeout for a trial: longer than the sum of its own waits, so a stalled run fails in
#: its own wait, which dumps every worker's asyncio task stacks into the failure (the default
#: 300 s killed R4 before that dump could fire).
TRIAL_TIMEOUT = 1800


def _stream(rng: random.Random) -> tuple[list[tuple[bytes, bytes]], dict[str, list[str]]]:
    """The raw call records (keyed by customer, so one customer's calls stay in order) in a
    shuffled interleaving, and per customer expected to have an alert the ids of its contacts."""
    calls: dict[str, list[dict[str, object]]] = {}
    for n in range(THREAT_CUSTOMERS):
        texts = [THREAT, SECOND_CONTACT] if n % 3 == 0 else [THREAT]
        calls[f"crash-threat-{n}"] = [make_event(Source.CALL, text=text) for text in texts]
    for n in range(FAULT_CUSTOMERS):
        calls[f"crash-fault-{n}"] = [make_event(Source.CALL, text=FAULT)]
    for n in range(CALM_EVENTS):
        calls[f"crash-calm-{n}"] = [make_event(Source.CALL, text=CALM[n % len(CALM)])]
    for customer, events in calls.items():
        for event in events:
            event["customer_id"] = customer
    turns = [customer for customer, events in calls.items() for _ in events]
    rng.shuffle(turns)
    pending = {customer: iter(events) for customer, events in calls.items()}
    records = [(customer.encode(), to_bytes(next(pending[customer]))) for customer in turns]
    contacts = {
        customer: [str(event["event_id"]) for event in events]
        for customer, events in calls.items()
        if not customer.startswith("crash-calm-")
    }
    return records, contacts


def _hostile_records() -> list[tuple[bytes | None, bytes]]:
    # Records the broker itself refuses (over 1 MiB) never become accepted input.
    cases = [case for case in hostile.cases() if case.payload and len(case.payload) < 512 * 1024]
    return [(None, cases[n % len(cases)].payload or b"") for n in range(HOSTILE_RECORDS)]


class _Progress:
    """Counts distinct event ids on the assessments topic as they arrive."""

    def __init__(
        self, bootstrap: str, topic: str, isolation_level: str = "read_uncommitted"
    ) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level
        )
        partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.seen: set[str] = set()

    def count(self) -> int:
        for batch in self.consumer.poll(timeout_ms=200).values():
            self.seen.update(AssessedEvent.model_validate_json(r.value).event_id for r in batch)
        return len(self.seen)

    def close(self) -> None:
        self.consumer.close()


@contextmanager
def _task_stacks_on_timeout(workers: list[Worker]) -> Iterator[None]:
    """If a wait times out, ask each worker for every asyncio task's stack (mode's SIGUSR1
    handler writes them to its log) and put the logs' tails into the failure."""
    try:
        yield
    except AssertionError as exc:
        for worker in workers:
            if worker.process is not None:
                worker.process.signal(signal.SIGUSR1)
        time.sleep(5)
        logs = "\n".join(f"--- worker log ---\n{w.output()[-20000:]}" for w in workers)
        raise AssertionError(f"{exc}\n{logs}") from exc


def _wait_settled(bootstrap: str, group: str, stages: list[list[str]]) -> None:
    """Wait stage by stage until the worker has committed everything on its input topics."""
    for topics in stages:
        wait_caught_up(bootstrap, group, topics, timeout=180)


@pytest.mark.reliability
@pytest.mark.timeout(TRIAL_TIMEOUT)
@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("after_kill", ["restart", "survivor"])
def test_a_worker_killed_mid_stream_loses_nothing_and_shows_no_change_twice(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
    after_kill: str,
    run: int,
) -> None:
    """`restart`: the only worker is killed and started again 1–3 s later (R1).
    `survivor`: one of two workers is killed and stays down; the other must take over its
    partitions and tables and finish the stream (R4)."""
    seed = int(os.environ.get("KESU_CRASH_SEED") or random.randrange(1 << 32))
    print(f"KESU_CRASH_SEED={seed}")
    rng = random.Random(seed)
    settings = make_settings()
    ns = settings.namespace
    good, contacts = _stream(rng)
    bad = _hostile_records()
    good_ids = {str(json.loads(value)["event_id"]) for _, value in good}

    victim = worker_factory(settings)
    others = []
    if after_kill == "survivor":
        others.append(worker_factory(settings.model_copy(update={"data_dir": tmp_path / "w2"})))
    progress = _Progress(kafka_broker.bootstrap, ASSESSMENTS.name(ns))
    try:
        raw = RAW[Source.CALL].name(ns)
        publish(kafka_broker.bootstrap, raw, [*good[: len(good) // 2], *bad])
        publish(kafka_broker.bootstrap, raw, good[len(good) // 2 :])
        kill_at = int(os.environ.get("KESU_CRASH_AT") or len(good_ids) * rng.uniform(0.1, 0.9))
        eventually(
            lambda: progress.count() >= kill_at,
            timeout=180,
            interval=0.05,
            what=f"{kill_at} assessed events",
        )
        victim.kill()
        killed_at = progress.count()
        if after_kill == "restart":
            time.sleep(rng.uniform(1, 3))
        resumed = time.monotonic()
        if after_kill == "restart":
            victim.start()
            others.append(victim)
        with _task_stacks_on_timeout(others):
            eventually(
                lambda: progress.count() > killed_at or progress.count() == len(good_ids),
                timeout=180,
                what="the first assessment after the kill",
            )
            recovery = time.monotonic() - resumed
            eventually(
                lambda: progress.count() == len(good_ids),
                timeout=300,
                what=f"all {len(good_ids)} events assessed",
            )
            finished = time.monotonic() - resumed
    finally:
        progress.close()
    # a commit stall (every event assessed, offsets not committed: 2 of ~160 R1 runs, cause not
    # known) dumps each live worker's tasks and commit bookkeeping into the failure too
    with _task_stacks_on_timeout(others):
        _wait_settled(
            kafka_broker.bootstrap,
            ns,
            [
                [raw, VALID.name(ns)],
                [ASSESSMENTS.name(ns), SURGE_CONTACTS.name(ns)],
            ],
        )
    figures = _check_nothing_lost_nothing_twice(kafka_broker, ns, good_ids, bad, contacts)
    print(
        f"{after_kill}: killed after {killed_at}/{len(good_ids)} assessed; from the "
        f"{'restart' if after_kill == 'restart' else 'kill'}: first new assessment "
        f"{recovery:.1f} s, all assessed {finished:.1f} s; {figures}"
    )
    report(
        TrialRow(
            trial="R1 worker kill -9 + restart"
            if after_kill == "restart"
            else "R4 one of two workers killed",
            sent=len(good) + len(bad),
            accepted=len(good) + len(bad),
            processed=len(good_ids) + len(bad),
            lost=0,
            duplicated=0,
            recovery_s=recovery,
            note=f"seed {seed}; killed after {killed_at}; {figures}",
        )
    )


@pytest.mark.reliability
@pytest.mark.timeout(TRIAL_TIMEOUT)
@pytest.mark.parametrize("trial", [1, 2])
@pytest.mark.parametrize("point", POINTS)
def test_r2_a_worker_dying_at_a_crash_point_loses_nothing_and_shows_no_change_twice(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    tmp_path: Path,
    point: str,
    trial: int,
) -> None:
    """R2: the worker exits at a chosen place of its batch cycle (agents/crashpoints.py) —
    mid-batch, after its outputs are acknowledged but before its tables and offsets, after its
    changelog writes but before its offsets, or while a rebalance revokes its partitions — and
    is started again; the same checks as R1."""
    seed = int(os.environ.get("KESU_CRASH_SEED") or random.randrange(1 << 32))
    print(f"KESU_CRASH_SEED={seed}")
    rng = random.Random(seed)
    settings = make_settings()
    ns = settings.namespace
    good, contacts = _stream(rng)
    bad = _hostile_records()
    good_ids = {str(json.loads(value)["event_id"]) for _, value in good}
    after = 2 if point == "rebalance" else rng.randint(2, 6)  # revocation 1 is the first join
    victim = Worker(settings, tmp_path)
    other = Worker(settings.model_copy(update={"data_dir": tmp_path / "w2"}), tmp_path / "w2")
    (tmp_path / "w2").mkdir()
    progress = _Progress(kafka_broker.bootstrap, ASSESSMENTS.name(ns))
    try:
        victim.start({"KESU_CRASH_POINT": point, "KESU_CRASH_AFTER": str(after)})
        raw = RAW[Source.CALL].name(ns)
        publish(kafka_broker.bootstrap, raw, [*good[: len(good) // 2], *bad])
        publish(kafka_broker.bootstrap, raw, good[len(good) // 2 :])
        process = victim.process
        assert process is not None and process.process is not None

        def died() -> bool:
            return process.process is not None and process.process.poll() is not None

        if point == "rebalance":  # a second worker joins; the victim dies while it gives way
            eventually(
                lambda: progress.count() >= len(good_ids) // 5 or died(),
                timeout=180,
                what="a fifth assessed",
            )
            if not died():
                other.start()
        eventually(
            died,
            timeout=240,
            what=f"the worker to reach {point} (#{after}) and die",
        )
        crashed_at = progress.count()
        victim.process = None
        time.sleep(rng.uniform(1, 3))
        restarted = time.monotonic()
        victim.start()
        with _task_stacks_on_timeout([w for w in (victim, other) if w.process is not None]):
            eventually(
                lambda: progress.count() == len(good_ids),
                timeout=300,
                what=f"all {len(good_ids)} events assessed",
            )
        finished = time.monotonic() - restarted
        with _task_stacks_on_timeout([w for w in (victim, other) if w.process is not None]):
            _wait_settled(
                kafka_broker.bootstrap,
                ns,
                [[raw, VALID.name(ns)], [ASSESSMENTS.name(ns), SURGE_CONTACTS.name(ns)]],
            )
    finally:
        progress.close()
        victim.stop()
        other.stop()
    figures = _check_nothing_lost_nothing_twice(kafka_broker, ns, good_ids, bad, contacts)
    report(
        TrialRow(
            trial=f"R2 crash at {point} (#{trial})",
            sent=len(good) + len(bad),
            accepted=len(good) + len(bad),
            processed=len(good_ids) + len(bad),
            lost=0,
            duplicated=0,
            recovery_s=finished,
            note=f"seed {seed}; died at batch {after} after {crashed_at} assessed; {figures}",
        )
    )


def _check_nothing_lost_nothing_twice(
    kafka_broker: Broker,
    ns: str,
    good_ids: set[str],
    bad: list[tuple[bytes | None, bytes]],
    contacts: dict[str, list[str]],
) -> str:
    """The trial's pass criteria; returns the figures for the report line."""
    assessed = [
        AssessedEvent.model_validate_json(r.value)
        for r in read_all(kafka_broker.bootstrap, [ASSESSMENTS.name(ns)])
    ]
    assert {a.event_id for a in assessed} == good_ids, "an accepted event was lost"
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in read_all(kafka_broker.bootstrap, [DLQ.name(ns)])
    ]
    lettered = Counter(hashlib.sha256(letter.original.to_bytes()).hexdigest() for letter in letters)
    wanted = Counter(hashlib.sha256(value).hexdigest() for _, value in bad)
    assert all(lettered[digest] >= n for digest, n in wanted.items()), "a dead letter was lost"

    lifecycle = [
        AlertEvent.model_validate_json(r.value)
        for r in read_all(kafka_broker.bootstrap, [LIFECYCLE.name(ns)])
    ]
    copies: dict[str, set[str]] = defaultdict(set)
    for record in lifecycle:
        copies[record.record_id].add(record.model_dump_json())
    conflicting = sorted(rid for rid, variants in copies.items() if len(variants) > 1)
    assert conflicting == [], f"copies of one record_id differ: {conflicting[:5]}"

    timelines: dict[str, list[AlertEvent]] = defaultdict(list)
    for record_id in copies:
        record = AlertEvent.model_validate_json(next(iter(copies[record_id])))
        timelines[record.alert_id].append(record)
    for alert_id, timeline in timelines.items():
        versions = sorted(r.version for r in timeline)
        assert versions == list(range(1, len(versions) + 1)), f"{alert_id}: versions {versions}"
        opened = [r for r in timeline if r.transition is Transition.OPENED]
        assert len(opened) == 1, f"{alert_id} opened {len(opened)} times"

    complaint_alerts: dict[str, list[AlertEvent]] = defaultdict(list)
    for timeline in timelines.values():
        latest = max(timeline, key=lambda r: r.version)
        if latest.alert.kind is AlertKind.COMPLAINT:
            complaint_alerts[latest.alert.customer_id or ""].append(latest)
    assert set(complaint_alerts) == set(contacts), "an alert is missing or a calm text opened one"
    wrong = {
        customer: (alerts[0].alert.contacts, alerts[0].alert.event_ids)
        for customer, alerts in complaint_alerts.items()
        if len(alerts) != 1
        or alerts[0].alert.contacts != len(contacts[customer])
        or sorted(alerts[0].alert.event_ids) != sorted(contacts[customer])
    }
    assert wrong == {}, (
        f"alerts whose contacts differ from what was sent: {list(wrong.items())[:5]}"
    )

    raw_dup = len(lifecycle) - len(copies)
    return (
        f"lifecycle records {len(lifecycle)}, raw_dup {raw_dup}, visible_dup 0; "
        f"assessments {len(assessed)} for {len(good_ids)} events"
    )


@pytest.mark.reliability
@pytest.mark.timeout(TRIAL_TIMEOUT)
@pytest.mark.parametrize("run", RUNS)
def test_a_restart_that_rebuilds_its_tables_still_reads_partitions_never_committed(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
    run: int,
) -> None:
    """While Faust restores tables it also reads stream partitions and drops what it read; it
    then seeks each stream partition back to its committed offset, and aiokafka's
    seek_to_committed left a partition without one where it was, so the records waiting there
    were skipped (reproduced in 3 of 3 runs on the development machine before the fix; timing
    decides whether a run reaches the case). agents/consumer.py sends such a partition back
    to its start: every record must be assessed."""
    settings = make_settings()
    ns = settings.namespace
    worker = worker_factory(settings)
    calls = [make_event(Source.CALL, customer_id=f"warm-{n}", text=THREAT) for n in range(20)]
    publish(
        kafka_broker.bootstrap,
        RAW[Source.CALL].name(ns),
        [(str(e["customer_id"]).encode(), to_bytes(e)) for e in calls],
    )
    _wait_settled(
        kafka_broker.bootstrap,
        ns,
        [
            [RAW[Source.CALL].name(ns), VALID.name(ns)],
            [ASSESSMENTS.name(ns)],
        ],
    )
    worker.stop()

    # The social topic has never carried a record, so the group has no offset for it.
    posts = [make_event(Source.SOCIAL, text=FAULT) for _ in range(12)]
    publish(
        kafka_broker.bootstrap,
        RAW[Source.SOCIAL].name(ns),
        [(str(p["event_id"]).encode(), to_bytes(p)) for p in posts],
    )
    fresh_disk = settings.model_copy(update={"data_dir": tmp_path / "new-disk"})
    restarted = worker_factory(fresh_disk)
    wanted = {str(p["event_id"]) for p in posts}

    def missing() -> set[str]:
        return wanted - {
            AssessedEvent.model_validate_json(r.value).event_id
            for r in read_all(kafka_broker.bootstrap, [ASSESSMENTS.name(ns)])
        }

    with _task_stacks_on_timeout([restarted]):
        try:
            eventually(
                lambda: not missing(),
                timeout=120,
                what="the posts that waited on a never-committed partition to be assessed",
            )
        except AssertionError as exc:  # skipped (committed past them) or only slow?
            lost = missing()
            raise AssertionError(
                f"{exc}: {len(lost)} of {len(wanted)} posts not assessed; the group's "
                f"positions (committed, end) on the social topic: "
                f"{_positions(kafka_broker.bootstrap, ns, RAW[Source.SOCIAL].name(ns))}, on the "
                f"valid topic: {_positions(kafka_broker.bootstrap, ns, VALID.name(ns))}; where "
                f"each lost post was seen: {_trail(kafka_broker.bootstrap, ns, lost)}"
            ) from exc


def _trail(bootstrap: str, ns: str, event_ids: set[str]) -> dict[str, list[str]]:
    """event id -> every topic:partition@offset whose record names it (raw, valid, clean,
    the seen-events changelog): which hop a lost record last reached."""
    topics = [
        RAW[Source.SOCIAL].name(ns),
        VALID.name(ns),
        CLEAN[Source.SOCIAL].name(ns),
        f"{ns}-seen-events-changelog",
    ]
    found: dict[str, list[str]] = {event_id: [] for event_id in event_ids}
    for record in read_all(bootstrap, topics):
        text = (record.key or b"").decode("utf-8", "replace") + (record.value or b"").decode(
            "utf-8", "replace"
        )
        for event_id in event_ids:
            if event_id in text:
                found[event_id].append(f"{record.topic}:{record.partition}@{record.offset}")
    return found


def _positions(bootstrap: str, group: str, topic: str) -> dict[int, tuple[int | None, int]]:
    """partition -> (the group's committed offset, the end offset): committed at the end with
    posts missing means they were skipped, not slow."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        end = consumer.end_offsets(partitions)
        committed = admin.list_group_offsets({group: None}).get(group, {})
        return {
            tp.partition: (committed[tp].offset if tp in committed else None, end[tp])
            for tp in partitions
        }
    finally:
        consumer.close()
        admin.close()
