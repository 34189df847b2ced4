"""Open-loop load generator: publishes events at fixed scheduled times (bench plan B3.4).

    python -m bench.ladder.openloop --bootstrap B --namespace NS --rate R --seconds S \\
        --seed N --now ISO --out schedule.json

Event i is due at t0 + i / R whatever happened before it (a late send never delays the
next schedule), and the schedule (event id -> scheduled epoch seconds) is written to --out,
so latency is measured from when an event should have been published, not from when it was:
queueing in the generator or the broker counts (no coordinated omission). The events are a
corpus built like the drain corpus (same mix), tag "lat".
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

from kafka import KafkaProducer

from bench.ladder.corpus import build_corpus
from streams.topics import RAW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    size = max(1, round(args.rate * args.seconds))
    corpus = build_corpus(size, seed=args.seed, now=datetime.fromisoformat(args.now), tag="lat")
    topics = {source: spec.name(args.namespace) for source, spec in RAW.items()}
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=0)
    producer.bootstrap_connected()
    print("ready", flush=True)
    started = time.time() + 0.5
    schedule: dict[str, float] = {}
    late: list[float] = []
    for i, event in enumerate(corpus.events):
        due = started + i / args.rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        late.append(max(0.0, time.time() - due))
        producer.send(topics[event.source], key=event.key, value=event.value)  # type: ignore[index]
        schedule.setdefault(event.key.decode(), due)
    producer.flush()
    producer.close()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump({"started": started, "schedule": schedule, "send_lateness_s": late}, out)
    print("done", flush=True)


if __name__ == "__main__":
    main()
