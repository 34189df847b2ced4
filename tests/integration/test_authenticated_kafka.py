"""Pointing kesu at a cluster that needs credentials is a matter of settings (SASL here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer

from kesu.broker import BrokerAddress, LocalKafka, free_port
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
from streams.records import Source
from streams.topics import CLEAN
from tests.conftest import ApiServer, Worker
from tests.factories import make_event
from tests.integration.support import eventually, unique_namespace

USER, PASSWORD = "kesu", "kesu-s3cret-pass"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerAddress]:
    """A second real broker whose client listener requires SASL/PLAIN."""
    local = LocalKafka(
        tmp_path_factory.mktemp("sasl-kafka"), sasl_users={USER: PASSWORD}, progress=print
    )
    address = local.start()
    try:
        yield address
    finally:
        local.stop()


def _settings(address: BrokerAddress, tmp_path: Path, password: str = PASSWORD) -> Settings:
    assert address.sasl_bootstrap is not None
    return Settings(
        _env_file=None,
        kafka_bootstrap=address.sasl_bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username=USER,
        kafka_sasl_password=password,
        namespace=unique_namespace(),
        data_dir=tmp_path,
        api_port=free_port(),
        worker_metrics_port=0,
    )


def test_topics_worker_and_api_authenticate_with_settings_alone(
    sasl_broker: BrokerAddress, tmp_path: Path
) -> None:
    """kafka-python (topics), Faust (worker) and aiokafka (API) all use the same SASL settings."""
    settings = _settings(sasl_broker, tmp_path)
    ensure_topics(settings)
    worker = Worker(settings, tmp_path).start()
    api = ApiServer(settings).start()
    try:
        event = make_event(Source.CALL)
        response = httpx.post(
            f"{api.url}/v1/events/call", json=event, headers=api.headers("ingest"), timeout=30
        )
        assert response.status_code == 202, response.text
        consumer = KafkaConsumer(
            CLEAN[Source.CALL].name(settings.namespace),
            bootstrap_servers=sasl_broker.sasl_bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            sasl_plain_username=USER,
            sasl_plain_password=PASSWORD,
            auto_offset_reset="earliest",
            consumer_timeout_ms=1000,
        )
        try:
            eventually(
                lambda: any(json.loads(r.value)["event_id"] == event["event_id"] for r in consumer),
                what="the event on the clean topic of the SASL cluster",
            )
        finally:
            consumer.close()
        assert PASSWORD not in worker.output()
    finally:
        api.stop()
        worker.stop()


def test_wrong_password_is_refused_and_the_api_says_503(
    sasl_broker: BrokerAddress, tmp_path: Path
) -> None:
    settings = _settings(sasl_broker, tmp_path, password="wrong-password").model_copy(
        update={"publish_timeout": timedelta(seconds=3)}
    )
    api = ApiServer(settings).start()
    try:
        response = httpx.post(
            f"{api.url}/v1/events/call",
            json=make_event(Source.CALL),
            headers=api.headers("ingest"),
            timeout=30,
        )
        assert response.status_code == 503
        assert "wrong-password" not in response.text
    finally:
        api.stop()
