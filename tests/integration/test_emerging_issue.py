"""Issue #18's emerging issue end to end: customers who say one fault in their own words, with no
product, batch or region field linking their posts, are one parent alert (新问题) listing them as
members, like a surge. The real worker scores each post, sends its masked text to the grouping
stage, which groups the texts (complaints/similar.py) and opens the parent; the real notifier,
on a subscription's default grouping, pushes the parent to a local DingTalk robot that enforces
the platform's limits and signatures (tests/robots.py) and holds each member back as inhibited
(rules.yaml `inhibit_rules: incident-members`). Complaints about other things in the same
minutes are neither members nor held back.

Every wait is `eventually` (a liveness bound), never a fixed sleep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.grouping_traffic import ISSUES
from kesu.broker import free_port
from streams.records import Source
from streams.topics import RAW
from tests.conftest import Broker, SettingsFactory
from tests.factories import make_event, to_bytes
from tests.integration.push_stack import push_stack
from tests.integration.support import eventually, publish

#: One fault said eight ways by eight customers: product faults, tier 2 each (a tier-1 member
#: would still be pushed on its own).
SAME_ISSUE = tuple(t for n, t in enumerate(ISSUES["earbud-left-silent"]) if n not in (7, 9))
#: Two more, after the worker restarted.
LATER = (ISSUES["earbud-left-silent"][7], ISSUES["earbud-left-silent"][9])
#: Other complaints in the same minutes, each about something else (tier 2 too).
OTHERS = ("空调开了一下午都不制冷", "退款申请了一周还没处理", "奶粉冲开全是结块")


def test_one_fault_in_many_words_is_one_parent_alert_holding_back_its_members(
    kafka_broker: Broker, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        tick_interval="1s",
        notifier_metrics_port=free_port(),
        push_allowed_destinations="127.0.0.0/8",
    )  # the shipped rules: emerging issues at 5 customers within an hour
    with push_stack(settings, tmp_path) as stack:
        call, robots, worker = stack.call, stack.robots, stack.worker
        # the default grouping (by tier and kind) and DingTalk's 20 a minute; shorter waits, so
        # complaints scored minutes apart on a slow machine go out in the run
        stack.subscribe_ding(policy={"group_wait": "3s", "group_interval": "10s"})
        posts = []
        texts = [(f"耳机用户{n}", text) for n, text in enumerate(SAME_ISSUE)]
        texts[2:2] = [(f"其他用户{n}", text) for n, text in enumerate(OTHERS)]
        for author, text in texts:  # no product, SKU, batch or region: only the words link them
            event = make_event(Source.SOCIAL, author=author, text=text)
            posts.append((event["event_id"].encode(), to_bytes(event)))
        publish(kafka_broker.bootstrap, RAW[Source.SOCIAL].name(settings.namespace), posts)
        same = {f"social:weibo:耳机用户{n}" for n in range(len(SAME_ISSUE))}
        others = {f"social:weibo:其他用户{n}" for n in range(len(OTHERS))}

        def alerts(**params: str) -> list[dict[str, Any]]:
            body = call("viewer", "GET", "/v1/alerts", params={"limit": "200", **params}).json()
            return list(body["items"])

        def parent() -> dict[str, Any] | None:
            found = [a for a in alerts(kind="surge") if (a.get("group") or {}).get("member_count")]
            done = [a for a in found if a["group"]["member_count"] >= len(SAME_ISSUE)]
            return done[0] if done else None

        issue = eventually(parent, timeout=240, what="the emerging-issue parent listing 8 members")
        assert issue["rule_id"] == "emerging-issue", issue
        assert issue["title"].startswith("新问题："), issue["title"]
        assert "耳机" in issue["title"] and "无声" in issue["title"], issue["title"]
        group = issue["group"]
        assert set(group["member_case_keys"]) == same, "members: the eight customers, no one else"
        assert group["member_count"] == len(SAME_ISSUE)
        assert not others & set(group["member_case_keys"])
        parents = [a for a in alerts(kind="surge") if a.get("group")]
        assert [a["alert_id"] for a in parents] == [issue["alert_id"]], "one parent, not two"
        assert "耳机" in group["keywords"] and "无声" in group["keywords"], group["keywords"]
        surges = call("viewer", "GET", "/v1/surges").json()["items"]  # the dashboard's panel
        [listed_issue] = [s for s in surges if s["alert_id"] == issue["alert_id"]]
        assert listed_issue["kind"] == "emerging_issue" and listed_issue["dimension"] == "issue"
        assert listed_issue["label"].startswith("新问题 ") and "耳机" in listed_issue["label"]
        assert listed_issue["count"] == group["member_count"]
        assert listed_issue["ratio"] is None and listed_issue["expected"] is None

        def own(cases: set[str]) -> list[dict[str, Any]] | None:
            found = [a for a in alerts(kind="complaint") if a["case_key"] in cases]
            return found if len(found) == len(cases) else None

        members = eventually(lambda: own(same), timeout=120, what="the members' own alerts")
        background = eventually(lambda: own(others), timeout=120, what="the others' alerts")
        assert {a["tier"] for a in members} == {2}, "the premise: tier-2 members"
        member_ids = {a["alert_id"] for a in members}
        other_ids = {a["alert_id"] for a in background}

        last: list[list[dict[str, Any]]] = [[]]

        def settled() -> list[dict[str, Any]] | None:
            """Every member and other complaint filtered or sent, and the parent's opening
            delivered (it waits group_wait first)."""
            log = call("admin", "GET", "/v1/subscriptions/ding/deliveries", params={"limit": 1000})
            entries: list[dict[str, Any]] = log.json()
            last[0] = entries
            seen = {e["alert_id"] for e in entries if e["outcome"] in ("delivered", "filtered")}
            seen |= {  # a message carrying several alerts is logged under one, with every record
                rid.rsplit(":", 1)[0]
                for e in entries
                if e["outcome"] == "delivered"
                for rid in e.get("record_ids") or ()
            }
            opened = any(
                e["alert_id"] == issue["alert_id"]
                and e["transition"] == "opened"
                and e["outcome"] == "delivered"
                for e in entries
            )
            return entries if opened and member_ids | other_ids <= seen else None

        try:
            entries = eventually(settled, timeout=180, what="every alert settled for the robot")
        except AssertionError as waited:
            names = {issue["alert_id"]: "parent"} | dict.fromkeys(member_ids, "member")
            names |= dict.fromkeys(other_ids, "other")
            shown = [
                (names.get(e["alert_id"], e["alert_id"]), e["transition"], e["outcome"])
                for e in last[0]
            ]
            raise AssertionError(f"{waited}: deliveries {shown}") from None
        inhibited = {
            e["alert_id"]
            for e in entries
            if e["outcome"] == "filtered" and e["filtered_by"] == "INHIBITED"
        }
        assert member_ids <= inhibited, f"{len(member_ids - inhibited)} members not inhibited"
        assert not other_ids & inhibited, "a complaint about something else was held back"
        accepted = [t for t in robots.of("ding") if t.accepted]
        named = set().union(*(t.alert_ids() for t in accepted))
        assert issue["alert_id"] in named
        assert not named & member_ids, "a member was pushed on its own"
        assert other_ids <= named, "the other complaints reached the group"
        assert not [t for t in robots.of("ding") if not t.accepted], "a request was refused"
        listed = {a["alert_id"]: a for a in alerts(kind="complaint")}
        for member in member_ids:  # still recorded and listed, with why it was not pushed
            assert listed[member]["suppressed"]["reason"] == "inhibited"
            assert listed[member]["suppressed"]["by"] == issue["alert_id"]

        # A restarted worker reads the grouping stage's book back from its table (the groups
        # as entries of their own): two more customers join the same parent, not a new one.
        worker.stop()
        worker.start()
        later = []
        for n, text in enumerate(LATER, start=len(SAME_ISSUE)):
            event = make_event(Source.SOCIAL, author=f"耳机用户{n}", text=text)
            later.append((event["event_id"].encode(), to_bytes(event)))
        publish(kafka_broker.bootstrap, RAW[Source.SOCIAL].name(settings.namespace), later)
        total = len(SAME_ISSUE) + len(LATER)

        def grown() -> dict[str, Any] | None:
            found = [a for a in alerts(kind="surge") if a.get("group")]
            return (
                found[0] if len(found) == 1 and found[0]["group"]["member_count"] == total else None
            )

        after = eventually(grown, timeout=240, what="the same parent listing 10 members")
        assert after["alert_id"] == issue["alert_id"]
        assert set(after["group"]["member_case_keys"]) == {
            f"social:weibo:耳机用户{n}" for n in range(total)
        }
