"""The ladder's event corpus: the sample feed, grown to any size, as exact raw bytes.

Deterministic for a seed and a `now`. Built from deploy/samples/build_feed.py (317 events of
four sources over three hours: stories of customers, orders, a delay wave, a batch surge):

- Each copy of the feed is a fresh set of customers, orders, calls, posts and authors (ids
  get a per-copy prefix), its three hours mapped to end a few minutes before `now`.
- The text share (call and social events carry text; logistics and activity do not) is set
  by adding copies of only the feed's logistics and activity events (the feed alone is 54 %
  text; the plan asks for about 40 %).
- Texts are varied per copy so that they are not the same 172 strings over and over: one
  sentence of an utterance or post is swapped for a sentence of another text with the same
  emotion label, and two customer lines of a transcript for lines of other transcripts. A
  `repeat_share` of text events then repeats an earlier text verbatim (reposts, templates).
- `duplicate_share` of the events are an upstream retry (the same bytes again, shortly
  after), and `invalid_share` are hostile (not JSON, a missing field, an unknown field, an
  empty text, a stale timestamp), so validation, de-duplication and the dead-letter route
  all have work.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FEED_BUILDER = REPO / "deploy" / "samples" / "build_feed.py"

SOURCES = ("call", "social", "logistics", "activity")
TEXT_SOURCES = ("call", "social")
ID_FIELDS = ("event_id", "call_id", "customer_id", "post_id", "order_id")
TIME_FIELDS = ("occurred_at", "promised_at", "estimated_at")
_SENTENCE = re.compile(r"[^。！？!?…\n]+[。！？!?…]*")
_CUSTOMER_LINE = re.compile(r"^(客户[:：])(.+)$")


@dataclass(frozen=True)
class RawEvent:
    """One record for a raw topic: its source, key and value exactly as published."""

    source: str
    key: bytes
    value: bytes
    kind: str  # text, logistics, activity, duplicate or invalid


@dataclass
class Corpus:
    events: list[RawEvent]
    seed: int
    stats: dict[str, Any] = field(default_factory=dict)

    def by_source(self) -> dict[str, list[RawEvent]]:
        out: dict[str, list[RawEvent]] = {source: [] for source in SOURCES}
        for event in self.events:
            out[event.source].append(event)
        return out

    def texts(self) -> list[tuple[str, str, float | None]]:
        """Every distinct (text, source, speech rate) a scorer may be asked about."""
        seen: dict[tuple[str, str, float | None], None] = {}
        for event in self.events:
            if event.source in TEXT_SOURCES and event.kind in ("text", "duplicate"):
                try:
                    body = json.loads(event.value)
                except ValueError:
                    continue
                text = body.get("text")
                if isinstance(text, str) and text:
                    seen[(text, event.source, body.get("speech_rate"))] = None
        return list(seen)


def _load_feed_builder() -> ModuleType:
    name = "kesu_sample_build_feed"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FEED_BUILDER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {FEED_BUILDER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def feed_lines() -> list[dict[str, Any]]:
    """The sample feed as the generator builds it ({"source", "event", "intent"}, publish order)."""
    return list(_load_feed_builder().build_lines())


class _TextVariety:
    """Swaps sentences between texts of the same emotion label (and lines between transcripts)."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.sentences: dict[tuple[str, str], list[str]] = {}
        self.customer_lines: list[str] = []
        for line in lines:
            text = line["event"].get("text")
            if not text:
                continue
            if line["event"].get("segment") == "transcript":
                for row in text.split("\n"):
                    match = _CUSTOMER_LINE.match(row)
                    if match:
                        self.customer_lines.append(match.group(2))
                continue
            self.sentences.setdefault(_label(line), []).extend(_SENTENCE.findall(text))

    def vary(self, rng: random.Random, line: dict[str, Any], text: str, wide: bool = False) -> str:
        """`text` with one sentence (or two transcript lines) swapped; `wide` takes the
        sentence from any emotion label of the same source and speaker."""
        if line["event"].get("segment") == "transcript":
            rows = text.split("\n")
            customer = [i for i, row in enumerate(rows) if _CUSTOMER_LINE.match(row)]
            for index in rng.sample(customer, min(2, len(customer))):
                prefix = _CUSTOMER_LINE.match(rows[index]).group(1)  # type: ignore[union-attr]
                rows[index] = prefix + rng.choice(self.customer_lines)
            return "\n".join(rows)
        label = _label(line)
        pool = self.sentences.get(label, [])
        if wide:
            pool = [
                s for key, group in self.sentences.items() if key[:2] == label[:2] for s in group
            ]
        parts = _SENTENCE.findall(text)
        if not pool or not parts or "".join(parts) != text:
            return text
        other = rng.choice(pool)
        if len(parts) >= 2:
            parts[rng.randrange(len(parts))] = other
        elif rng.random() < 0.5:
            parts.append(other)
        else:
            parts.insert(0, other)
        return "".join(parts)


