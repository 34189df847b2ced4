"""Pure parts of the local-broker launcher."""

from __future__ import annotations

from kesu.broker import _cluster_id, kafka_version


def test_cluster_ids_never_look_like_options() -> None:
    """A cluster id starting with '-' made `StorageTool format` fail (seen once in a test run)."""
    ids = [_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids)


def test_broker_version_comes_from_the_pom() -> None:
    """One place sets the Kafka version; the launcher and the Makefile read it from there."""
    assert kafka_version() == "4.3.1"
