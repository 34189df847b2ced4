"""Group, wait, fold: the group timers, the plan under a budget, and who is on duty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from complaints.rules import OnCall
from notify.grouping import Group, group_key, key_text, urgency
from notify.models import PushFormat
from notify.oncall import mention_for, on_duty
from notify.planner import Due, plan
from notify.policy import Policy
from streams.records import AlertEvent, Transition
from tests.unit.notify.samples import T0, make_alert_event

POLICY = Policy()  # group_wait 30 s, group_interval 5 min, tier 1 immediate


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _event(alert_id: str, version: int = 1, tier: int = 2, **kw: Any) -> AlertEvent:
    transition = kw.pop("transition", Transition.OPENED)
    return make_alert_event(transition, alert_id=alert_id, version=version, tier=tier, **kw)


class TestGroupKey:
    def test_key_from_the_group_by_labels(self) -> None:
        key = group_key({"tier": "1", "kind": "complaint", "region": "华南"}, ("tier", "kind"))
        assert key_text(key) == "tier=1,kind=complaint"
        assert key_text(group_key({}, ("region",))) == "region="
        assert key_text(group_key({"tier": "1"}, ())) == ""

    @pytest.mark.parametrize(
        ("transition", "tier", "urgent"),
        [
            (Transition.OPENED, 1, True),
            (Transition.TIER_RAISED, 1, True),
            (Transition.REOPENED, 1, True),
            (Transition.OPENED, 2, False),
            (Transition.BREACHED, 1, False),  # timers matter for reminders of known alerts
            (Transition.WARNED, 1, False),
        ],
    )
    def test_urgency(self, transition: Transition, tier: int, urgent: bool) -> None:
        assert urgency(_event("a", tier=tier, transition=transition), POLICY) is urgent


class TestGroupTimers:
    @pytest.mark.parametrize(
        ("case", "arrivals", "last_sent", "due"),
        [
            ("first message after group_wait", [("a", 0, 2)], None, 30),
            ("a later arrival does not push it back", [("a", 0, 2), ("b", 20, 2)], None, 30),
            ("after a message: group_interval", [("a", 100, 2)], 80, 380),
            ("quiet group: group_wait again", [("a", 1000, 2)], 80, 1030),
            ("a tier-1 opening skips both waits", [("a", 0, 2), ("b", 40, 1)], 30, 40),
        ],
    )
    def test_due_at(
        self,
        case: str,
        arrivals: list[tuple[str, float, int]],
        last_sent: float | None,
        due: float,
    ) -> None:
        group = Group(key=())
        group.last_sent_at = _at(last_sent) if last_sent is not None else None
        for alert_id, at, tier in arrivals:
            event = _event(alert_id, tier=tier)
            group.add(event, _at(at), urgent=urgency(event, POLICY))
        assert group.due_at(POLICY) == _at(due)

    def test_an_empty_group_is_never_due(self) -> None:
        assert Group(key=()).due_at(POLICY) is None

    def test_records_of_one_alert_collapse_into_one_entry(self) -> None:
        """Opened then tier raised while waiting: one entry, the latest record, both ids kept."""
        group = Group(key=())
        group.add(_event("a", 1, tier=2), _at(0), urgent=False)
        group.add(_event("a", 2, tier=1, transition=Transition.TIER_RAISED), _at(5), urgent=True)
        [entry] = group.take()
        assert (entry.event.version, entry.record_ids, entry.urgent, entry.first_seen) == (
            2,
            ("a:1", "a:2"),
            True,
            _at(0),
        )
        assert group.pending == {}

    def test_take_orders_by_priority(self) -> None:
        group = Group(key=())
        for alert_id, tier, at in (("t3", 3, 0), ("t2", 2, 1), ("t1", 1, 2), ("t1b", 1, 1)):
            event = _event(alert_id, tier=tier)
            group.add(event, _at(at), urgent=urgency(event, POLICY))
        assert [e.alert_id for e in group.take()] == ["t1b", "t1", "t2", "t3"]

    def test_put_back_keeps_what_arrived_meanwhile(self) -> None:
        """A refused message's entries wait again; a newer record of one of them is kept too."""
        group = Group(key=())
        group.add(_event("a", 1), _at(0), urgent=False)
        taken = group.take()
        group.add(_event("a", 2, transition=Transition.BREACHED), _at(10), urgent=False)
        group.put_back(taken)
        [entry] = group.take()
        assert entry.record_ids == ("a:1", "a:2") and entry.event.version == 2
        assert entry.first_seen == _at(0)


