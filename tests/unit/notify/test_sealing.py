"""Subscription credentials are sealed on the topic: unreadable without the key, bound to the id."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from notify import PushFormat, Subscription
from notify.sealing import PREFIX, Sealer, UnreadableSubscription
from tests.unit.notify.samples import (
    CALLBACK_SECRET,
    DINGTALK_SECRET,
    JSON_SECRET,
    subscription,
)

SEALER = Sealer(CALLBACK_SECRET)
ROBOT_URL = "https://oapi.dingtalk.com/robot/send?access_token=ding-token-8a7b6c"


def _robot() -> Subscription:
    return subscription(PushFormat.DINGTALK, url=ROBOT_URL, secret=DINGTALK_SECRET, id="s1")


def test_the_stored_record_holds_no_credential_and_reads_back_equal() -> None:
    sub = _robot()
    stored = SEALER.stored(sub)
    assert b"ding-token-8a7b6c" not in stored and DINGTALK_SECRET.encode() not in stored
    config = json.loads(stored)
    assert config["url"].startswith(PREFIX) and config["secret"].startswith(PREFIX)
    assert config["name"] and config["format"] == "dingtalk"  # the rest stays readable
    assert SEALER.read("s1", stored) == sub


def test_sealing_twice_gives_different_records() -> None:
    """A fresh nonce each time: equal credentials are not recognisable across records."""
    assert SEALER.stored(_robot()) != SEALER.stored(_robot())


@pytest.mark.parametrize(
    ("what", "read"),
    [
        ("another key", lambda stored: Sealer(b"rotated-secret").read("s1", stored)),
        ("moved to another id", lambda stored: SEALER.read("s2", stored)),
        (
            "altered",
            lambda stored: SEALER.read(
                "s1",
                stored.replace(b'"url": "' + PREFIX.encode(), b'"url": "' + PREFIX.encode() + b"A"),
            ),
        ),
    ],
)
def test_a_record_that_cannot_be_opened_is_refused(
    what: str, read: Callable[[bytes], Subscription]
) -> None:
    stored = SEALER.stored(_robot())
    with pytest.raises(UnreadableSubscription):
        read(stored)


def test_errors_never_quote_the_record() -> None:
    """A broken plain record must not put its URL into a log line through the error text."""
    bad = json.dumps({"url": ROBOT_URL, "format": "no-such-format"}).encode()
    with pytest.raises(UnreadableSubscription) as caught:
        SEALER.read("s1", bad)
    assert "ding-token" not in str(caught.value)


def test_a_plain_record_from_before_sealing_reads() -> None:
    sub = subscription(PushFormat.JSON, url="https://hooks.example.com/a", id="s1")
    assert SEALER.read("s1", json.dumps(sub.to_config()).encode()) == sub
    assert sub.secret is not None and sub.secret.get_secret_value() == JSON_SECRET
