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


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("customer called from 13812345678 twice", "customer called from 138****5678 twice"),
        ("id 11010519491231002X on file", "id 1****************X on file"),
        ("mail wang.xiaoming@example.com", "mail w***@example.com"),
        # Wrong check character: not an ID to the masker, but logs hide every 15+ digit run.
        ("id 110105194912310021 on file", "id 1****************1 on file"),
        ("legacy id 110105491231002", "legacy id 1*************2"),
        ("card 6222020200112233445 declined", "card 6*****************5 declined"),
    ],
)
def test_personal_data_gets_the_masked_form(text: str, masked: str) -> None:
    """Logs show the same masked forms as alerts, plus a blanket mask for long digit runs."""
    assert redact(text) == masked


def test_secrets_are_masked_before_personal_data() -> None:
    """A secret setting's whole value is hidden, even when it looks like personal data."""
    assert redact("token=13812345678 password=a@example.com") == "token=*** password=***"


def test_ordinary_numbers_survive() -> None:
    """Offsets, counts and order numbers that are not personal data stay readable."""
    for text in ("kesu.raw.call/3/120045 took 12 ms", "order SO13800138000 at 2026-01-05 09:30"):
        assert redact(text) == text


def test_filter_rewrites_records_with_args(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kesu.test.redaction")
    logger.addFilter(RedactingFilter(secrets=["s3cr3t-token"]))
    with caplog.at_level(logging.INFO, logger="kesu.test.redaction"):
        logger.info("sent to %s with %s", "13900001111", "s3cr3t-token")
    assert "13900001111" not in caplog.text
    assert "s3cr3t-token" not in caplog.text


def test_float_digits_are_not_mistaken_for_numbers_to_hide() -> None:
    """Timer-drift warnings print floats like 0.6000000000000006; they are not personal data."""
    assert redact("drift of +0.6000000000000006") == "drift of +0.6000000000000006"


def test_a_rewritten_record_has_no_arguments_left_to_format() -> None:
    """Formatters (mode's among them) iterate record.args: it must be an empty tuple, not None."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", ("13900001111",), None)
    RedactingFilter().filter(record)
    assert record.args == ()
    assert "13900001111" not in logging.Formatter().format(record)
