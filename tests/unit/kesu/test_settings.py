"""Settings: defaults, validation, and that secrets never print."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from complaints.durations import format_duration
from kesu.settings import Settings


def test_defaults_match_the_documented_limits() -> None:
    settings = Settings(_env_file=None)
    assert settings.max_payload_bytes == 64 * 1024
    assert settings.limits().max_future_skew == timedelta(minutes=10)
    assert settings.kafka_bootstrap is None


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_MAX_PAYLOAD_BYTES", "2048")
    monkeypatch.setenv("KESU_MAX_FUTURE_SKEW", "PT30S")
    settings = Settings(_env_file=None)
    assert settings.limits().max_payload_bytes == 2048
    assert settings.limits().max_future_skew == timedelta(seconds=30)


def test_sasl_needs_credentials() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_username"):
        Settings(_env_file=None, kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="PLAIN")


def test_masked_view_hides_the_password() -> None:
    settings = Settings(
        _env_file=None,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="kesu",
        kafka_sasl_password="hunter2-very-secret",
    )
    assert "hunter2-very-secret" not in repr(settings.masked())
    assert "hunter2-very-secret" not in repr(settings)
    assert settings.masked()["kafka_sasl_password"] == "***"


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None)
    with pytest.raises(ValidationError):
        settings.api_port = 1  # type: ignore[misc]


def test_every_setting_is_documented() -> None:
    """`kesu settings` and the README table print each field's description."""
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("600", timedelta(minutes=10)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("30d", timedelta(days=30)),
        ("250ms", timedelta(milliseconds=250)),
        ("PT90S", timedelta(seconds=90)),
    ],
)
def test_durations_read_the_way_operators_write_them(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: timedelta
) -> None:
    monkeypatch.setenv("KESU_MAX_EVENT_AGE", text)
    assert Settings(_env_file=None).max_event_age == expected


@pytest.mark.parametrize(
    "value",
    [
        timedelta(days=30),
        timedelta(minutes=10),
        timedelta(seconds=15),
        timedelta(milliseconds=1500),
        timedelta(hours=36),
    ],
)
def test_formatted_durations_read_back(monkeypatch: pytest.MonkeyPatch, value: timedelta) -> None:
    monkeypatch.setenv("KESU_PUBLISH_TIMEOUT", format_duration(value))
    assert Settings(_env_file=None).publish_timeout == value
