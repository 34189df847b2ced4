"""One translation of TLS/SASL settings for kafka-python, aiokafka and Faust.

SASL_PLAINTEXT is proven end to end in tests/integration/test_authenticated_kafka.py; TLS
needs certificates, so here only the shape of the options each client receives is checked.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest

from kesu.kafka_config import (
    KafkaNotConfigured,
    aiokafka_options,
    bootstrap_servers,
    faust_options,
    kafka_python_options,
)
from kesu.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, kafka_bootstrap="k1:9093,k2:9093", **values)


def test_ssl_gives_every_client_a_tls_context() -> None:
    settings = _settings(kafka_security_protocol="SSL")
    for options in (kafka_python_options(settings), aiokafka_options(settings)):
        assert options["security_protocol"] == "SSL"
        assert isinstance(options["ssl_context"], ssl.SSLContext)
    credentials = faust_options(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SSLCredentials)


def test_sasl_ssl_carries_user_password_and_tls() -> None:
    settings = _settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="kesu",
        kafka_sasl_password="pw-123456",
    )
    options = aiokafka_options(settings)
    assert (
        options["sasl_mechanism"],
        options["sasl_plain_username"],
        options["sasl_plain_password"],
    ) == (
        "SCRAM-SHA-512",
        "kesu",
        "pw-123456",
    )
    assert kafka_python_options(settings)["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    faust_opts = faust_options(settings)
    assert faust_opts["broker"] == ["kafka://k1:9093", "kafka://k2:9093"]
    credentials = faust_opts["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.ssl_context is not None and credentials.mechanism.value == "SCRAM-SHA-512"


def test_plaintext_sends_no_credentials() -> None:
    assert faust_options(_settings())["broker_credentials"] is None
    assert "sasl_mechanism" not in kafka_python_options(_settings())


def test_without_bootstrap_or_running_broker_the_error_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KafkaNotConfigured, match="KESU_KAFKA_BOOTSTRAP"):
        bootstrap_servers(Settings(_env_file=None, data_dir=tmp_path))
