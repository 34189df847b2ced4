"""Surges on the real broker: one cause is one incident that lists (and absorbs) its members.

Windows are shortened in a test rules file (10 s instead of 15 min) so a surge opens and,
after the key has been quiet, closes within the test. Keys live in different partitions of
the surge table; the grouping stage (one partition) merges them, the engine keeps the parent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agents.grouping import inputs_of
from kesu.settings import Settings
from streams.records import AlertEvent, AlertKind, Source, Transition
from streams.topics import GROUP_REPORTS, LIFECYCLE, RAW, SURGE_CONTACTS
from tests.conftest import ApiServer, Broker, SettingsFactory, WorkerFactory
from tests.factories import make_event, now_utc, to_bytes
from tests.integration.support import (
    eventually,
    publish,
    read_all,
    read_until,
    rules_with,
    wait_caught_up,
)

SPIKING, QUIET = "B2511-07", "B2511-08"
TEXTS = ("新手机发热严重，充电就烫手", "刚买的手机黑屏了，客服敷衍", "手机一直发热，太失望了")
#: The shipped rules with 10 s windows; `surge` entries override.
SHORT = {"windows": ["10s", "20s", "40s"], "close_after": 2, "cooldown": 2}


def _rules(directory: Path, **surge: Any) -> Path:
    return rules_with(directory, {"surge": {**SHORT, **surge}})


def _lifecycle(broker: Broker, settings: Settings) -> list[AlertEvent]:
    return [
        AlertEvent.model_validate_json(r.value)
        for r in read_all(broker.bootstrap, [LIFECYCLE.name(settings.namespace)])
    ]


def _surge_records(broker: Broker, settings: Settings) -> list[AlertEvent]:
    return [e for e in _lifecycle(broker, settings) if e.alert.kind is AlertKind.SURGE]


def _posts(batch: str, count: int, **fields: Any) -> list[tuple[bytes, bytes]]:
    posts = []
    for number in range(count):
        event = make_event(
            Source.SOCIAL,
            author=f"用户{batch}-{number}",
            text=TEXTS[number % len(TEXTS)],
            product="星河X1",
            batch=batch,
            **fields,
        )
        posts.append((event["event_id"].encode(), to_bytes(event)))
    return posts


def _cases(batch: str, count: int) -> set[str]:
    return {f"social:weibo:用户{batch}-{n}" for n in range(count)}


def _window_ahead(seconds: int) -> datetime:
    """Just after the start of the next window: the burst's window lasts a whole window while
    the worker catches up (a contact processed after its key's window was ticked past is too
    late to count, and a shared test machine can be slow)."""
    now = now_utc()
    start = datetime.fromtimestamp((int(now.timestamp()) // seconds + 1) * seconds, UTC)
    return start + timedelta(milliseconds=500)


def test_a_batch_spike_opens_exactly_one_parent_that_lists_its_members_and_closes_when_quiet(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    api_factory: Callable[[Settings], ApiServer],
    tmp_path: Path,
) -> None:
    # new_key_history 0s: a new key may open on its own (day-one quiet is tested below)
    rules = _rules(tmp_path, dimensions=["batch"], new_key_history="0s")
    settings = make_settings(rules_file=rules, tick_interval="1s")
    worker_factory(settings)
    api = api_factory(settings)
    moment = _window_ahead(10)  # one instant: every post falls into the same 10 s window
    raw = RAW[Source.SOCIAL].name(settings.namespace)
    publish(
        kafka_broker.bootstrap, raw, _posts(SPIKING, 12, at=moment) + _posts(QUIET, 2, at=moment)
    )

    def surges() -> dict[str, Any]:
        response = httpx.get(f"{api.url}/v1/surges", headers=api.headers("viewer"), timeout=30)
        response.raise_for_status()
        return dict(response.json())

    page = eventually(
        lambda: (body := surges())["total"] and body, timeout=90, what="the dashboard's surge"
    )
    (shown,) = page["items"]
    assert (shown["key"], shown["label"]) == (f"batch:{SPIKING}", f"批次 {SPIKING}")
    assert shown["count"] >= 5 and shown["ratio"] > 1 and shown["keywords"]

    def closed(records: list[Any]) -> bool:
        events = [AlertEvent.model_validate_json(r.value) for r in records]
        return any(
            e.alert.kind is AlertKind.SURGE and e.transition is Transition.CLOSED for e in events
        )

    read_until(
        kafka_broker.bootstrap,
        [LIFECYCLE.name(settings.namespace)],
        closed,
        timeout=120,
        what="the surge alert to open and, once the batch is quiet, to close",
    )
    records = _surge_records(kafka_broker, settings)
    opened = [e for e in records if e.transition is Transition.OPENED]
    assert len(opened) == 1, [e.alert.title for e in opened]
    alert = opened[0].alert
    assert alert.case_key == f"surge:batch:{SPIKING}" and alert.batch == SPIKING
    assert alert.surge is not None and alert.surge.new_key
    assert alert.surge.count >= 5 and set(alert.surge.keywords) & {"发热", "黑屏", "敷衍"}
    assert alert.tier == 2 and alert.excerpt == ""
    # The parent lists its members: the spiking posts its key counted (on a slow machine one
    # may come more than a 10 s window late), none of the quiet batch.
    last = max(records, key=lambda e: e.version).alert
    assert last.group is not None and last.surge is not None
    members = set(last.group.member_case_keys)
    assert last.group.member_count == len(members) == last.surge.count == last.contacts
    assert len(members) >= 5 and members <= _cases(SPIKING, 12)
    assert len(last.group.member_event_ids) == len(members)
    # Contacts reach the surge agent in no fixed order (the raw topic has several partitions),
    # so which of the three texts had arrived when it opened varies: distinct, theirs, capped.
    examples = last.group.examples
    assert 1 <= len(examples) <= 3 and len(set(examples)) == len(examples)
    assert set(examples) <= set(TEXTS)
    grew = [e.alert.group.member_count for e in records if e.alert.group]
    assert grew == sorted(grew) and grew[0] >= 5, "the parent grows as members join"
    transitions = Counter(e.transition for e in records)
    assert transitions[Transition.CLOSED] == 1
    assert {e.alert_id for e in records} == {alert.alert_id}, (
        "the quiet batch surged, or a second alert"
    )
    versions = [e.version for e in records]
    assert versions == list(range(1, len(versions) + 1))
    # Closing by going quiet hands the members back: each member's alert records it.
    got = read_until(
        kafka_broker.bootstrap,
        [LIFECYCLE.name(settings.namespace)],
        lambda rs: (
            sum(
                AlertEvent.model_validate_json(r.value).transition is Transition.HANDED_BACK
                for r in rs
            )
            >= len(members)
        ),
        timeout=60,
        what="the members to be handed back",
    )
    handed = [AlertEvent.model_validate_json(r.value) for r in got]
    handed = [e for e in handed if e.transition is Transition.HANDED_BACK]
    assert {e.alert.case_key for e in handed} == members
    assert all(e.alert.kind is AlertKind.COMPLAINT for e in handed)
    eventually(
        lambda: surges()["total"] == 0, timeout=30, what="the closed surge to leave the panel"
    )


def _history(settings: Settings, broker: Broker) -> None:
    """A few complaints three days ago, so the deployment (and its broad keys) has history."""
    old = now_utc() - timedelta(days=3)
    raw = RAW[Source.SOCIAL].name(settings.namespace)
    events = [
        make_event(
            Source.SOCIAL, at=old, author=f"老用户{n}", text=TEXTS[n % 3], region="华南-广州"
        )
        for n in range(3)
    ]
    publish(broker.bootstrap, raw, [(e["event_id"].encode(), to_bytes(e)) for e in events])
    # they must be counted before the burst: a contact older than its key's window is late
    wait_caught_up(
        broker.bootstrap,
        settings.namespace,
        [SURGE_CONTACTS.name(settings.namespace)],
        timeout=120,
    )


def test_thirty_complaints_about_one_batch_are_one_parent_with_thirty_members_whatever_the_keys(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
) -> None:
    """The issue's case: a burst counted along its SKU, batch and channel keys is one surge
    incident, named by the most specific key, listing its 30 members; resolving it hands the 30
    complaints back to their own handling (rules: on_resolve.surge)."""
    # 5-minute windows: a shared machine may take minutes to score 30 posts, and a contact
    # processed after its key's window was ticked past is too late to count. Three of the keys
    # (the unit tests take all seven): the shared test machine is slow.
    rules = _rules(
        tmp_path, windows=["300s", "600s", "1200s"], dimensions=["sku", "batch", "channel"]
    )
    settings = make_settings(rules_file=rules, tick_interval="1s")
    worker_factory(settings)
    _history(settings, kafka_broker)
    raw = RAW[Source.SOCIAL].name(settings.namespace)
    posts = _posts(SPIKING, 30, at=_window_ahead(300), sku="SX1-256G", region="华南-广州")
    publish(kafka_broker.bootstrap, raw, posts)

    def listed(records: list[Any]) -> bool:
        events = [AlertEvent.model_validate_json(r.value) for r in records]
        return any(e.alert.group and e.alert.group.member_count >= 30 for e in events)

    read_until(
        kafka_broker.bootstrap,
        [LIFECYCLE.name(settings.namespace)],
        listed,
        timeout=200,
        what="a parent listing the 30 members",
    )
    wait_caught_up(
        kafka_broker.bootstrap,
        settings.namespace,
        [GROUP_REPORTS.name(settings.namespace)],
        timeout=120,
    )
    records = _lifecycle(kafka_broker, settings)
    surges = [e for e in records if e.alert.kind is AlertKind.SURGE]
    opened = [e for e in surges if e.transition is Transition.OPENED]
    assert len(opened) == 1, [e.alert.title for e in opened]
    parent = max(surges, key=lambda e: e.version).alert
    assert parent.group is not None and parent.group.member_count == 30
    assert set(parent.group.member_case_keys) == _cases(SPIKING, 30)
    assert parent.surge is not None and (parent.surge.dimension, parent.surge.value) == (
        "sku",
        "SX1-256G",
    ), "named by the most specific key"
    # the channel's contacts in these windows are exactly the burst, so it explains it too
    facets = {(f.dimension, f.explains) for f in parent.group.facets}
    assert facets == {("batch", True), ("channel", True)}, facets
    complaints = {e.alert.case_key for e in records if e.alert.kind is AlertKind.COMPLAINT}
    assert _cases(SPIKING, 30) <= complaints, "members stay visible as their own alerts"

    # A person resolves the parent: each member case hands its complaint back.
    action = {
        "action_id": "act-resolve-parent",
        "alert_id": parent.alert_id,
        "case_key": parent.case_key,
        "kind": "resolve",
        "actor": "王主管",
        "at": now_utc().isoformat(),
    }
    publish(
        kafka_broker.bootstrap,
        f"{settings.namespace}.alerts.actions",
        [(parent.case_key.encode(), to_bytes(action))],
    )
    got = read_until(
        kafka_broker.bootstrap,
        [LIFECYCLE.name(settings.namespace)],
        lambda rs: (
            sum(
                AlertEvent.model_validate_json(r.value).transition is Transition.HANDED_BACK
                for r in rs
            )
            >= 30
        ),
        timeout=200,
        what="the 30 members to be handed back",
    )
    records = [AlertEvent.model_validate_json(r.value) for r in got]
    handed = [e for e in records if e.transition is Transition.HANDED_BACK]
    assert len(handed) == 30 and {e.alert.case_key for e in handed} == _cases(SPIKING, 30)
    assert all(parent.title[:20] in e.detail for e in handed)
    assert any(
        e.alert_id == parent.alert_id and e.transition is Transition.RESOLVED for e in records
    )


def test_a_fresh_deployment_opens_no_surge_from_new_keys(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
) -> None:
    """Day-one quiet: the keys surge on their own (they report), the grouping stage holds them."""
    settings = make_settings(rules_file=_rules(tmp_path), tick_interval="1s")
    worker_factory(settings)
    raw = RAW[Source.SOCIAL].name(settings.namespace)
    publish(
        kafka_broker.bootstrap,
        raw,
        _posts(SPIKING, 12, at=now_utc(), sku="SX1-256G", region="华南-广州"),
    )
    reports = GROUP_REPORTS.name(settings.namespace)
    read_until(
        kafka_broker.bootstrap,
        [reports],
        lambda rs: sum(len(inputs_of(r.value)) for r in rs) >= 6,  # one batch's fold together
        timeout=120,
        what="the surging keys to report",
    )
    wait_caught_up(kafka_broker.bootstrap, settings.namespace, [reports], timeout=120)
    records = _lifecycle(kafka_broker, settings)
    assert [e for e in records if e.alert.kind is AlertKind.SURGE] == []
    complaints = {e.alert.case_key for e in records if e.alert.kind is AlertKind.COMPLAINT}
    assert complaints == _cases(SPIKING, 12), "the complaints themselves are alerts as usual"
