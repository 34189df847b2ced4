"""Log redaction: the second line of defence for personal data and secrets."""

from __future__ import annotations

import logging

import pytest

from kesu.logs import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("customer called from 13812345678 twice", "13812345678"),
        ("phone +86 138-1234-5678", "138-1234-5678"),
        ("id 11010519491231002X on file", "11010519491231002X"),
        ("card 6222020200112233445 declined", "6222020200112233445"),
        ("mail wang.xiaoming@example.com", "wang.xiaoming@example.com"),
        ("dsn user password=Sup3rS3cret host=x", "Sup3rS3cret"),
    ],
)
def test_personal_data_and_secrets_are_masked(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_ordinary_numbers_survive() -> None:
    """Offsets, counts and order numbers that are not personal data stay readable."""
    assert redact("kesu.raw.call/3/120045 took 12 ms") == "kesu.raw.call/3/120045 took 12 ms"


def test_filter_rewrites_records_with_args(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kesu.test.redaction")
    logger.addFilter(RedactingFilter(secrets=["s3cr3t-token"]))
    with caplog.at_level(logging.INFO, logger="kesu.test.redaction"):
        logger.info("sent to %s with %s", "13900001111", "s3cr3t-token")
    assert "13900001111" not in caplog.text
    assert "s3cr3t-token" not in caplog.text