def _due(key: str, tier: int, at: float = 0, urgent: bool = False) -> Due[str]:
    return Due(key, tier, _at(at), urgent)


class TestPlan:
    @pytest.mark.parametrize(
        ("case", "due", "tokens", "messages"),
        [
            ("enough budget: one each", [_due("a", 2), _due("b", 1)], 5, [["b"], ["a"]]),
            ("no budget: nothing", [_due("a", 1)], 0, []),
            (
                "short budget: the last message folds the rest",
                [_due("a", 2), _due("b", 1), _due("c", 3), _due("d", 2, 1)],
                2,
                [["b"], ["a", "d", "c"]],
            ),
            (
                "one token, several due: one digest",
                [_due("a", 2), _due("b", 2, 1)],
                1,
                [["a", "b"]],
            ),
            ("tier 3 alone never takes the last token", [_due("c", 3)], 1, []),
            ("tier 3 goes when budget is ample", [_due("c", 3)], 2, [["c"]]),
            (
                "tier 3 rides along in a digest",
                [_due("a", 1), _due("c", 3)],
                1,
                [["a", "c"]],
            ),
            (
                "tier 3 waits when tier 1/2 use the budget down to the reserve",
                [_due("a", 1), _due("b", 2), _due("c", 3)],
                3,
                [["a"], ["b"]],
            ),
            (
                "urgent before older within a tier",
                [_due("old", 1, 0), _due("urgent", 1, 5, True)],
                2,
                [["urgent"], ["old"]],
            ),
        ],
    )
    def test_table(
        self, case: str, due: list[Due[str]], tokens: int, messages: list[list[str]]
    ) -> None:
        assert plan(due, tokens) == messages


ROTA = OnCall.model_validate(
    {
        "timezone": "Asia/Shanghai",
        "people": {
            "wang": {
                "name": "王芳",
                "wecom": "WangFang",
                "mobile": "13800000000",
                "feishu": "ou_w",
            },
            "li": {"name": "李雷", "wecom": "LiLei", "dingtalk": "0123"},
            "zhao": {"name": "赵敏", "wecom": "ZhaoMin"},
        },
        "rotations": [
            {"level": 0, "start": "2026-11-23T09:00", "every": "12h", "people": ["wang", "li"]},
            {
                "level": 1,
                "start": "2026-11-23T09:00+08:00",
                "every": "7d",
                "people": ["zhao"],
                "overrides": [
                    {"starts": "2026-11-28T09:00", "ends": "2026-11-29T09:00", "person": "li"}
                ],
            },
        ],
    }
)
BEIJING_0900 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")  # 09:00 Beijing


class TestOnDuty:
    @pytest.mark.parametrize(
        ("level", "hours_after_start", "who"),
        [
            (0, 0, "wang"),
            (0, 11.9, "wang"),
            (0, 12, "li"),  # local times without offset are Beijing time
            (0, 24, "wang"),
            (0, -1, None),  # before the rota starts
            (1, 24 * 5, "li"),  # 11-28 09:00 Beijing: the override
            (1, 24 * 6, "zhao"),  # the override ended
            (2, 0, None),  # no rotation at that level
        ],
    )
    def test_table(self, level: int, hours_after_start: float, who: str | None) -> None:
        found = on_duty(ROTA, level, BEIJING_0900 + timedelta(hours=hours_after_start))
        assert (found[0] if found else None) == who

    @pytest.mark.parametrize(
        ("fmt", "mobiles", "user_ids"),
        [
            (PushFormat.WECOM, (), ("WangFang", "LiLei")),
            (PushFormat.DINGTALK, ("13800000000",), ("0123",)),  # mobile first, else user id
            (PushFormat.FEISHU, (), ("ou_w",)),  # Feishu cannot @ by phone
            (PushFormat.JSON, ("13800000000",), ("WangFang", "ou_w", "LiLei", "0123")),
        ],
    )
    def test_each_platform_mentions_its_own_way(
        self, fmt: PushFormat, mobiles: tuple[str, ...], user_ids: tuple[str, ...]
    ) -> None:
        mention = mention_for([ROTA.people["wang"], ROTA.people["li"]], fmt)
        assert (mention.mobiles, mention.user_ids) == (mobiles, user_ids)
