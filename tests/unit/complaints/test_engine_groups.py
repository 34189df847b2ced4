"""The engine's side of issue #16: parents and members, complaints joining proactive alerts,
and churn and complaints in either order. Driven input by input with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints.engine import Suppressed, decide, notice_id_for
from complaints.incidents import CaseState
from streams.records import (
    ActionKind,
    AlertKind,
    AlertStatus,
    Category,
    Emotion,
    GroupDetail,
    GroupNotice,
    ParentOutcome,
    SignalChange,
    SurgeDetail,
    Transition,
)
from tests.factories import T0, make_action, make_assessed, make_signal
from tests.unit.complaints.test_engine import RULES, Run, _rules_with

H = timedelta(hours=1)
DAY = timedelta(days=1)
PARENT = "surge:batch:B2511-07"


def _group(*cases: str, **overrides: object) -> GroupDetail:
    values: dict[str, object] = {
        "member_case_keys": cases,
        "member_count": len(cases),
        "member_event_ids": tuple(f"e-{c}" for c in cases),
        "examples": ("手机发热严重",),
        "intensity": 55,
        "on_resolve": ParentOutcome.HAND_BACK,
    }
    values.update(overrides)
    return GroupDetail(**values)  # type: ignore[arg-type]


def _surge(group: GroupDetail, at: object = T0, **overrides: object) -> object:
    detail = SurgeDetail(
        dimension="batch",
        value="B2511-07",
        window_start=T0,
        window_minutes=15,
        count=group.member_count,
        expected=0.2,
        ratio=group.member_count / 0.2,
        p_value=1e-6,
    )
    values: dict[str, object] = {
        "case_key": PARENT,
        "customer": None,
        "kind": AlertKind.SURGE,
        "subject": f"batch:B2511-07@{T0.isoformat()}",
        "tier": 2,
        "rule_id": "surge",
        "title": f"集中投诉 · 批次 B2511-07：{group.member_count} 条负面反馈",
        "customer_id": None,
        "category": None,
        "delay": None,
        "surge": detail,
        "group": group,
        "at": at,
    }
    values.update(overrides)
    return make_signal(**values)  # type: ignore[arg-type]


class TestParent:
    def test_a_parent_counts_its_members_and_shows_no_system_text_as_a_quote(self) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a", "customer:b", "customer:c")))  # type: ignore[arg-type]
        alert = run.alert()
        assert alert.group is not None and alert.group.member_case_keys == (
            "customer:a",
            "customer:b",
            "customer:c",
        )
        assert (alert.contacts, alert.intensity, alert.excerpt) == (3, 55, "")

    def test_a_grown_parent_is_updated_with_its_new_size(self) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a", "customer:b")))  # type: ignore[arg-type]
        records = run.feed(_surge(_group("customer:a", "customer:b", "customer:c"), at=T0 + H))  # type: ignore[arg-type]
        assert run.transitions(records) == [Transition.UPDATED]
        assert run.alert().contacts == 3 and "3 条" in run.alert().title

    @pytest.mark.parametrize("outcome", list(ParentOutcome))
    def test_resolving_a_parent_tells_every_member_case_what_the_rules_say(
        self, outcome: ParentOutcome
    ) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a", "customer:b", on_resolve=outcome)))  # type: ignore[arg-type]
        parent = run.alert()
        run.feed(make_action(parent, ActionKind.RESOLVE, T0 + H))
        assert run.last is not None
        notices = run.last.notices
        assert [n.case_key for n in notices] == ["customer:a", "customer:b"]
        assert {n.outcome for n in notices} == {outcome}
        assert notices[0].event_ids == ("e-customer:a", "e-customer:b")
        assert notices[0].notice_id == notice_id_for(parent.alert_id, "customer:a", outcome)
        assert notices[0].actor == "王主管" and notices[0].parent_alert_id == parent.alert_id

    def test_a_parent_going_quiet_hands_its_members_back(self) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a", on_resolve=ParentOutcome.RESOLVE)))  # type: ignore[arg-type]
        run.feed(_surge(_group("customer:a"), at=T0 + H, change=SignalChange.CLEARED))  # type: ignore[arg-type]
        assert run.last is not None
        assert [n.outcome for n in run.last.notices] == [ParentOutcome.HAND_BACK]

    def test_closing_a_parent_by_hand_hands_its_members_back(self) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a", on_resolve=ParentOutcome.RESOLVE)))  # type: ignore[arg-type]
        run.feed(make_action(run.alert(), ActionKind.CLOSE, T0 + H))
        assert run.last is not None
        assert [n.outcome for n in run.last.notices] == [ParentOutcome.HAND_BACK]

    def test_a_parent_closed_after_its_resolution_sends_nothing_again(self) -> None:
        run = Run()
        run.feed(_surge(_group("customer:a")))  # type: ignore[arg-type]
        run.feed(make_action(run.alert(), ActionKind.RESOLVE, T0 + H))
        run.feed(make_action(run.alert(), ActionKind.CLOSE, T0 + 2 * H))
        assert run.last is not None and run.last.notices == ()
        assert run.alert().status is AlertStatus.CLOSED

    def test_an_alert_without_members_sends_no_notices(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.ANGER))
        run.feed(make_action(run.alert(), ActionKind.RESOLVE, T0 + H))
        assert run.last is not None and run.last.notices == ()


def _notice(outcome: ParentOutcome, *events: str, **overrides: object) -> GroupNotice:
    values: dict[str, object] = {
        "notice_id": f"gn-{outcome.value}-{'-'.join(events)}",
        "case_key": "customer:c1",
        "parent_alert_id": "al-parent",
        "parent_title": "集中投诉 · 批次 B2511-07",
        "member_kind": AlertKind.COMPLAINT,
        "outcome": outcome,
        "event_ids": events,
        "at": T0 + 2 * H,
        "actor": "王主管",
    }
    values.update(overrides)
    return GroupNotice(**values)  # type: ignore[arg-type]


class TestMembers:
    def _member(self) -> Run:
        run = Run()
        run.feed(make_assessed(category=Category.PRODUCT_QUALITY, event_id="e7"))  # tier 2
        return run

    def test_resolving_the_parent_resolves_the_member_with_a_note(self) -> None:
        run = self._member()
        records = run.feed(_notice(ParentOutcome.RESOLVE, "e7"))
        assert run.transitions(records) == [Transition.RESOLVED]
        assert records[0].actor == "王主管" and "一并解决" in records[0].detail
        assert run.alert().status is AlertStatus.RESOLVED and run.alert().follow_up is not None

    def test_handing_back_leaves_the_member_open_with_a_record_of_it(self) -> None:
        run = self._member()
        records = run.feed(_notice(ParentOutcome.HAND_BACK, "e7"))
        assert run.transitions(records) == [Transition.HANDED_BACK]
        assert run.alert().status is AlertStatus.OPEN and run.alert().clocks

    def test_alerts_the_parent_did_not_count_are_left_alone(self) -> None:
        run = self._member()
        assert run.feed(_notice(ParentOutcome.RESOLVE, "e-other")) == []
        assert run.last is not None and run.last.suppressed is Suppressed.NOT_APPLICABLE
        assert run.alert().status is AlertStatus.OPEN

    def test_the_same_notice_twice_is_one_change(self) -> None:
        run = self._member()
        notice = _notice(ParentOutcome.HAND_BACK, "e7")
        run.feed(notice)
        assert run.feed(notice) == []
        assert run.last is not None and run.last.suppressed is Suppressed.DUPLICATE_INPUT

    def test_a_wave_hands_back_an_order_its_customer_complained_about(self) -> None:
        run = Run()
        run.feed(make_signal(subject="SO1"))
        run.feed(make_assessed(at=T0 + H, order_id="SO1"))
        records = run.feed(
            _notice(
                ParentOutcome.RESOLVE,
                member_kind=AlertKind.LOGISTICS_DELAY,
                order_ids=("SO1",),
                notice_id="gn-wave",
            )
        )
        assert run.transitions(records) == [Transition.HANDED_BACK]
        assert run.alert().status is AlertStatus.OPEN

    def test_a_wave_resolves_the_delay_alerts_of_its_orders(self) -> None:
        run = Run()
        run.feed(make_signal(subject="SO1"), make_signal(subject="SO2"))
        records = run.feed(
            _notice(
                ParentOutcome.RESOLVE,
                member_kind=AlertKind.LOGISTICS_DELAY,
                order_ids=("SO1",),
                notice_id="gn-wave",
            )
        )
        assert {r.alert.subject for r in records} == {"SO1"}
        assert Transition.RESOLVED in run.transitions(records)  # tier 3: resolved, then closed
        assert run.state is not None
        assert [a.subject for a in run.state.alerts] == ["SO2"]


class TestComplaintJoinsProactiveAlert:
    """The issue's case: an angry 12315 threat on the third contact about a delayed order."""

    def _three_contacts(self) -> Run:
        run = Run()
        run.feed(make_signal(compensation=None))
        run.feed(make_assessed(at=T0 + H, order_id="SO1", emotion=Emotion.ANXIETY))
        run.feed(make_assessed(at=T0 + 2 * H, order_id="SO1", emotion=Emotion.ANXIETY))
        run.feed(
            make_assessed(
                at=T0 + 3 * H,
                order_id="SO1",
                emotion=Emotion.ANGER,
                threats=("12315",),
                masked_text="再不处理我就打12315投诉！",
            )
        )
        return run

    def test_it_is_a_tier_1_complaint_with_the_rules_compensation(self) -> None:
        alert = self._three_contacts().alert()
        assert (alert.kind, alert.tier, alert.contacts) == (AlertKind.COMPLAINT, 1, 3)
        assert alert.title.startswith("客户投诉 · 订单 SO1")
        assert alert.compensation is not None
        assert (alert.compensation.rule_id, alert.compensation.amount_yuan) == (
            "comp-repeat-tier1",
            800,
        )
        assert alert.compensation.needs_approval
        assert alert.excerpt == "再不处理我就打12315投诉！"

    def test_a_new_estimate_still_updates_it_and_never_lowers_compensation(self) -> None:
        run = self._three_contacts()
        records = run.feed(
            make_signal(at=T0 + 4 * H, title="订单 SO1 预计延误 50 小时", rule_id="delay-over-48h")
        )
        assert run.transitions(records) == [Transition.UPDATED]
        alert = run.alert()
        assert alert.title == "客户投诉 · 订单 SO1 预计延误 50 小时"
        assert alert.compensation is not None and alert.compensation.amount_yuan == 800

    def test_delivery_does_not_close_the_customers_complaint(self) -> None:
        run = self._three_contacts()
        records = run.feed(
            make_signal(at=T0 + 5 * H, change=SignalChange.CLEARED, title="订单 SO1 已签收")
        )
        assert Transition.CLOSED not in run.transitions(records)
        assert run.alert().status is AlertStatus.OPEN and run.alert().title.endswith("已签收")

    def test_a_tier_3_complaint_keeps_the_richer_delay_coupon(self) -> None:
        from streams.records import Compensation

        coupon = Compensation(
            rung="emotional",
            label="情感补偿",
            actions=("50元优惠券", "专属客服"),
            amount_yuan=50,
            needs_approval=False,
            rule_id="delay-over-48h",
        )
        run = Run()
        run.feed(make_signal(compensation=coupon))
        run.feed(make_assessed(at=T0 + H, order_id="SO1", emotion=Emotion.DISAPPOINTMENT))
        alert = run.alert()
        assert alert.tier == 3 and alert.compensation == coupon  # the ladder's tier 3 is 20 元


