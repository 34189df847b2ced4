"""`kesu worker` with the pipeline topics at another partition count (bench only).

    python -m bench.ladder.wide_worker PARTITIONS

kesu fixes its pipeline partitions in streams/topics.py (PIPELINE_PARTITIONS = 4), which caps
a deployment at four busy workers. The scaling measurement needs more partitions than
workers, so this launcher sets every pipeline topic's spec (and the Faust default for
tables) to PARTITIONS before the worker is built, then runs the unchanged `kesu worker`.
Nothing else differs; the namespace's topics must have been created with the same count.
"""

from __future__ import annotations

import sys


def widen(partitions: int) -> None:
    """Give every pipeline topic spec `partitions` (in place: every importer sees it)."""
    import streams.topics as topics

    old = topics.PIPELINE_PARTITIONS
    for value in list(vars(topics).values()):
        specs = value.values() if isinstance(value, dict) else value
        if not isinstance(specs, (list, tuple, type({}.values()))):
            specs = [value]
        for spec in specs:
            if isinstance(spec, topics.TopicSpec) and spec.partitions == old:
                object.__setattr__(spec, "partitions", partitions)
    topics.PIPELINE_PARTITIONS = partitions
    app_module = sys.modules.get("agents.app")
    if app_module is not None:
        app_module.PIPELINE_PARTITIONS = partitions  # type: ignore[attr-defined]


def main() -> None:
    partitions = int(sys.argv[1])
    widen(partitions)
    from kesu.cli import main as kesu_main

    sys.argv = ["kesu", "worker"]
    kesu_main()


if __name__ == "__main__":
    main()