def _label(line: dict[str, Any]) -> tuple[str, str, str]:
    """Texts that may swap sentences: same source, speaker and emotion label."""
    event = line["event"]
    return (line["source"], str(event.get("speaker")), str(line["intent"].get("emotion")))


def _shift(event: dict[str, Any], delta: timedelta) -> dict[str, Any]:
    moved = dict(event)
    for name in TIME_FIELDS:
        if moved.get(name):
            moved[name] = (datetime.fromisoformat(moved[name]) + delta).isoformat()
    return moved


def _renamed(event: dict[str, Any], tag: str) -> dict[str, Any]:
    out = {
        k: (f"{tag}-{v}" if k in ID_FIELDS and isinstance(v, str) else v) for k, v in event.items()
    }
    if "author" in out:
        out["author"] = f"{out['author']}{tag}"[:64]
    return out


def _hostile(rng: random.Random, like: dict[str, Any], tag: str, now: datetime) -> bytes:
    """One record validation must refuse, derived from a real event of the same source."""
    kind = rng.randrange(5)
    event = dict(like, event_id=f"bad-{tag}")
    if kind == 0:
        # truncated: NOT_JSON, or NOT_UTF8 when the cut splits a character
        return json.dumps(event, ensure_ascii=False).encode()[:-7]
    if kind == 1:
        event.pop("occurred_at")  # MISSING_FIELD
    elif kind == 2:
        event["unexpected_field"] = 1  # INVALID_FIELD: no unknown fields
    elif kind == 3 and "text" in event:
        event["text"] = "   "  # EMPTY_TEXT
    else:
        event["occurred_at"] = (now - timedelta(days=90)).isoformat()  # STALE_TIMESTAMP
    return json.dumps(event, ensure_ascii=False).encode()