class TestChurnAndComplaintsInEitherOrder:
    def _churn(self, at: object) -> object:
        return make_signal(at=at, kind=AlertKind.CHURN, subject="churn", rule_id="churn-silent")

    def test_silence_then_a_complaint_raises_the_churn_alert_like_the_other_order(self) -> None:
        """冷漠型: silent for 8 days, then complains; the churn alert goes to tier 2."""
        run = Run()
        run.feed(self._churn(T0))  # type: ignore[arg-type]
        churn = run.alert().alert_id
        run.feed(make_assessed(at=T0 + DAY, emotion=Emotion.APATHY, masked_text="算了，不想说了"))
        raised = [r for r in run.records if r.transition is Transition.TIER_RAISED]
        assert [(r.alert_id, r.alert.tier, r.rule_id) for r in raised] == [
            (churn, 2, "churn-after-complaint")
        ]

    def test_a_complaint_outside_the_grouping_window_raises_the_churn_alert_too(self) -> None:
        run = Run()
        run.feed(self._churn(T0))  # type: ignore[arg-type]
        churn = run.alert().alert_id
        run.feed(make_assessed(at=T0 + 5 * DAY, emotion=Emotion.APATHY))
        assert run.state is not None
        by_id = {a.alert_id: a for a in run.state.alerts}
        assert len(by_id) == 2 and by_id[churn].tier == 2

    def test_a_churn_signal_judged_after_a_later_complaint_is_raised(self) -> None:
        """The timer may judge the silence after the customer already complained."""
        run = Run()
        run.feed(make_assessed(at=T0 + DAY, emotion=Emotion.APATHY))
        run.feed(make_action(run.alert(), ActionKind.CLOSE, T0 + DAY + H))
        run.feed(self._churn(T0))  # type: ignore[arg-type]
        alert = run.alert()
        assert (alert.tier, alert.rule_id) == (2, "churn-after-complaint")

    def test_both_orders_end_at_the_same_tier(self) -> None:
        complaint_first, silence_first = Run(), Run()
        complaint_first.feed(make_assessed(at=T0, emotion=Emotion.APATHY))
        complaint_first.feed(self._churn(T0 + DAY))  # type: ignore[arg-type]
        silence_first.feed(self._churn(T0))  # type: ignore[arg-type]
        silence_first.feed(make_assessed(at=T0 + DAY, emotion=Emotion.APATHY))

        def churn_tier(run: Run) -> int:
            assert run.state is not None
            (churn,) = [a for a in run.state.alerts if AlertKind.CHURN in (a.kind, a.tracks)]
            return churn.tier

        assert churn_tier(complaint_first) == churn_tier(silence_first) == 2

    def test_the_churn_raise_applies_once_per_episode(self) -> None:
        run = Run()
        run.feed(self._churn(T0))  # type: ignore[arg-type]
        run.feed(make_assessed(at=T0 + 5 * DAY, emotion=Emotion.APATHY, order_id="SO9"))
        run.feed(make_assessed(at=T0 + 6 * DAY, emotion=Emotion.APATHY, order_id="SO8"))
        by_churn = [r for r in run.records if r.rule_id == "churn-after-complaint"]
        assert len(by_churn) == 1

    def test_churn_tier_comes_from_the_rules(self) -> None:
        rules = _rules_with({"churn": {"tier": 2}})
        run = Run(rules)
        run.feed(self._churn(T0))  # type: ignore[arg-type]
        run.feed(make_assessed(at=T0 + DAY, emotion=Emotion.APATHY))
        assert run.state is not None
        assert {a.tier for a in run.state.alerts if a.tracks is AlertKind.CHURN} == {1}


def test_a_case_with_a_parent_survives_its_storage_format() -> None:
    run = Run()
    run.feed(_surge(_group("customer:a", "customer:b")))  # type: ignore[arg-type]
    assert run.state is not None
    stored = run.state.model_dump_json()
    assert CaseState.model_validate_json(stored) == run.state
    later = decide(run.state, _notice(ParentOutcome.HAND_BACK, "x"), T0, RULES)
    assert later.suppressed is Suppressed.NOT_APPLICABLE
