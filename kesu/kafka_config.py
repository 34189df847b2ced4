"""Settings -> connection options for the three Kafka clients kesu uses.

kafka-python (upstream publishing, admin), aiokafka (the API's producer) and Faust (the
worker) spell the same TLS/SASL options differently; this module is the one translation.
"""

from __future__ import annotations

import ssl
from typing import Any

from kesu.broker import discover
from kesu.settings import Settings


class KafkaNotConfigured(RuntimeError):
    """No bootstrap servers set and no embedded broker running."""


def bootstrap_servers(settings: Settings) -> str:
    """`host:port[,host:port]` of the cluster to use: configured, or the running embedded broker."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    running = discover(settings.kafka_state_dir)
    if running is None:
        raise KafkaNotConfigured(
            "No Kafka to talk to: set KESU_KAFKA_BOOTSTRAP=host:port for an existing cluster, "
            f"or start the embedded broker with `kesu run` or `kesu broker` (data dir {settings.data_dir})."
        )
    return running.bootstrap


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    return context


def _sasl(settings: Settings) -> dict[str, Any]:
    if not settings.kafka_security_protocol.startswith("SASL"):
        return {}
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
    )
    return {
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": password,
    }


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaProducer / KafkaConsumer / KafkaAdminClient."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings).split(","),
        "security_protocol": settings.kafka_security_protocol,
        **_sasl(settings),
    }
    context = _ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's AIOKafkaProducer / AIOKafkaConsumer."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "security_protocol": settings.kafka_security_protocol,
        **_sasl(settings),
    }
    context = _ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def faust_options(settings: Settings) -> dict[str, Any]:
    """`broker` and `broker_credentials` for faust.App."""
    import faust

    brokers = [f"kafka://{server.strip()}" for server in bootstrap_servers(settings).split(",")]
    credentials: object | None = None
    context = _ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        sasl = _sasl(settings)
        credentials = faust.SASLCredentials(
            username=sasl["sasl_plain_username"],
            password=sasl["sasl_plain_password"],
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    elif context is not None:
        credentials = faust.SSLCredentials(context)
    return {"broker": brokers, "broker_credentials": credentials}
