"""KESU_PIPELINE_PARTITIONS sets every pipeline topic and table, and nothing else."""

from __future__ import annotations

import pytest

from agents.app import create_app, input_topics, table_changelogs
from kesu.settings import Settings
from streams.records import Source
from streams.topics import ALL_TOPICS, ASSESSMENTS, DLQ, GROUP_REPORTS, RAW, SUBSCRIPTIONS


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", namespace="w", **values)  # type: ignore[arg-type]


def test_the_default_is_four() -> None:
    assert _settings().pipeline_partitions == 4


def test_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_PIPELINE_PARTITIONS", "8")
    assert Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1").pipeline_partitions == 8


@pytest.mark.parametrize("count", [0, 257])
def test_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="pipeline_partitions"):
        _settings(pipeline_partitions=count)


@pytest.mark.parametrize("count", [1, 8])
def test_pipeline_topics_and_tables_follow_it(count: int) -> None:
    app = create_app(_settings(pipeline_partitions=count))
    assert RAW[Source.CALL].partition_count(count) == count
    assert ASSESSMENTS.partition_count(count) == count
    # single-partition topics stay single: the grouping stage must see every key in one place
    assert DLQ.partition_count(count) == 1
    assert SUBSCRIPTIONS.partition_count(count) == 1
    assert GROUP_REPORTS.partition_count(count) == 1
    changelogs = table_changelogs(app)
    assert changelogs.pop("w-groups-changelog")[0] == 1
    assert {partitions for partitions, _config in changelogs.values()} == {count}
    assert set(changelogs) == {
        f"w-{name}-changelog" for name in ("seen-events", "cases", "surge-keys", "orders", "churn")
    }
    assert app.conf.topic_partitions == count


def test_changelogs_keep_their_retention() -> None:
    """seen-events and orders expire; the worker creates them with the same settings Faust would."""
    changelogs = table_changelogs(create_app(_settings()))
    assert changelogs["w-seen-events-changelog"][1]["cleanup.policy"] == "compact,delete"
    assert int(changelogs["w-orders-changelog"][1]["retention.ms"]) > 0
    assert changelogs["w-cases-changelog"][1] == {"cleanup.policy": "compact"}


def test_every_spec_has_a_count() -> None:
    assert all(spec.partition_count(6) in (1, 6) for spec in ALL_TOPICS)


def test_the_worker_reads_its_inputs_and_none_of_its_outputs() -> None:
    """What a caller waits on to know the worker consumed everything (bench/noise.py)."""
    read = set(input_topics(create_app(_settings())))
    assert {"w.raw.call", "w.valid.events", "w.assessments", "w.alerts.actions"} <= read
    assert {"w.surge.contacts", "w.grouping.reports", "w.churn.activity"} <= read
    assert not read & {"w.clean.call", "w.alerts.lifecycle", "w.dlq", "w.logistics.delays"}
