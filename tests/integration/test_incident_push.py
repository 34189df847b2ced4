"""Issue #16's case end to end: a batch of 30 complaints is one alert pushed (with its 30
members), not 31. The real worker opens the members' alerts and the surge parent that lists
them; the real notifier, on a subscription's default policy, pushes the parent to a local
DingTalk robot that enforces the platform's limits and signatures (tests/robots.py), and holds
each member back as inhibited (rules.yaml `inhibit_rules: incident-members`).

Every wait is `eventually` (a liveness bound), never a fixed sleep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kesu.broker import free_port
from streams.records import Source
from streams.topics import RAW
from tests.conftest import Broker, SettingsFactory
from tests.factories import make_event, to_bytes
from tests.integration.push_stack import push_stack
from tests.integration.support import eventually, publish, rules_with

BATCH = "B2512-30"
#: Product faults, said by 30 customers: tier 2 each (a tier-1 member would still be pushed).
TEXTS = ("新手机发热严重，充电就烫手", "刚买的手机黑屏了，质量太差", "手机一直发热，太失望了")


def test_thirty_complaints_about_one_batch_are_one_pushed_alert(
    kafka_broker: Broker, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    rules = rules_with(
        tmp_path,
        {
            "surge": {
                # 5-minute windows: a slow machine may take minutes to score 30 posts
                "windows": ["300s", "600s", "1200s"],
                "close_after": 2,
                "cooldown": 2,
                "dimensions": ["batch"],
                "new_key_history": "0s",  # a fresh deployment (day-one quiet: test_surge.py)
            }
        },
    )
    settings = make_settings(
        rules_file=rules,
        tick_interval="1s",
        notifier_metrics_port=free_port(),
        push_allowed_destinations="127.0.0.0/8",
    )
    with push_stack(settings, tmp_path) as stack:
        call, robots = stack.call, stack.robots
        stack.subscribe_ding()  # the default policy: group_wait 30 s, DingTalk's 20 a minute
        posts = []
        for number in range(30):
            event = make_event(
                Source.SOCIAL,
                author=f"用户{BATCH}-{number}",
                text=TEXTS[number % len(TEXTS)],
                product="星河X1",
                batch=BATCH,
            )
            posts.append((event["event_id"].encode(), to_bytes(event)))
        publish(kafka_broker.bootstrap, RAW[Source.SOCIAL].name(settings.namespace), posts)

        def alerts(**params: str) -> list[dict[str, Any]]:
            body = call("viewer", "GET", "/v1/alerts", params={"limit": "200", **params}).json()
            return list(body["items"])

        def parent() -> dict[str, Any] | None:
            found = [a for a in alerts(kind="surge") if (a.get("group") or {}).get("member_count")]
            return found[0] if found and found[0]["group"]["member_count"] >= 30 else None

        surge = eventually(parent, timeout=240, what="the surge parent listing 30 members")
        members = eventually(
            lambda: (
                (
                    found := [
                        a
                        for a in alerts(kind="complaint")
                        if a["case_key"] in surge["group"]["member_case_keys"]
                    ]
                )
                and len(found) == 30
                and found
            ),
            timeout=120,
            what="the 30 members' own alerts",
        )
        assert {a["tier"] for a in members} == {2}, "the premise: tier-2 members"
        member_ids = {a["alert_id"] for a in members}

        def settled() -> list[dict[str, Any]] | None:
            """Every member filtered or sent, and the parent's opening delivered (it waits
            group_wait first)."""
            log = call("admin", "GET", "/v1/subscriptions/ding/deliveries", params={"limit": 1000})
            entries: list[dict[str, Any]] = log.json()
            seen = {e["alert_id"] for e in entries if e["outcome"] in ("delivered", "filtered")}
            opened = any(
                e["alert_id"] == surge["alert_id"]
                and e["transition"] == "opened"
                and e["outcome"] == "delivered"
                for e in entries
            )
            return entries if opened and member_ids <= seen else None

        entries = eventually(settled, timeout=180, what="every alert settled for the robot")
        inhibited = {
            e["alert_id"]
            for e in entries
            if e["outcome"] == "filtered" and e["filtered_by"] == "INHIBITED"
        }
        assert member_ids <= inhibited, f"{len(member_ids - inhibited)} members not inhibited"
        accepted = [t for t in robots.of("ding") if t.accepted]
        named = set().union(*(t.alert_ids() for t in accepted))
        assert named == {surge["alert_id"]}, (
            [t.text for t in robots.of("ding")],
            [
                (e["outcome"], e["filtered_by"], e["last_status"], e["last_error"], e["transition"])
                for e in entries
                if e["alert_id"] == surge["alert_id"]
            ],
        )
        assert not [t for t in robots.of("ding") if not t.accepted], "a request was refused"
        listed = {a["alert_id"]: a for a in alerts(kind="complaint")}
        for member in member_ids:  # still recorded and listed, with why it was not pushed
            assert listed[member]["suppressed"]["reason"] == "inhibited"
            assert listed[member]["suppressed"]["by"] == surge["alert_id"]
