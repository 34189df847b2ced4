"""The push books: subscriptions and the delivery log rebuilt from topic records."""

from __future__ import annotations

import json
from datetime import timedelta

from notify import Delivery, DeliveryOutcome, PushFormat, Subscription
from notify.books import DeliveryBook, SubscriptionBook
from notify.sealing import Sealer
from streams.records import Transition
from tests.unit.notify.samples import CALLBACK_SECRET, JSON_SECRET, T0, subscription

SEALER = Sealer(CALLBACK_SECRET)


def _sub(sub_id: str) -> Subscription:
    return subscription(PushFormat.JSON, url="https://hooks.example.com/a", id=sub_id)


def _record(sub_id: str, url: str = "https://hooks.example.com/a") -> bytes:
    return SEALER.stored(subscription(PushFormat.JSON, url=url, id=sub_id))


class TestSubscriptionBook:
    def test_the_latest_record_wins_and_a_tombstone_deletes(self) -> None:
        book = SubscriptionBook(SEALER)
        book.apply(b"s1", _record("s1"), 1000)
        book.apply(b"s2", _record("s2"), 2000)
        book.apply(b"s1", _record("s1", url="https://hooks.example.com/b"), 3000)
        book.apply(b"s2", None, 4000)
        assert [s.id for s in book.all()] == ["s1"]
        s1 = book.get("s1")
        assert s1 is not None and s1.url.get_secret_value().endswith("/b")
        assert s1.secret is not None and s1.secret.get_secret_value() == JSON_SECRET
        assert book.get("s2") is None

    def test_a_subscription_receives_from_its_first_record_on(self) -> None:
        book = SubscriptionBook(SEALER)
        book.apply(b"s1", _record("s1"), 1000)
        book.apply(b"s1", _record("s1"), 5000)  # an update keeps the start
        assert book.since_ms("s1") == 1000
        book.apply(b"s1", None, 6000)
        book.apply(b"s1", _record("s1"), 7000)  # re-created: starts again
        assert book.since_ms("s1") == 7000

    def test_unreadable_records_are_skipped(self) -> None:
        book = SubscriptionBook(SEALER)
        book.apply(b"s1", b"{not json", 1)
        book.apply(None, _record("s2"), 1)
        book.apply(b"s3", Sealer(b"another-callback-secret").stored(_sub("s3")), 1)
        assert book.all() == []

    def test_records_from_before_sealing_still_read(self) -> None:
        book = SubscriptionBook(SEALER)
        book.apply(b"s1", json.dumps(_sub("s1").to_config()).encode(), 1)
        s1 = book.get("s1")
        assert s1 is not None and s1.secret is not None
        assert s1.secret.get_secret_value() == JSON_SECRET


def _delivery(outcome: DeliveryOutcome, attempts: int, record_id: str = "al-1:1") -> Delivery:
    return Delivery(
        delivery_id=f"msg_{record_id}",
        subscription_id="s1",
        format=PushFormat.JSON,
        record_id=record_id,
        alert_id="al-1",
        transition=Transition.OPENED,
        outcome=outcome,
        attempts=attempts,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=attempts),
    )


class TestDeliveryBook:
    def test_only_final_outcomes_are_done(self) -> None:
        book = DeliveryBook()
        book.apply(_delivery(DeliveryOutcome.RETRYING, 1).model_dump_json().encode())
        assert book.done == set()
        for outcome, record_id in (
            (DeliveryOutcome.DELIVERED, "al-1:1"),
            (DeliveryOutcome.DEAD_LETTERED, "al-1:2"),
            (DeliveryOutcome.FILTERED, "al-1:3"),
        ):
            book.apply(_delivery(outcome, 2, record_id).model_dump_json().encode())
        assert book.done == {"msg_al-1:1", "msg_al-1:2", "msg_al-1:3"}
        assert book.is_covered("s1", "al-1:2") and not book.is_covered("s2", "al-1:2")

    def test_a_message_covers_every_record_it_carried(self) -> None:
        """A digest's entry settles each of its records; a deferred one settles none."""
        book = DeliveryBook()
        digest = _delivery(DeliveryOutcome.DELIVERED, 1).model_copy(
            update={"delivery_id": "msg_digest", "record_ids": ("a:1", "b:3")}
        )
        deferred = digest.model_copy(
            update={
                "delivery_id": "msg_deferred",
                "record_ids": ("c:1",),
                "outcome": DeliveryOutcome.DEFERRED,
            }
        )
        book.note(deferred)
        book.note(digest)
        assert book.covered == {("s1", "a:1"), ("s1", "b:3")}
        found = book.find("msg_digest")
        assert found is not None and found.record_ids == ("a:1", "b:3")
        assert book.find("msg_nothing") is None

    def test_entries_are_newest_first_and_bounded(self) -> None:
        book = DeliveryBook(keep_per_subscription=2)
        for attempt in (1, 2, 3):
            book.note(_delivery(DeliveryOutcome.RETRYING, attempt))
        assert [d.attempts for d in book.entries("s1")] == [3, 2]
        assert book.entries("other") == []
        assert book.apply(b"garbage") is None
