"""Where and how kesu runs: one frozen settings object, read from KESU_* variables or `.env`.

Business decisions (tiers, cues, SLA targets) are *rules*, not settings; they live in
rules.yaml. Settings are passed in to whatever needs them, never read as a module global.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from complaints.durations import Duration, format_duration
from streams.codec import Limits
from streams.topics import PIPELINE_PARTITIONS

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """Every knob of a kesu process; each field has a default and says what it is for."""

    model_config = SettingsConfigDict(
        env_prefix="KESU_",
        env_file=".env",
        env_file_encoding="utf-8",
        frozen=True,
        extra="ignore",
    )

    # --- Kafka -------------------------------------------------------------------------
    kafka_bootstrap: str | None = Field(
        default=None,
        description=(
            "Bootstrap servers of an existing Kafka cluster (host:port,host:port). "
            "Unset: use the embedded single-node broker started by `kesu run` / `kesu broker`."
        ),
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="How clients talk to Kafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None,
        description="SASL mechanism when the protocol is SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.",
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (never logged or printed)."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle (PEM) that signed the brokers' certificates."
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="Client private key (PEM) for mutual TLS."
    )
    namespace: str = Field(
        default="kesu",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description=(
            "Prefix of every topic (`<namespace>.raw.call`) and the worker's consumer group; "
            "lets several environments share one cluster."
        ),
    )
    topic_replication: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Replication factor for topics kesu creates (3 in production clusters).",
    )
    pipeline_partitions: int = Field(
        default=PIPELINE_PARTITIONS,
        ge=1,
        le=256,
        description=(
            "Partitions of the pipeline topics and their tables: the most worker processes "
            "that can share the load (README, Sizing). Fixed for a namespace once its "
            "topics exist: a different count needs a new KESU_NAMESPACE."
        ),
    )

    # --- Embedded broker -----------------------------------------------------------------
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the embedded broker, the worker's table store and logs keep their files.",
    )
    embedded_kafka_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Client port of the embedded broker on 127.0.0.1; 0 picks a free port.",
    )
    embedded_kafka_heap: str = Field(
        default="512m", pattern=r"^\d+[mg]$", description="Java heap (-Xmx) of the embedded broker."
    )

    # --- Worker --------------------------------------------------------------------------
    store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description=(
            "Table store of the worker: rocksdb keeps state on disk across restarts; memory "
            "replays the changelog topics at every start."
        ),
    )
    worker_log_level: Literal["debug", "info", "warn", "error"] = Field(
        default="info", description="Log level of `kesu worker`."
    )
    worker_event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description=(
            "The worker's event loop: uvloop (libuv) spent less CPU per event than Python's own "
            "asyncio loop on the cost ladder (README: Measured); asyncio is there to rule the "
            "loop out when a problem is being chased."
        ),
    )
    rules_file: Path | None = Field(
        default=None,
        description="The response rules (tiers, SLAs, calendars, compensation); unset: the shipped complaints/rules.yaml.",
    )
    tick_interval: Duration = Field(
        default=timedelta(seconds=15),
        description="How often the worker looks for due SLA warnings, breaches and follow-ups.",
    )
    logistics_check_interval: Duration = Field(
        default=timedelta(minutes=1),
        description="How often the worker looks for undelivered orders whose promise (or a delay bucket's bound) just passed.",
    )
    churn_check_interval: Duration = Field(
        default=timedelta(minutes=1),
        description="How often the worker looks for customers whose churn check is due (silence, a new week).",
    )
    worker_batch_window: Duration = Field(
        default=timedelta(milliseconds=20),
        description=(
            "How long each stage on the contact-to-alert path (ingest, respond) gathers events "
            "into one batch (one Kafka wait and one commit per batch; at most 500 events). "
            "Each batch waits the whole window unless it fills, so every stage adds up to this "
            "much latency. At 327 events/s 20 ms gave publish-to-alert p50 116-148 ms against "
            "167-318 ms at 50 ms, for ~5 % more worker CPU per event; 10 ms ~4 % more again, "
            "p50 79-207 ms (README: Measured)."
        ),
    )
    worker_signal_batch_window: Duration = Field(
        default=timedelta(milliseconds=250),
        description=(
            "The batch window of the stages off the contact-to-alert path: surge, grouping, "
            "logistics and churn, whose signals judge minutes to days. Each batch costs a "
            "produce, a changelog write and a commit whatever its size, and at moderate rates "
            "those fixed costs of six stages are most of the worker's CPU (README: Measured)."
        ),
    )
    worker_fetch_max_wait: Duration = Field(
        default=timedelta(milliseconds=100),
        description=(
            "How long the broker may hold the worker's fetch when none of the partitions in it "
            "has a new record (Faust's own: 1.5 s). A fetch leaves out the partitions whose "
            "records are still waiting to be processed, and no other fetch goes out until it "
            "returns: once the worker fell behind, each round waited this long for the quiet "
            "partitions, and it stayed seconds behind with its CPU idle (README: Measured)."
        ),
    )
    worker_processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once",
        description=(
            "at_least_once is what kesu supports and tests (README: Guarantees). exactly_once "
            "(Kafka transactions) is an experiment measured by trial R7 in `make reliability`, "
            "not a supported mode: Faust's transactions have open defects (faust-streaming "
            "#323, #517, #177)."
        ),
    )
    worker_session_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description=(
            "How long Kafka waits for a silent worker before moving its partitions to others; "
            "also how long a crashed worker's partitions pause (Faust's default is 60 s)."
        ),
    )
    worker_instance_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description=(
            "Static group membership (KIP-345): a restarted worker with the same id takes its "
            "partitions back without a rebalance. Give each worker its own, e.g. the pod name."
        ),
    )
    worker_metrics_port: int = Field(
        default=8001,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus /metrics endpoint (on api_host); 0 turns it off.",
    )
    bench_scores: Path | None = Field(
        default=None,
        description=(
            "Benchmarks only (`make bench`, ladder rung L4): a JSON-lines file of precomputed "
            "assessments the worker looks texts up in instead of scoring them; a text missing "
            "from it is a processing failure. Never set it in production."
        ),
    )

    # --- Validation limits (shared by Kafka and HTTP ingestion) -------------------------
    max_payload_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=8 * 1024 * 1024,
        description="Largest accepted event, in bytes of JSON.",
    )
    max_text_chars: int = Field(
        default=20_000, ge=100, description="Longest accepted text of one event, in characters."
    )
    max_json_depth: int = Field(
        default=32, ge=2, le=256, description="Deepest accepted JSON nesting."
    )
    max_future_skew: Duration = Field(
        default=timedelta(minutes=10),
        description="How far an event's occurred_at may lie in the future (clock skew allowance).",
    )
    max_event_age: Duration = Field(
        default=timedelta(days=30),
        description="How far an event's occurred_at may lie in the past (older is dead-lettered).",
    )

    # --- HTTP API ------------------------------------------------------------------------
    api_host: str = Field(default="127.0.0.1", description="Interface the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_keys_file: Path | None = Field(
        default=None,
        description="JSON file of API keys (names, roles, SHA-256 hashes); unset: <data_dir>/api-keys.json. Manage with `kesu keys`.",
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL people open (dashboard and card links); unset: http://<api_host>:<api_port>.",
    )
    callback_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key that signs the action buttons of chat cards and keys the pseudonyms of personal data found in identifiers; every worker, API and notifier must share it; unset: generated once into <data_dir>.",
    )
    http_max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest accepted request body, in bytes."
    )
    http_max_batch: int = Field(
        default=500, ge=1, le=10_000, description="Most events in one ingestion request."
    )
    http_max_request_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request body of every route but ingestion (actions, subscriptions, callbacks), in bytes.",
    )
    http_rate_limit: float = Field(
        default=100.0,
        ge=0,
        description="Requests per second each API key may make (sustained); 0 turns rate limiting off.",
    )
    http_rate_burst: int = Field(
        default=200,
        ge=1,
        description="Requests an API key may make at once before the rate applies.",
    )
    http_anonymous_rate_limit: float = Field(
        default=5.0,
        ge=0,
        description="Requests per second per client address without a valid key (card callbacks, failed logins); 0: off.",
    )
    http_anonymous_rate_burst: int = Field(
        default=30,
        ge=1,
        description="Requests a client address without a valid key may make at once.",
    )
    publish_timeout: Duration = Field(
        default=timedelta(seconds=15),
        description="How long the API waits for Kafka to acknowledge accepted events before answering 503.",
    )

    metrics_refresh_interval: Duration = Field(
        default=timedelta(seconds=15),
        description="How often the API re-measures consumer lag and alert counts for /metrics.",
    )

    # --- Push (the notifier: webhooks and chat robots) -----------------------------------
    notifier_metrics_port: int = Field(
        default=8002,
        ge=0,
        le=65535,
        description="Port of the notifier's Prometheus /metrics endpoint (on api_host); 0 turns it off.",
    )
    push_max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="HTTP attempts per delivery before it is dead-lettered.",
    )
    push_retry_base_delay: Duration = Field(
        default=timedelta(seconds=1),
        description="Wait before the first retry; doubles with each further retry (± 10 % jitter).",
    )
    push_retry_max_delay: Duration = Field(
        default=timedelta(seconds=60),
        description="Longest wait between two attempts of one delivery.",
    )
    push_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="Time allowed for one delivery attempt (connect, send and answer).",
    )
    push_allowed_destinations: str = Field(
        default="",
        description=(
            "Comma-separated networks (CIDR), addresses or host names a subscription may push "
            "to although they are not public (on-premise receivers, e.g. 10.20.0.0/16,hooks.corp); "
            "empty: public addresses only. Loopback, private, link-local and cloud-metadata "
            "addresses are refused otherwise, when a subscription is created and at every connection."
        ),
    )

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return value

    @field_validator("worker_fetch_max_wait")
    @classmethod
    def _fetch_wait_in_range(cls, value: timedelta) -> timedelta:
        if not timedelta(milliseconds=1) <= value <= timedelta(seconds=10):
            raise ValueError("the fetch wait must be between 1 ms and 10 s (default 100 ms)")
        return value

    @model_validator(mode="after")
    def _sasl_complete(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL"):
            missing = [
                name
                for name in ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    f"kafka_security_protocol={self.kafka_security_protocol} needs {', '.join(missing)}"
                )
        return self

    @property
    def api_keys_path(self) -> Path:
        return self.api_keys_file or self.data_dir / "api-keys.json"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def kafka_state_dir(self) -> Path:
        """Log directory and discovery file of the embedded broker."""
        return self.data_dir / "kafka"

    @property
    def worker_state_dir(self) -> Path:
        """Faust's data directory (RocksDB tables)."""
        return self.data_dir / "worker"

    def limits(self) -> Limits:
        """The validation bounds every ingestion path applies."""
        return Limits(
            max_payload_bytes=self.max_payload_bytes,
            max_text_chars=self.max_text_chars,
            max_depth=self.max_json_depth,
            max_future_skew=self.max_future_skew,
            max_age=self.max_event_age,
        )

    def masked(self) -> dict[str, object]:
        """All settings as plain values, secrets replaced by '***' — safe to print or log."""
        values: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "***"
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, timedelta):
                value = format_duration(value)
            values[name] = value
        return values


def settings_table() -> str:
    """Every setting's variable, default and purpose as a Markdown table (the README embeds it)."""
    defaults = Settings.model_construct().masked()
    rows = ["| variable | default | what it is for |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = defaults[name]
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `KESU_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
