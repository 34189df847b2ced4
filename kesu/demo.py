"""`kesu demo`: stream the bundled sample feed into a running service at a chosen pace.

The feed's hours of event time are compressed onto the demo's seconds: occurred_at maps
linearly (so a late, out-of-order update still carries its earlier time), while promised
and estimated delivery times keep their real distance to occurred_at (so a 30 h delay stays
30 h). Events go out in file order. Ids get a per-run prefix so every demo starts a fresh
story; `replay` keeps the original ids to show de-duplication.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from streams.records import Source

FEED_PATH = Path(__file__).resolve().parent / "data" / "sample_feed.jsonl"
TIME_FIELDS = ("occurred_at", "promised_at", "estimated_at")
ID_FIELDS = ("event_id", "call_id", "customer_id", "post_id", "order_id")


@dataclass(frozen=True)
class FeedItem:
    source: Source
    event: dict[str, Any]


def load_feed(path: Path = FEED_PATH) -> list[FeedItem]:
    """The sample feed in event-time order."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                items.append(FeedItem(Source(record["source"]), record["event"]))
    return items


def retimed(event: dict[str, Any], happens_at: datetime) -> dict[str, Any]:
    """The event moved in time so that it occurs at `happens_at`, other times shifted alike."""
    shift = happens_at - datetime.fromisoformat(event["occurred_at"])
    moved = dict(event)
    for name in TIME_FIELDS:
        if moved.get(name):
            moved[name] = (datetime.fromisoformat(moved[name]) + shift).isoformat()
    return moved


def renamed(event: dict[str, Any], run_tag: str) -> dict[str, Any]:
    """The event with its ids prefixed by the run tag (a fresh set of customers and orders)."""
    return {
        k: (f"{run_tag}-{v}" if k in ID_FIELDS and isinstance(v, str) else v)
        for k, v in event.items()
    }


def paced(items: list[FeedItem], rate: float, run_tag: str | None) -> Iterator[FeedItem]:
    """Items at `rate` per second, in file order, with event time compressed onto the run."""
    if not items:
        return
    times = [datetime.fromisoformat(item.event["occurred_at"]) for item in items]
    feed_start, span = min(times), max(times) - min(times)
    duration = timedelta(seconds=(len(items) - 1) / rate)
    factor = duration / span if span else 0.0
    started_wall, started_clock = datetime.now(UTC), time.monotonic()
    for index, (item, occurred) in enumerate(zip(items, times, strict=True)):
        delay = started_clock + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        event = retimed(item.event, started_wall + (occurred - feed_start) * factor)
        yield FeedItem(item.source, renamed(event, run_tag) if run_tag else event)


def run_tag_for(now: datetime) -> str:
    return f"demo{now:%m%d%H%M%S}"


class KafkaSender:
    """Sends demo events straight to the raw topics with kafka-python."""

    def __init__(self, settings: Any) -> None:
        from kafka import KafkaProducer

        from kesu.kafka_config import kafka_python_options
        from streams.topics import RAW

        self._topics = {source: RAW[source].name(settings.namespace) for source in Source}
        self._producer = KafkaProducer(**kafka_python_options(settings), acks="all", linger_ms=5)

    def send(self, item: FeedItem) -> None:
        value = json.dumps(item.event, ensure_ascii=False).encode()
        self._producer.send(
            self._topics[item.source], key=item.event["event_id"].encode(), value=value
        )

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()


class HttpSender:
    """Sends demo events through the API's ingestion endpoint."""

    def __init__(self, api_url: str, api_key: str) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {api_key}"}
        )

    def send(self, item: FeedItem) -> None:
        response = self._client.post(f"/v1/events/{item.source.value}", json=item.event)
        if response.status_code != 202:
            raise RuntimeError(f"API answered {response.status_code}: {response.text[:300]}")

    def close(self) -> None:
        self._client.close()


def run_demo(
    sender: KafkaSender | HttpSender,
    items: list[FeedItem],
    *,
    rate: float,
    replay: bool,
    progress: Callable[[int, Counter[str]], None],
) -> Counter[str]:
    """Send every item at `rate`/s; returns how many were sent per source."""
    tag = None if replay else run_tag_for(datetime.now(UTC))
    sent: Counter[str] = Counter()
    last = time.monotonic()
    try:
        for item in paced(items, rate, tag):
            sender.send(item)
            sent[item.source.value] += 1
            if time.monotonic() - last >= 2:
                progress(sum(sent.values()), sent)
                last = time.monotonic()
    finally:
        sender.close()
    return sent


def worker_totals(metrics_url: str, timeout: float = 2.0) -> dict[str, float] | None:
    """The worker's event counters by outcome (from its /metrics), or None if it cannot be read."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(metrics_url, timeout=timeout) as response:  # noqa: S310 - configured URL
            text = response.read().decode()
    except OSError:
        return None
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "kesu_events":
            for sample in family.samples:
                if sample.name == "kesu_events_total":
                    outcome = sample.labels["outcome"]
                    totals[outcome] = totals.get(outcome, 0.0) + sample.value
    return totals
