"""Proactive signals on the real broker: shipment changes and silence in, alerts and a delay map out.

One worker and one API. A delay wave across one region and carrier opens proactive alerts
with the compensation of each delay bucket before any complaint exists, and one wave parent
that lists the five orders; the delay map served by the API counts exactly; a lost parcel is
tier 1; delivery closes; an out-of-order event changes nothing; a complaint about a delayed
order makes its alert a complaint the kind filter finds; resolving the wave resolves its
orders' alerts in their own cases (and hands back the one a customer complained about); with
churn windows shortened in the rules, a silent customer gets exactly one churn alert (and a
customer who keeps logging in none), raised a tier when they then complain.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from complaints.rules import DEFAULT_RULES, load_rules
from streams.records import AlertEvent, AlertKind, Source, Transition
from streams.topics import LIFECYCLE, RAW
from tests.conftest import ApiServer, Broker, SettingsFactory, WorkerFactory
from tests.factories import make_event, now_utc, to_bytes
from tests.integration.support import eventually, publish, read_all, read_until, topic_config

REGION, CARRIER = "华东-上海", "顺达快运"


def _rules(directory: Path) -> Path:
    """The shipped rules with churn windows of seconds: silent after 4 s."""
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    data["version"] = "test-proactive"
    data["churn"] |= {"silence": "4s", "week": "1d"}
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _shipment(order: str, customer: str, late_hours: float | None, **fields: Any) -> dict[str, Any]:
    at = fields.pop("at", None) or now_utc()
    promised = at + timedelta(hours=6)
    values: dict[str, Any] = {
        "order_id": order,
        "customer_id": customer,
        "status": "in_transit",
        "promised_at": promised.isoformat(),
        "region": REGION,
        "carrier": CARRIER,
        "estimated_at": None,
    }
    if late_hours is not None:
        values["estimated_at"] = (promised + timedelta(hours=late_hours)).isoformat()
    values.update(fields)
    return make_event(Source.LOGISTICS, at=at, **values)


def _publish(broker: Broker, source: Source, namespace: str, events: list[dict[str, Any]]) -> None:
    publish(
        broker.bootstrap,
        RAW[source].name(namespace),
        [(e["event_id"].encode(), to_bytes(e)) for e in events],
    )


def _lifecycle(broker: Broker, namespace: str) -> list[AlertEvent]:
    return [
        AlertEvent.model_validate_json(r.value)
        for r in read_all(broker.bootstrap, [LIFECYCLE.name(namespace)])
    ]


def _wait(broker: Broker, namespace: str, done: Any, what: str) -> list[AlertEvent]:
    read_until(
        broker.bootstrap,
        [LIFECYCLE.name(namespace)],
        lambda rs: done([AlertEvent.model_validate_json(r.value) for r in rs]),
        timeout=120,
        what=what,
    )
    return _lifecycle(broker, namespace)


def _delays(api: ApiServer) -> dict[str, Any]:
    response = httpx.get(f"{api.url}/v1/logistics/delays", headers=api.headers("viewer"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_delay_wave_lost_parcel_delivery_and_silence_become_exactly_the_right_alerts(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    api_factory: Any,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        rules_file=_rules(tmp_path), churn_check_interval="0.5s", logistics_check_interval="1h"
    )
    namespace = settings.namespace
    worker_factory(settings)
    api = api_factory(settings)

    # -- a delay wave on one region x carrier, plus a lost parcel ----------------------------
    wave = {  # order -> (customer, hours late, expected bucket, coupon, actions)
        "SO-W1": ("cw1", 5, "delay-under-24h", 10, ["10元优惠券"]),
        "SO-W2": ("cw2", 12, "delay-under-24h", 10, ["10元优惠券"]),
        "SO-W3": ("cw3", 30, "delay-24-48h", 20, ["20元优惠券"]),
        "SO-W4": ("cw4", 60, "delay-over-48h", 50, ["50元优惠券", "专属客服"]),
    }
    events = [_shipment(order, c, late) for order, (c, late, *_) in wave.items()]
    events.append(_shipment("SO-L1", "cl1", None, status="lost"))
    events.append(_shipment("SO-OK", "cok", -2))  # on time: no alert, not on the map
    _publish(kafka_broker, Source.LOGISTICS, namespace, events)

    orders = {*wave, "SO-L1"}

    def parents(es: list[AlertEvent]) -> list[AlertEvent]:
        return [e for e in es if e.alert.group is not None]

    records = _wait(
        kafka_broker,
        namespace,
        lambda es: (
            {e.alert.subject for e in es if e.transition is Transition.OPENED} >= orders
            and any(
                e.alert.group and e.alert.group.member_count == len(orders) for e in parents(es)
            )
        ),
        "proactive alerts for the wave and the lost parcel, and the wave's parent",
    )
    opened = {
        e.alert.subject: e.alert
        for e in records
        if e.transition is Transition.OPENED and e.alert.group is None
    }
    assert set(opened) == orders, "an on-time order opened an alert"
    # -- five delayed orders of one region x carrier are one wave: one parent, orders as members
    waves = parents(records)
    assert len({e.alert_id for e in waves}) == 1, [e.alert.title for e in waves]
    parent = max(waves, key=lambda e: e.version).alert
    assert (parent.kind, parent.tier, parent.rule_id) == (
        AlertKind.LOGISTICS_DELAY,
        2,
        "logistics-wave",
    )
    assert (parent.region, parent.carrier) == (REGION, CARRIER) and parent.excerpt == ""
    assert parent.group is not None and set(parent.group.member_order_ids) == orders
    assert set(parent.group.member_case_keys) == {
        f"customer:{c}" for c in ("cw1", "cw2", "cw3", "cw4", "cl1")
    }
    for order, (customer, _, bucket, coupon, actions) in wave.items():
        alert = opened[order]
        assert (alert.kind, alert.tier, alert.customer_id) == (
            AlertKind.LOGISTICS_DELAY,
            3,
            customer,
        )
        assert alert.contacts == 0, "the alert must come before any complaint"
        assert alert.delay is not None and alert.delay.bucket == bucket
        assert alert.compensation is not None
        assert (alert.compensation.amount_yuan, list(alert.compensation.actions)) == (
            coupon,
            actions,
        )
    lost = opened["SO-L1"]
    assert (lost.tier, lost.rule_id) == (1, "delay-lost") and lost.clocks
    complaints = [e for e in records if e.alert.kind is AlertKind.COMPLAINT]
    assert complaints == [], "a shipment change without text opened a complaint alert too"

    body = eventually(
        lambda: (b := _delays(api))["totals"] == {"delayed": 4, "exception": 0, "lost": 1} and b,
        timeout=60,
        what="the delay map to show the wave",
    )
    (cell,) = body["items"]
    assert (cell["region"], cell["carrier"], cell["delayed"], cell["exception"], cell["lost"]) == (
        REGION,
        CARRIER,
        4,
        0,
        1,
    )
    assert cell["mean_delay_hours"] == (5 + 12 + 30 + 60) / 4, body
    metrics = httpx.get(f"{api.url}/metrics").text
    assert (
        f'kesu_logistics_orders{{carrier="{CARRIER}",region="{REGION}",state="delayed"}} 4.0'
        in metrics
    )

    # -- a complaint about a delayed order joins its proactive alert ---------------------------
    complaint = make_event(
        Source.CALL,
        customer_id="cw3",
        order_id="SO-W3",
        text="快递说好的今天到，现在又延误了，太失望了",
    )
    _publish(kafka_broker, Source.CALL, namespace, [complaint])

    # -- delivery closes; an out-of-order 'delayed' older than the delivery changes nothing ----
    delivered = _shipment("SO-W1", "cw1", None, status="delivered")
    _publish(kafka_broker, Source.LOGISTICS, namespace, [delivered])
    records = _wait(
        kafka_broker,
        namespace,
        lambda es: (
            any(e.alert.subject == "SO-W1" and e.transition is Transition.CLOSED for e in es)
            and any(
                e.alert.subject == "SO-W3" and e.transition is Transition.CONTACT_ADDED for e in es
            )
        ),
        "delivery to close SO-W1 and the complaint to join SO-W3",
    )
    stale = _shipment("SO-W1", "cw1", 90, at=now_utc() - timedelta(minutes=5), status="delayed")
    marker = _shipment("SO-W2", "cw2", 30)  # a later change on another order: processing moved on
    _publish(kafka_broker, Source.LOGISTICS, namespace, [stale, marker])
    records = _wait(
        kafka_broker,
        namespace,
        lambda es: any(
            e.alert.subject == "SO-W2" and e.transition is Transition.UPDATED for e in es
        ),
        "the estimate change of SO-W2 to update its alert",
    )
    w1 = [e.transition for e in records if e.alert.subject == "SO-W1"]
    assert w1 == [Transition.OPENED, Transition.CLOSED], w1
    w2 = [e for e in records if e.alert.subject == "SO-W2"]
    assert [e.transition for e in w2] == [Transition.OPENED, Transition.UPDATED]
    assert w2[-1].alert.alert_id == w2[0].alert.alert_id
    assert w2[-1].alert.delay is not None and w2[-1].alert.delay.bucket == "delay-24-48h"
    w3 = [e for e in records if e.alert.customer_id == "cw3"]
    assert {e.alert.alert_id for e in w3} == {opened["SO-W3"].alert_id}, (
        "the complaint opened its own alert"
    )
    joined = w3[-1].alert
    assert (joined.kind, joined.tracks) == (AlertKind.COMPLAINT, AlertKind.LOGISTICS_DELAY)
    assert joined.title.startswith("客户投诉 · 订单 SO-W3")
    found = httpx.get(
        f"{api.url}/v1/alerts",
        params={"kind": "complaint"},
        headers=api.headers("viewer"),
    )
    assert found.status_code == 200, found.text
    assert joined.alert_id in {a["alert_id"] for a in found.json()["items"]}

    body = eventually(
        lambda: (b := _delays(api))["totals"] == {"delayed": 3, "exception": 0, "lost": 1} and b,
        timeout=60,
        what="the delay map to drop the delivered order",
    )
    (cell,) = body["items"]
    assert cell["mean_delay_hours"] == (30 + 30 + 60) / 3  # SO-W2 now 30 h; SO-W1 gone

    # -- churn: one customer goes silent, another keeps logging in ----------------------------
    _publish(
        kafka_broker,
        Source.ACTIVITY,
        namespace,
        [make_event(Source.ACTIVITY, customer_id=c, kind="login") for c in ("silent", "active")],
    )
    deadline = time.monotonic() + 12  # three silences long: a repeated alert would show
    while time.monotonic() < deadline:
        time.sleep(2)
        _publish(
            kafka_broker,
            Source.ACTIVITY,
            namespace,
            [make_event(Source.ACTIVITY, customer_id="active", kind="login")],
        )
    records = _wait(
        kafka_broker,
        namespace,
        lambda es: any(
            e.alert.kind is AlertKind.CHURN and e.transition is Transition.OPENED for e in es
        ),
        "a churn alert for the silent customer",
    )
    churn = Counter(
        (e.alert.customer_id, e.transition) for e in records if e.alert.kind is AlertKind.CHURN
    )
    assert churn == Counter({("silent", Transition.OPENED): 1}), churn
    (alert,) = [e.alert for e in records if e.alert.kind is AlertKind.CHURN]
    assert (alert.tier, alert.rule_id) == (3, "churn-silent")
    assert alert.churn is not None and alert.churn.reasons

    # -- silence, then a complaint: the churn alert is raised like complaint-then-silence ----
    cold = make_event(
        Source.CALL, customer_id="silent", text="算了，不想说了，你们的服务我不会再用了"
    )
    _publish(kafka_broker, Source.CALL, namespace, [cold])
    records = _wait(
        kafka_broker,
        namespace,
        lambda es: any(
            e.alert.alert_id == alert.alert_id and e.transition is Transition.TIER_RAISED
            for e in es
        ),
        "the churn alert to be raised by the complaint that followed the silence",
    )
    raised = [
        e
        for e in records
        if e.alert.alert_id == alert.alert_id and e.transition is Transition.TIER_RAISED
    ]
    assert [(e.alert.tier, e.rule_id) for e in raised] == [(2, "churn-after-complaint")]

    # -- resolving the wave resolves its orders' alerts, each in its own case ----------------
    response = httpx.post(
        f"{api.url}/v1/alerts/{parent.alert_id}/resolve",
        headers=api.headers("operator"),
        json={"comment": "承运商已恢复分拣，批量补偿已发放"},
    )
    assert response.status_code == 202, response.text
    still_delayed = {"SO-W2", "SO-W4", "SO-L1"}  # SO-W1 was delivered, SO-W3 complained about
    records = _wait(
        kafka_broker,
        namespace,
        lambda es: (
            {e.alert.subject for e in es if e.transition is Transition.RESOLVED} >= still_delayed
            and any(e.transition is Transition.HANDED_BACK for e in es)
        ),
        "the wave's orders to be resolved with it",
    )
    resolved = [e for e in records if e.transition is Transition.RESOLVED]
    by_order = {e.alert.subject: e for e in resolved if e.alert.group is None}
    assert set(by_order) == still_delayed
    assert all("一并解决" in e.detail and e.actor for e in by_order.values())
    handed = [e for e in records if e.transition is Transition.HANDED_BACK]
    assert [e.alert.alert_id for e in handed] == [joined.alert_id], "the complaint is its own"

    # -- the orders changelog forgets orders silent for logistics.forget_after -----------------
    orders = topic_config(kafka_broker.bootstrap, f"{namespace}-orders-changelog")
    forget_ms = int(load_rules(settings.rules_file).logistics.forget_after.total_seconds() * 1000)
    assert orders["cleanup.policy"] == "compact,delete" and orders["retention.ms"] == str(forget_ms)
