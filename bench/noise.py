"""Noise benchmark: what on-call chat groups receive when `kesu demo` streams into the service.

The real service (a local Kafka broker, `kesu worker`, `kesu api`, `kesu notifier`, each its
own process) with four subscriptions made through the API, every one with the default policy:
a DingTalk, a WeCom and a Feishu robot and a signed JSON webhook, all on local stand-ins that
check signatures and enforce the platforms' documented limits with their own error codes
(tests/robots.py: DingTalk 20/min then a 10-minute block, WeCom 20/min, Feishu 100/min and
5/s). `kesu demo` sends the sample feed at its default 10 events/s, then (in a fresh namespace:
new topics, new worker state) at 100 events/s, the "10x" feed. After the feed, the run waits
until the notifier has settled every lifecycle record (its group committed to the end and
nothing waits in a group), then reads the topics and the robots' logs.

Per subscription it prints: messages sent (requests that reached the robot), accepted, refused
for rate, dead-lettered (kesu.push.dlq), the most requests in any 60 s, the tier-1/2 alerts
reachable from an accepted message (named in it, held back by a parent it names — the parent
lists its members —, or listed behind its "查看全部" link: the
delivery log says which alerts that message carried), and the delay from a tier-1 alert's
lifecycle record (Kafka timestamp) to the first accepted message reaching it. And per feed:
contacts (texts a customer wrote or said), alerts opened, alerts opened per 100 contacts, and
how many alerts were held back
(inhibited or silenced).

    .venv/bin/python bench/noise.py                 # both feeds
    .venv/bin/python bench/noise.py --rates 10      # the demo feed only
    make bench-noise
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient  # noqa: E402

from agents.app import create_app, input_topics  # noqa: E402
from api.auth import Role, add_key  # noqa: E402
from kesu.broker import LocalKafka, free_port  # noqa: E402
from kesu.settings import Settings  # noqa: E402
from kesu.topic_admin import ensure_topics  # noqa: E402
from streams.records import AlertEvent, AssessedEvent, Transition  # noqa: E402
from streams.topics import (  # noqa: E402
    ASSESSMENTS,
    DELIVERIES,
    LIFECYCLE,
    PUSH_DLQ,
)
from tests.integration.support import KesuProcess, settings_env  # noqa: E402
from tests.robots import Robot, RobotServer  # noqa: E402

# Credentials of local stand-ins, nothing real.
ROBOTS = [
    Robot("dingtalk", "dingtalk", secret="SECbench-ding", token="bench-ding"),  # noqa: S106
    Robot("wecom", "wecom", token="bench-wecom-key"),  # noqa: S106
    Robot("feishu", "feishu", secret="bench-feishu-secret"),  # noqa: S106
    Robot("json", "webhook", secret="whsec_YmVuY2gtd2ViaG9vaw=="),  # noqa: S106
]
SETTLE_TIMEOUT = 10 * 60


@dataclass
class Feed:
    """What one feed produced, read back from the topics and the robots."""

    rate: float
    contacts: int = 0
    opened: dict[str, float] = field(default_factory=dict)  # alert id -> Kafka time (s)
    tier: dict[str, int] = field(default_factory=dict)  # alert id -> highest tier reached
    tier1_at: dict[str, float] = field(default_factory=dict)  # when it became tier 1
    held: Counter[str] = field(default_factory=Counter)  # INHIBITED / SILENCED alerts
    #: tier-1/2 alerts no accepted message reached on some subscription -> why, as far as known
    unreachable: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    settled: bool = False


def _read(bootstrap: str, topic: str) -> list[Any]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def _caught_up(
    admin: KafkaAdminClient, consumer: KafkaConsumer, group: str, topics: list[str]
) -> bool:
    """`group` committed every partition of `topics` to its end (an empty one counts)."""
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or [])
    ]
    end = consumer.end_offsets(partitions)
    committed = admin.list_group_offsets({group: None}).get(group, {})
    return all((committed[tp].offset if tp in committed else 0) >= end[tp] for tp in partitions)


def _settled(
    bootstrap: str, settings: Settings, notifier_metrics: str, worker_topics: list[str]
) -> bool:
    """The worker consumed everything it reads, the notifier committed the lifecycle topic to its
    end, and nothing waits in a group."""
    ns = settings.namespace
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        worker_done = _caught_up(admin, consumer, ns, worker_topics)
        notifier_done = _caught_up(admin, consumer, f"{ns}-notifier", [LIFECYCLE.name(ns)])
    finally:
        consumer.close()
        admin.close()
    if not (worker_done and notifier_done):
        return False
    try:
        text = httpx.get(notifier_metrics, timeout=5).text
    except httpx.HTTPError:
        return False
    waiting = [line for line in text.splitlines() if line.startswith("kesu_push_waiting ")]
    return bool(waiting) and float(waiting[0].split()[1]) == 0.0


def run_feed(broker: str, rate: float, workdir: Path) -> Feed:
    """One fresh service, one feed; everything it did, measured."""
    namespace = f"noise{uuid.uuid4().hex[:8]}"
    data = workdir / namespace
    settings = Settings(
        _env_file=None,
        kafka_bootstrap=broker,
        namespace=namespace,
        data_dir=data,
        api_port=free_port(),
        worker_metrics_port=free_port(),
        notifier_metrics_port=free_port(),
        push_allowed_destinations="127.0.0.0/8",  # the robots are local stand-ins
        worker_log_level="info",  # the "ready" lines are INFO
    )
    ensure_topics(settings)
    admin_key = add_key(settings.api_keys_path, "bench-admin", Role.ADMIN)
    robots = RobotServer(ROBOTS).start()
    env = settings_env(settings)
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        KesuProcess(["worker"], env, logs / "worker.log"),
        KesuProcess(["api"], env, logs / "api.log"),
        KesuProcess(["notifier"], env, logs / "notifier.log"),
    ]
    feed = Feed(rate)
    try:
        for process, ready in zip(
            processes,
            ("Worker ready", "Application startup complete", "Notifier ready"),
            strict=True,
        ):
            process.start(ready, timeout=180)
        api = f"http://127.0.0.1:{settings.api_port}"
        headers = {"Authorization": f"Bearer {admin_key}"}
        for robot in ROBOTS:
            body = {
                "id": robot.name,
                "name": f"值班群 {robot.name}",
                "format": robot.kind,
                "url": robots.url(robot.name),
                "secret": robot.secret or None,
            }
            created = httpx.post(f"{api}/v1/subscriptions", json=body, headers=headers, timeout=30)
            created.raise_for_status()
        started = time.monotonic()
        demo = KesuProcess(["demo", "--rate", str(rate)], env, logs / "demo.log").start(None)
        assert demo.process is not None
        demo.process.wait(timeout=600)
        metrics = f"http://127.0.0.1:{settings.notifier_metrics_port}/metrics"
        worker_topics = input_topics(create_app(settings))  # what the worker's group commits
        deadline = time.monotonic() + SETTLE_TIMEOUT
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if _settled(broker, settings, metrics, worker_topics):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 10:  # settled, and stays so
                    feed.settled = True
                    break
            else:
                quiet_since = None
            time.sleep(2)
        feed.seconds = time.monotonic() - started
        _measure(feed, broker, settings, robots)
    finally:
        for process in reversed(processes):
            process.stop()
        robots.stop()
    return feed


def _measure(feed: Feed, broker: str, settings: Settings, robots: RobotServer) -> None:
    ns = settings.namespace
    feed.contacts = sum(  # a person's words: events without text (shipment changes) excluded
        1
        for r in _read(broker, ASSESSMENTS.name(ns))
        if AssessedEvent.model_validate_json(r.value).assessment is not None
    )
    kinds: dict[str, str] = {}
    for record in _read(broker, LIFECYCLE.name(ns)):
        event = AlertEvent.model_validate_json(record.value)
        at = record.timestamp / 1000
        alert_id = event.alert_id
        if event.transition is Transition.OPENED:
            feed.opened.setdefault(alert_id, at)
        feed.tier[alert_id] = min(feed.tier.get(alert_id, 3), event.alert.tier)
        kinds[alert_id] = f"{event.alert.kind.value}, last {event.transition.value}"
        if event.alert.tier == 1:
            feed.tier1_at.setdefault(alert_id, at)
    carried: dict[str, set[str]] = {}
    held: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)  # parent alert -> members it held back
    for record in _read(broker, DELIVERIES.name(ns)):
        entry = json.loads(record.value)
        if entry["outcome"] == "delivered":
            carried[entry["delivery_id"]] = set(entry.get("alert_ids") or [entry["alert_id"]])
        if entry.get("filtered_by") in ("INHIBITED", "SILENCED"):
            held[entry["filtered_by"]].add(entry["alert_id"])
        if entry.get("filtered_by") == "INHIBITED" and entry.get("suppressed_by"):
            parents[entry["suppressed_by"]].add(entry["alert_id"])
    feed.held = Counter({reason: len(ids) for reason, ids in held.items()})
    dead = Counter(json.loads(r.value)["subscription_id"] for r in _read(broker, PUSH_DLQ.name(ns)))
    wanted = {a for a, tier in feed.tier.items() if tier <= 2 and a in feed.opened}
    for robot in ROBOTS:
        taken = robots.of(robot.name)
        first_seen: dict[str, float] = {}
        for message in taken:
            if not message.accepted:
                continue
            reached = set(message.alert_ids())
            for digest in message.digest_ids():
                reached |= carried.get(digest, set())
            for parent in reached & set(parents):  # its members are listed behind it
                reached |= parents[parent]
            for alert_id in reached:
                first_seen.setdefault(alert_id, message.wall)
        for alert_id in wanted - set(first_seen):
            why = next((reason for reason, ids in held.items() if alert_id in ids), "not held")
            feed.unreachable[alert_id] = f"tier {feed.tier[alert_id]}, {kinds[alert_id]}, {why}"
        delays = [first_seen[a] - at for a, at in feed.tier1_at.items() if a in first_seen]
        feed.rows.append(
            {
                "subscription": robot.name,
                "sent": len(taken),
                "accepted": sum(1 for t in taken if t.accepted),
                "rejected_for_rate": sum(1 for t in taken if t.reason == "rate"),
                "rejected_other": sum(1 for t in taken if not t.accepted and t.reason != "rate"),
                "dead_lettered": dead.get(robot.name, 0),
                "most_in_60s": robots.most_in_a_minute(robot.name),
                "tier12_reachable": len(wanted & set(first_seen)),
                "tier12_opened": len(wanted),
                "tier1_reached": len(delays),
                "tier1_total": len(feed.tier1_at),
                "tier1_delay_median_s": statistics.median(delays) if delays else None,
                "tier1_delay_max_s": max(delays) if delays else None,
            }
        )


def _print(feed: Feed) -> None:
    opened = len(feed.opened)
    per100 = 100 * opened / feed.contacts if feed.contacts else float("nan")
    tiers = Counter(feed.tier[a] for a in feed.opened)
    print(
        f"\n## feed at {feed.rate:g} events/s — {feed.contacts} contacts, {opened} alerts opened "
        f"({per100:.1f} per 100 contacts; tier 1/2/3: {tiers[1]}/{tiers[2]}/{tiers[3]}), "
        f"held back: {feed.held.get('INHIBITED', 0)} inhibited, {feed.held.get('SILENCED', 0)} "
        + (
            f"silenced; settled {feed.seconds:.0f} s after the feed started"
            if feed.settled
            else f"silenced; NOT SETTLED within {SETTLE_TIMEOUT // 60} min (see the logs)"
        )
    )
    header = (
        "| subscription | sent | accepted | refused for rate | refused otherwise | dead-lettered "
        "| most in 60 s | tier-1/2 reachable | tier-1 delay median / max |"
    )
    print(header)
    print("|" + "---|" * 9)
    for row in feed.rows:
        delay = (
            f"{row['tier1_delay_median_s']:.1f} s / {row['tier1_delay_max_s']:.1f} s"
            if row["tier1_delay_median_s"] is not None
            else "–"
        )
        share = 100 * row["tier12_reachable"] / row["tier12_opened"] if row["tier12_opened"] else 0
        print(
            f"| {row['subscription']} | {row['sent']} | {row['accepted']} | "
            f"{row['rejected_for_rate']} | {row['rejected_other']} | {row['dead_lettered']} | "
            f"{row['most_in_60s']} | {row['tier12_reachable']}/{row['tier12_opened']} "
            f"({share:.0f} %) | {delay} ({row['tier1_reached']}/{row['tier1_total']}) |"
        )
    for alert_id, why in sorted(feed.unreachable.items()):
        print(f"  unreachable on some subscription: {alert_id} ({why})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 100.0])
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--keep", type=Path, help="Work (broker, logs) in this directory and keep it."
    )
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory(prefix="kesu-noise-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        local = LocalKafka(workdir / "kafka", progress=lambda line: None)
        address = local.start()
        feeds = []
        try:
            for rate in args.rates:
                print(f"running the demo feed at {rate:g} events/s …", flush=True)
                feeds.append(run_feed(address.bootstrap, rate, workdir))
        finally:
            local.stop()
    print("\n# kesu noise benchmark (bench/noise.py): every subscription on its default policy")
    for feed in feeds:
        _print(feed)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "rate": f.rate,
                        "contacts": f.contacts,
                        "opened": len(f.opened),
                        "held": dict(f.held),
                        "rows": f.rows,
                    }
                    for f in feeds
                ],
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
