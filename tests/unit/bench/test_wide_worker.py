"""The scaling launcher widens every pipeline topic, and nothing else, before the worker is built."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json
from bench.ladder.wide_worker import widen
widen(8)
import streams.topics as topics
from agents.app import create_app
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
app = create_app(Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", namespace="w"))
print(json.dumps({
    "specs": {s.name("w"): s.partitions for s in topics.ALL_TOPICS},
    "ensure_defaults": sorted({s.partitions for s in ensure_topics.__defaults__[0]}),
    "tables": {name: t.partitions for name, t in app.tables.items()},
    "default": app.conf.topic_partitions,
}))
"""


def test_pipeline_topics_tables_and_defaults_get_the_new_count() -> None:
    """Run in a fresh interpreter: widen() changes module state for the worker it launches."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["specs"]["w.raw.call"] == 8
    assert seen["specs"]["w.assessments"] == 8
    assert seen["specs"]["w.dlq"] == 1  # single-partition topics stay as they are
    assert seen["specs"]["w.push.subscriptions"] == 1
    assert seen["ensure_defaults"] == [1, 8]  # what the worker's own topic check uses
    assert set(seen["tables"].values()) == {8}
    assert seen["default"] == 8
