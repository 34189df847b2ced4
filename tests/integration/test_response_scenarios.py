"""The response engine on the real broker: raw events in, exactly the expected alert lifecycle out.

SLA targets are shortened in a test rules file (seconds instead of hours) so warnings,
breaches and escalations really fire within the test.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kesu.settings import Settings
from streams.codec import encode_record
from streams.records import AlertAction, AlertEvent, Source, Transition
from streams.topics import ACTIONS, LIFECYCLE, RAW
from tests.conftest import Broker, SettingsFactory, WorkerFactory
from tests.factories import make_event, now_utc, to_bytes
from tests.integration.support import publish, read_all, read_until, short_sla_rules

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！"
FOLLOW_UP_POST = "说好的次日达，结果等了三天还没到，有点失望"
SCREEN_FAULT = "手机用了三天就黑屏，开不了机，麻烦帮忙看看怎么修"
PRAISE = "谢谢你们，师傅很专业，问题解决了"


def _lifecycle(broker: Broker, settings: Settings) -> list[AlertEvent]:
    return [
        AlertEvent.model_validate_json(r.value)
        for r in read_all(broker.bootstrap, [LIFECYCLE.name(settings.namespace)])
    ]


def _wait_for(
    broker: Broker, settings: Settings, wanted: list[tuple[str, Transition]], what: str
) -> list[AlertEvent]:
    """Wait until every (customer, transition) pair has appeared; returns all records."""

    def done(records: list[Any]) -> bool:
        events = [AlertEvent.model_validate_json(r.value) for r in records]
        seen = Counter((e.alert.customer_id, e.transition) for e in events)
        return all(seen[pair] >= 1 for pair in wanted)

    read_until(broker.bootstrap, [LIFECYCLE.name(settings.namespace)], done, timeout=90, what=what)
    return _lifecycle(broker, settings)


def _call(customer: str, text: str, **fields: Any) -> tuple[bytes, bytes]:
    event = make_event(Source.CALL, customer_id=customer, text=text, **fields)
    return event["event_id"].encode(), to_bytes(event)


def _action(alert: AlertEvent, kind: str) -> tuple[bytes, bytes]:
    action = AlertAction(
        action_id=f"it-{alert.alert_id}-{kind}",
        alert_id=alert.alert_id,
        case_key=alert.alert.case_key,
        kind=kind,
        actor="值班-张三",
        at=now_utc(),
    )
    return action.case_key.encode(), encode_record(action)


def test_a_scenario_yields_exactly_the_expected_alerts_and_clocks_really_fire(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
) -> None:
    rules = short_sla_rules(
        tmp_path,
        tier1={
            "first_action": {
                "target": "6s",
                "warn_at": [0.5],
                "escalate_every": "3s",
                "calendar": "always",
            }
        },
        tier2={"resolve": {"target": "1h", "warn_at": [0.75], "calendar": "always"}},
    )
    settings = make_settings(rules_file=rules, tick_interval="0.5s")
    worker_factory(settings)
    threat = _call("cust-a", THREAT, order_id="SO-A")
    publish(
        kafka_broker.bootstrap,
        RAW[Source.CALL].name(settings.namespace),
        [threat, _call("cust-b", SCREEN_FAULT), _call("cust-c", PRAISE), threat],
    )
    post = make_event(Source.SOCIAL, customer_id="cust-a", order_id="SO-A", text=FOLLOW_UP_POST)
    publish(
        kafka_broker.bootstrap,
        RAW[Source.SOCIAL].name(settings.namespace),
        [(post["event_id"].encode(), to_bytes(post))],
    )

    records = _wait_for(
        kafka_broker,
        settings,
        [
            ("cust-a", Transition.OPENED),
            ("cust-a", Transition.CONTACT_ADDED),
            ("cust-b", Transition.OPENED),
            ("cust-a", Transition.WARNED),
            ("cust-a", Transition.BREACHED),
            ("cust-a", Transition.ESCALATED),
        ],
        "alert A to open, gain a contact, warn, breach and escalate; alert B to open",
    )
    opened = {e.alert.customer_id: e for e in records if e.transition is Transition.OPENED}
    assert set(opened) == {"cust-a", "cust-b"}, (
        "the praise opened an alert, or an alert opened twice"
    )
    a, b = opened["cust-a"], opened["cust-b"]
    assert (a.alert.tier, a.alert.rule_id, a.alert.rules_version) == (
        1,
        "escalation-threat",
        "test-short-sla",
    )
    assert set(a.alert.threats) >= {"12315", "曝光"}
    assert (b.alert.tier, b.alert.rule_id) == (2, "product-fault")
    assert [e.transition for e in records if e.alert_id == b.alert_id] == [Transition.OPENED]

    publish(kafka_broker.bootstrap, ACTIONS.name(settings.namespace), [_action(a, "acknowledge")])
    records = _wait_for(
        kafka_broker, settings, [("cust-a", Transition.ACKNOWLEDGED)], "the acknowledgement"
    )
    time.sleep(4)  # longer than escalate_every: an acknowledged alert must not escalate again
    records = _lifecycle(kafka_broker, settings)
    timeline = [e for e in records if e.alert_id == a.alert_id]
    transitions = [e.transition for e in timeline]
    assert transitions[:3] == [Transition.OPENED, Transition.CONTACT_ADDED, Transition.WARNED]
    assert transitions.count(Transition.BREACHED) == 1
    assert transitions.count(Transition.OPENED) == 1
    assert transitions[-1] is Transition.ACKNOWLEDGED, transitions
    assert [e.version for e in timeline] == list(range(1, len(timeline) + 1))
    assert len({e.record_id for e in timeline}) == len(timeline), "a record was published twice"
    assert timeline[-1].alert.contacts == 2 and timeline[-1].actor == "值班-张三"


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_a_deadline_passed_while_the_worker_was_down_fires_exactly_once(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
    stop: str,
) -> None:
    """The clock lives in a changelogged table: after a restart the breach fires once, not zero
    times and not twice (with SIGKILL, a record may be re-published but with the same record_id)."""
    rules = short_sla_rules(
        tmp_path,
        tier1={
            "first_action": {
                "target": "8s",
                "warn_at": [0.9],
                "escalate_every": "1h",
                "calendar": "always",
            }
        },
    )
    settings = make_settings(rules_file=rules, tick_interval="0.5s")
    worker = worker_factory(settings)
    publish(
        kafka_broker.bootstrap, RAW[Source.CALL].name(settings.namespace), [_call("cust-r", THREAT)]
    )
    _wait_for(kafka_broker, settings, [("cust-r", Transition.OPENED)], "the alert to open")
    worker.stop() if stop == "sigterm" else worker.kill()
    time.sleep(10)  # the 8 s deadline (and the 7.2 s warning) pass while nobody is running
    worker.start()
    _wait_for(
        kafka_broker, settings, [("cust-r", Transition.BREACHED)], "the breach after the restart"
    )
    time.sleep(3)  # several more ticks: nothing may fire again
    records = [e for e in _lifecycle(kafka_broker, settings) if e.alert.customer_id == "cust-r"]
    breaches = [e for e in records if e.transition is Transition.BREACHED]
    assert len({e.record_id for e in breaches}) == 1
    if stop == "sigterm":
        assert len(breaches) == 1, "a clean restart must not re-publish anything"
    assert [e.transition for e in records if e.transition is Transition.WARNED] == [], (
        "a warning due before the breach is superseded by it after downtime"
    )