def build_corpus(
    size: int,
    *,
    seed: int,
    now: datetime,
    tag: str = "c",
    text_share: float = 0.40,
    repeat_share: float = 0.05,
    duplicate_share: float = 0.01,
    invalid_share: float = 0.005,
    span: timedelta = timedelta(hours=3),
) -> Corpus:
    """`size` raw events, deterministic for (seed, now, tag); see the module docstring."""
    rng = random.Random(f"{seed}:{tag}")
    lines = feed_lines()
    variety = _TextVariety(lines)
    times = [datetime.fromisoformat(line["event"]["occurred_at"]) for line in lines]
    feed_end = max(times)
    other = [i for i, line in enumerate(lines) if line["source"] not in TEXT_SOURCES]
    n_text = len(lines) - len(other)
    # Full copies (A) and logistics+activity-only copies (B): share = t*A / (n*A + o*B).
    other_per_full = max(0.0, (n_text / text_share - len(lines)) / len(other))
    n_dup = round(size * duplicate_share)
    n_bad = round(size * invalid_share)
    keep = size - n_dup - n_bad
    # (running time within the copy, copy, line, event, source); the feed's order within a
    # copy is kept (one line is deliberately late), copies interleave by time.
    placed: list[tuple[datetime, int, int, dict[str, Any], str]] = []
    used_texts: set[str] = set()
    all_texts: list[str] = []
    copy = 0
    credit = 0.0
    while len(placed) < keep:
        # Each copy ends 0.5-10 minutes before `now`; the feed's three hours stay three hours.
        delta = (now - timedelta(seconds=rng.uniform(30, 600))) - feed_end
        indices = list(range(len(lines)))
        if credit >= 1.0:
            credit -= 1.0
            indices = other  # a logistics/activity-only copy
        else:
            credit += other_per_full
        copy_tag = f"{tag}{copy:05d}"
        latest: datetime | None = None
        for i in indices:
            line = lines[i]
            event = _renamed(_shift(line["event"], delta), copy_tag)
            if "text" in event:
                text = event["text"]
                if all_texts and rng.random() < repeat_share:
                    text = rng.choice(all_texts)
                else:
                    for attempt in range(8):
                        candidate = line["event"]["text"]
                        for _swap in range(1 + attempt // 2):
                            candidate = variety.vary(rng, line, candidate, wide=attempt >= 6)
                        if candidate not in used_texts:
                            text = candidate
                            break
                used_texts.add(text)
                all_texts.append(text)
                event["text"] = text
            when = times[i] + delta
            latest = when if latest is None else max(latest, when)
            placed.append((latest, copy, i, event, line["source"]))
        copy += 1
    placed.sort(key=lambda item: (item[0], item[1], item[2]))
    # Trim to size uniformly (not by time: every part of the three hours keeps its mix).
    drop = set(rng.sample(range(len(placed)), len(placed) - keep))
    kept = [item for index, item in enumerate(placed) if index not in drop]
    events: list[RawEvent] = []
    for _when, _copy, _line, event, source in kept:
        kind = "text" if source in TEXT_SOURCES else source
        value = json.dumps(event, ensure_ascii=False).encode()
        events.append(RawEvent(source, event["event_id"].encode(), value, kind))
    # Upstream retries: the same key and bytes again, 1-200 events later.
    for _ in range(n_dup):
        index = rng.randrange(len(events))
        original = events[index]
        events.insert(
            min(len(events), index + rng.randint(1, 200)),
            RawEvent(original.source, original.key, original.value, "duplicate"),
        )
    for number in range(n_bad):
        like = kept[rng.randrange(len(kept))]
        bad_tag = f"{tag}{number:05d}"
        events.insert(
            rng.randrange(len(events) + 1),
            RawEvent(
                like[4], f"bad-{bad_tag}".encode(), _hostile(rng, like[3], bad_tag, now), "invalid"
            ),
        )
    corpus = Corpus(events, seed)
    corpus.stats = describe(events)
    return corpus


def describe(events: list[RawEvent]) -> dict[str, Any]:
    """Shares, text lengths and text repetition of a corpus (what the report prints)."""
    kinds = Counter(event.kind for event in events)
    sources = Counter(event.source for event in events)
    texts: list[str] = []
    for event in events:
        if event.kind == "text":
            texts.append(json.loads(event.value)["text"])
    lengths = [len(text) for text in texts]
    return {
        "events": len(events),
        "by_source": dict(sorted(sources.items())),
        "by_kind": dict(sorted(kinds.items())),
        "text_share": round(sum(1 for e in events if e.source in TEXT_SOURCES) / len(events), 4)
        if events
        else 0.0,
        "text_chars_mean": round(statistics.fmean(lengths), 1) if lengths else 0.0,
        "text_chars_p95": sorted(lengths)[int(0.95 * (len(lengths) - 1))] if lengths else 0,
        "text_chars_max": max(lengths, default=0),
        "distinct_text_share": round(len(set(texts)) / len(texts), 4) if texts else 0.0,
        "bytes_mean": round(statistics.fmean(len(e.value) for e in events), 1) if events else 0.0,
    }
