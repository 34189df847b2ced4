"""The response engine, driven input by input with an injected clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.engine import Decision, Input, Suppressed, decide
from complaints.incidents import CaseState
from complaints.rules import DEFAULT_RULES, RuleBook, load_rules
from streams.records import (
    ActionKind,
    Alert,
    AlertEvent,
    AlertKind,
    AlertStatus,
    Category,
    ClockKind,
    Emotion,
    SignalChange,
    Source,
    Transition,
)
from tests.factories import T0, make_action, make_assessed, make_signal, make_tick
from tests.properties import PROPERTY_EXAMPLES

RULES = load_rules()
H = timedelta(hours=1)
CASE = "customer:c1"


def _at(item: Input) -> datetime:
    return getattr(item, "occurred_at", None) or item.at  # type: ignore[union-attr]


class Run:
    """Feeds inputs through decide(), keeping the state and every record, like the agent does."""

    def __init__(self, rules: RuleBook = RULES) -> None:
        self.rules = rules
        self.state: CaseState | None = None
        self.records: list[AlertEvent] = []
        self.last: Decision | None = None

    def feed(self, *items: Input) -> list[AlertEvent]:
        new: list[AlertEvent] = []
        for item in items:
            self.last = decide(self.state, item, _at(item), self.rules)
            decided = self.last.state
            # through the table's storage format between inputs, as the agent keeps it
            self.state = CaseState.model_validate_json(decided.stored()) if decided else None
            assert self.state == decided, "the stored case reads back as the same state"
            new += self.last.outputs
        self.records += new
        return new

    def alert(self) -> Alert:
        return self.records[-1].alert

    def transitions(self, records: Iterable[AlertEvent] | None = None) -> list[Transition]:
        return [r.transition for r in (self.records if records is None else records)]


def _rules_with(change: dict[str, Any]) -> RuleBook:
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))

    def merge(into: dict[str, Any], update: dict[str, Any]) -> None:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(data, change)
    return RuleBook.model_validate(data)


class TestOpening:
    def test_an_angry_call_opens_a_tier_1_alert_with_its_reason(self) -> None:
        run = Run()
        records = run.feed(make_assessed(emotion=Emotion.ANGER, category=Category.SERVICE_ATTITUDE))
        assert run.transitions(records) == [Transition.OPENED]
        alert = run.alert()
        assert (alert.tier, alert.rule_id, alert.status) == (1, "anger", AlertStatus.OPEN)
        assert alert.rules_version == RULES.version
        assert [c.kind for c in alert.clocks] == [ClockKind.FIRST_ACTION]
        assert alert.clocks[0].due_at == T0 + 2 * H
        assert alert.compensation is not None and alert.compensation.rung == "emotional"
        assert records[0].record_id == f"{alert.alert_id}:1"

    def test_a_praising_contact_opens_nothing(self) -> None:
        run = Run()
        assert (
            run.feed(make_assessed(emotion=Emotion.POSITIVE, negative=False, negativity=0.1)) == []
        )
        assert run.last is not None and run.last.suppressed is Suppressed.NO_RULE
        assert run.state is None

    def test_the_same_input_twice_is_one_alert(self) -> None:
        contact = make_assessed(emotion=Emotion.ANGER)
        run = Run()
        first = run.feed(contact)
        assert run.feed(contact) == []
        assert run.last is not None and run.last.suppressed is Suppressed.DUPLICATE_INPUT
        assert len(first) == 1

    def test_alert_ids_are_derived_from_the_cause(self) -> None:
        """Two workers (or a retry after a crash) deciding the same input produce the same alert."""
        contact = make_assessed(emotion=Emotion.ANGER)
        assert Run().feed(contact) == Run().feed(contact)


class TestGrouping:
    def test_a_call_and_a_post_about_one_matter_are_one_incident(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.DISAPPOINTMENT, order_id="SO1"))
        records = run.feed(make_assessed(at=T0 + H, order_id="SO1", source=Source.SOCIAL))
        assert Transition.CONTACT_ADDED in run.transitions(records)
        assert run.state is not None and len(run.state.alerts) == 1
        assert run.alert().contacts == 2
        assert {s.value for s in run.alert().sources} == {"call", "social"}

    def test_another_order_is_another_incident(self) -> None:
        run = Run()
        run.feed(make_assessed(order_id="SO1"))
        records = run.feed(make_assessed(at=T0 + H, order_id="SO2"))
        assert run.transitions(records)[0] is Transition.OPENED
        assert run.state is not None and len(run.state.alerts) == 2

    def test_a_contact_after_the_group_window_opens_a_new_incident(self) -> None:
        run = Run()
        run.feed(make_assessed())
        records = run.feed(make_assessed(at=T0 + 80 * H))
        assert run.transitions(records)[0] is Transition.OPENED


class TestRepeatComplaints:
    def test_a_repeat_complaint_inside_the_window_raises_the_incident_one_tier(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.DISAPPOINTMENT))  # tier 3
        records = run.feed(make_assessed(at=T0 + 2 * H, emotion=Emotion.DISAPPOINTMENT))
        assert run.transitions(records) == [Transition.CONTACT_ADDED, Transition.TIER_RAISED]
        assert (run.alert().tier, run.alert().rule_id) == (2, "repeat-complainant")
        assert [c.kind for c in run.alert().clocks] == [ClockKind.RESOLVE]
        run.feed(make_assessed(at=T0 + 3 * H, emotion=Emotion.DISAPPOINTMENT))
        assert run.alert().tier == 1
        assert ClockKind.FIRST_ACTION in [c.kind for c in run.alert().clocks]

    def test_a_new_incident_of_a_repeat_complainant_starts_one_tier_up(self) -> None:
        run = Run()
        run.feed(make_assessed(order_id="SO1"))
        records = run.feed(make_assessed(at=T0 + 24 * H, order_id="SO2", emotion=Emotion.APATHY))
        assert records[0].transition is Transition.OPENED
        assert (records[0].alert.tier, records[0].alert.rule_id) == (2, "repeat-complainant")
        assert "repeat_complainant" in [c.kind for c in records[0].alert.why]

    def test_outside_the_repeat_window_nothing_is_raised(self) -> None:
        run = Run()
        run.feed(make_assessed(order_id="SO1"))
        records = run.feed(make_assessed(at=T0 + 8 * 24 * H, order_id="SO2"))
        assert records[0].alert.tier == 3


class TestClocks:
    def _tier1(self) -> tuple[Run, Alert]:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.ANGER))
        return run, run.alert()

    def test_warning_breach_and_escalation_fire_once_each_on_ticks(self) -> None:
        run, _ = self._tier1()
        assert run.feed(make_tick(CASE, T0 + 80 * 60 * timedelta(seconds=1))) == []
        assert run.transitions(run.feed(make_tick(CASE, T0 + 90 * timedelta(minutes=1)))) == [
            Transition.WARNED
        ]
        assert run.feed(make_tick(CASE, T0 + 100 * timedelta(minutes=1))) == []
        records = run.feed(make_tick(CASE, T0 + 2 * H))
        assert run.transitions(records) == [Transition.BREACHED, Transition.ESCALATED]
        assert records[-1].alert.escalated_to == "班组长"
        records = run.feed(make_tick(CASE, T0 + 3 * H))
        assert run.transitions(records) == [Transition.ESCALATED]
        assert records[-1].alert.escalated_to == "客服主管"

    def test_acknowledge_stops_the_tier_1_clock(self) -> None:
        run, alert = self._tier1()
        records = run.feed(make_action(alert, ActionKind.ACKNOWLEDGE, T0 + H))
        assert run.transitions(records) == [Transition.ACKNOWLEDGED]
        assert run.alert().clocks[0].met is True
        assert run.feed(make_tick(CASE, T0 + 10 * H)) == []
        assert run.state is not None and run.state.next_due_at is None

    def test_a_deadline_missed_while_down_fires_once(self) -> None:
        run, _ = self._tier1()
        first = run.feed(make_tick(CASE, T0 + 5 * H))
        assert run.transitions(first) == [Transition.BREACHED, Transition.ESCALATED]
        assert run.feed(make_tick(CASE, T0 + 5 * H)) == []
        assert run.feed(make_tick(CASE, T0 + 5 * H + timedelta(minutes=1))) == []

    def test_next_due_tells_the_timer_when_to_look(self) -> None:
        run, _ = self._tier1()
        assert run.state is not None and run.state.next_due_at == T0 + 90 * timedelta(minutes=1)

    def test_waiting_on_the_customer_pauses_under_business_hours(self) -> None:
        """A tier-2 24 h clock on business hours: paused while waiting, resumed by the customer."""
        rules = _rules_with({"tiers": {2: {"clocks": {"resolve": {"calendar": "business"}}}}})
        run = Run(rules)
        run.feed(
            make_assessed(category=Category.PRODUCT_QUALITY, emotion=Emotion.NEUTRAL)
        )  # Mon 10:00 BJ
        alert = run.alert()
        # 24 h of service time at 9 h a day: Mon 10-18 (8) + Tue (9) + Wed 9-16 (7) -> Wed 16:00 BJ
        assert alert.clocks[0].due_at == datetime.fromisoformat("2026-11-25T16:00:00+08:00")
        run.feed(make_action(alert, ActionKind.WAIT_ON_CUSTOMER, T0 + 2 * H))  # Mon 12:00
        assert run.alert().status is AlertStatus.WAITING
        assert run.feed(make_tick(CASE, T0 + 100 * H)) == []  # nothing counts while waiting
        records = run.feed(
            make_assessed(at=T0 + 24 * H, category=Category.PRODUCT_QUALITY)
        )  # Tue 10:00
        assert Transition.RESUMED in run.transitions(records)
        # 2 h were used before the pause; 22 h remain from Tue 10:00: Tue 8 + Wed 9 + Thu 9-14 (5)
        assert run.alert().clocks[0].due_at == datetime.fromisoformat("2026-11-26T14:00:00+08:00")


class TestResolveAndFollowUp:
    def _resolved(self) -> Run:
        run = Run()
        run.feed(make_assessed(category=Category.AFTER_SALES, emotion=Emotion.NEUTRAL))
        run.feed(make_action(run.alert(), ActionKind.RESOLVE, T0 + 5 * H))
        return run

    def test_resolve_schedules_a_follow_up_a_week_later(self) -> None:
        run = self._resolved()
        assert run.alert().status is AlertStatus.RESOLVED
        assert run.alert().clocks[0].met is True
        follow_up = run.alert().follow_up
        assert follow_up is not None and follow_up.due_at == T0 + 5 * H + 7 * 24 * H
        assert run.feed(make_tick(CASE, T0 + 6 * 24 * H)) == []
        records = run.feed(make_tick(CASE, T0 + 8 * 24 * H))
        assert run.transitions(records) == [Transition.FOLLOW_UP_DUE]

    def test_an_unsatisfied_customer_reopens_the_incident(self) -> None:
        run = self._resolved()
        records = run.feed(
            make_action(
                run.alert(), ActionKind.FOLLOW_UP, T0 + 8 * 24 * H, satisfied=False, score=2
            )
        )
        assert run.transitions(records) == [Transition.FOLLOW_UP_RECORDED, Transition.REOPENED]
        assert run.alert().status is AlertStatus.OPEN
        assert run.alert().clocks[0].due_at == T0 + 8 * 24 * H + 24 * H

    def test_a_satisfied_customer_closes_it_and_the_case_is_forgotten_later(self) -> None:
        run = self._resolved()
        records = run.feed(
            make_action(run.alert(), ActionKind.FOLLOW_UP, T0 + 8 * 24 * H, satisfied=True, score=5)
        )
        assert run.transitions(records) == [Transition.FOLLOW_UP_RECORDED, Transition.CLOSED]
        assert run.state is not None and run.state.alerts == ()

    def test_tier_3_needs_no_follow_up(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.APATHY))
        records = run.feed(make_action(run.alert(), ActionKind.RESOLVE, T0 + H))
        assert run.transitions(records) == [Transition.RESOLVED, Transition.CLOSED]


class TestActions:
    def test_a_retried_action_does_nothing_twice(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.ANGER))
        comment = make_action(
            run.alert(), ActionKind.COMMENT, T0 + H, comment="已致电客户 13812345678"
        )
        assert run.transitions(run.feed(comment)) == [Transition.COMMENTED]
        assert "13812345678" not in run.records[-1].detail
        assert run.feed(comment) == []
        assert run.last is not None and run.last.suppressed is Suppressed.DUPLICATE_INPUT

    def test_an_action_on_an_unknown_alert_is_counted_not_applied(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.ANGER))
        stranger = run.alert().model_copy(update={"alert_id": "al-nope"})
        assert run.feed(make_action(stranger, ActionKind.ACKNOWLEDGE, T0 + H)) == []
        assert run.last is not None and run.last.suppressed is Suppressed.UNKNOWN_ALERT

    def test_assign_and_second_acknowledge(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.ANGER))
        alert = run.alert()
        run.feed(make_action(alert, ActionKind.ASSIGN, T0 + H, assignee="李工"))
        assert run.alert().assignee == "李工"
        run.feed(make_action(alert, ActionKind.ACKNOWLEDGE, T0 + H))
        assert run.feed(make_action(alert, ActionKind.ACKNOWLEDGE, T0 + 2 * H)) == []
        assert run.last is not None and run.last.suppressed is Suppressed.NOT_APPLICABLE


class TestCompensation:
    def test_a_third_contact_recommends_the_relationship_rung_above_front_line_authority(
        self,
    ) -> None:
        run = Run()
        for hour in range(3):
            run.feed(make_assessed(at=T0 + hour * H, emotion=Emotion.ANGER))
        compensation = run.alert().compensation
        assert compensation is not None
        assert (compensation.rung, compensation.amount_yuan, compensation.needs_approval) == (
            "relationship",
            800,
            True,
        )

    def test_tier_2_gets_the_basic_rung_within_authority(self) -> None:
        run = Run()
        run.feed(make_assessed(category=Category.PRODUCT_QUALITY, emotion=Emotion.NEUTRAL))
        compensation = run.alert().compensation
        assert compensation is not None and (compensation.rung, compensation.needs_approval) == (
            "basic",
            False,
        )


# -- properties -------------------------------------------------------------------------------

_contact_kinds = st.sampled_from(
    [
        {"emotion": Emotion.ANGER},
        {"emotion": Emotion.DISAPPOINTMENT},
        {"emotion": Emotion.APATHY},
        {"category": Category.PRODUCT_QUALITY, "emotion": Emotion.NEUTRAL},
        {"emotion": Emotion.POSITIVE, "negative": False, "negativity": 0.1},
        {"threats": ("曝光",)},
    ]
)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4),
            _contact_kinds,
            st.integers(min_value=0, max_value=200),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_no_input_ever_yields_two_alerts_and_versions_only_grow(
    steps: list[tuple[int, dict[str, Any], int]],
) -> None:
    """H3: whatever arrives — contacts (some repeated), ticks, acks — each input opens at most one
    alert, no alert is opened twice, and each alert's versions are 1, 2, 3, … without gaps."""
    run = Run()
    contacts = []
    for choice, fields, minutes in sorted(steps, key=lambda s: s[2]):
        at = T0 + timedelta(minutes=minutes * 5)
        if choice <= 1 or not run.records:
            contact = make_assessed(at=at, **fields)
            contacts.append(contact)
            items: list[Input] = [contact]
            if choice == 1:
                items.append(contact)  # a redelivery
        elif choice == 2:
            items = [make_tick(CASE, at)]
        elif choice == 3:
            items = [contacts[minutes % len(contacts)]]  # an old input replayed
        else:
            items = [make_action(run.alert(), ActionKind.ACKNOWLEDGE, at)]
        for item in items:
            run.feed(item)
    opened = [r.alert_id for r in run.records if r.transition is Transition.OPENED]
    assert len(opened) == len(set(opened))
    assert len(opened) <= len(contacts)
    by_alert: dict[str, list[int]] = {}
    for record in run.records:
        by_alert.setdefault(record.alert_id, []).append(record.version)
    for versions in by_alert.values():
        assert versions == list(range(1, len(versions) + 1))
    tier1_opened = [
        r for r in run.records if r.transition is Transition.OPENED and r.alert.tier == 1
    ]
    assert len({r.alert.event_ids[0] for r in tier1_opened}) == len(tier1_opened)


def test_case_state_survives_its_storage_format() -> None:
    """The respond agent stores the state as JSON text between inputs; reading it back must give
    the same state (strict records accept JSON spellings only in JSON mode)."""
    run = Run()
    run.feed(make_assessed(emotion=Emotion.ANGER, order_id="SO1"))
    run.feed(make_tick(CASE, T0 + 95 * timedelta(minutes=1)))
    run.feed(
        make_assessed(
            at=T0 + 2 * H, category=Category.AFTER_SALES, emotion=Emotion.NEUTRAL, order_id="SO2"
        )
    )
    run.feed(make_action(run.alert(), ActionKind.RESOLVE, T0 + 3 * H))
    assert run.state is not None
    stored = run.state.stored()
    assert CaseState.model_validate_json(stored) == run.state
    assert len(stored) < 0.85 * len(run.state.model_dump_json()), "defaults are left out"
    assert CaseState.model_validate_json(run.state.model_dump_json()) == run.state, "old entries"
    again = decide(
        CaseState.model_validate_json(stored), make_tick(CASE, T0 + 10 * H), T0 + 10 * H, RULES
    )
    assert again == decide(run.state, make_tick(CASE, T0 + 10 * H), T0 + 10 * H, RULES)


class TestSignals:
    """Conditions the stream detects (delays, churn, surges) live in the same lifecycle."""

    def test_a_raised_signal_opens_an_alert_of_its_kind_without_contacts(self) -> None:
        run = Run()
        records = run.feed(make_signal())
        assert run.transitions(records) == [Transition.OPENED]
        alert = run.alert()
        assert (alert.kind, alert.subject, alert.tier, alert.contacts) == (
            AlertKind.LOGISTICS_DELAY,
            "SO1",
            3,
            0,
        )
        assert alert.delay is not None and alert.delay.bucket == "24_48h"
        assert alert.clocks == ()  # tier 3: proactive, no deadline

    def test_a_tier_1_signal_starts_the_first_action_clock(self) -> None:
        run = Run()
        run.feed(make_signal(tier=1, rule_id="delay-lost"))
        assert [c.kind for c in run.alert().clocks] == [ClockKind.FIRST_ACTION]

    def test_a_new_estimate_updates_the_alert_instead_of_opening_another(self) -> None:
        run = Run()
        run.feed(make_signal())
        first = run.alert().alert_id
        later = make_signal(at=T0 + H, title="订单 SO1 预计延误 50 小时", rule_id="delay-over-48h")
        records = run.feed(later)
        assert run.transitions(records) == [Transition.UPDATED]
        assert run.alert().alert_id == first and run.alert().title == "订单 SO1 预计延误 50 小时"

    def test_the_same_signal_twice_changes_nothing(self) -> None:
        run = Run()
        signal = make_signal()
        run.feed(signal)
        assert run.feed(signal) == []
        assert run.last is not None and run.last.suppressed is Suppressed.DUPLICATE_INPUT

    def test_older_news_does_not_overwrite_newer(self) -> None:
        run = Run()
        run.feed(make_signal(at=T0 + H, title="新"))
        assert run.feed(make_signal(at=T0, title="旧")) == []
        assert run.alert().title == "新"

    def test_a_higher_tier_signal_raises_the_tier_and_starts_its_clock(self) -> None:
        run = Run()
        run.feed(make_signal())
        records = run.feed(make_signal(at=T0 + H, tier=1, rule_id="delay-exception"))
        assert Transition.TIER_RAISED in run.transitions(records)
        assert run.alert().tier == 1 and run.alert().clocks

    def test_cleared_closes_it_and_a_late_clear_for_another_subject_does_nothing(self) -> None:
        run = Run()
        run.feed(make_signal())
        assert run.feed(make_signal(subject="SO2", change=SignalChange.CLEARED)) == []
        records = run.feed(make_signal(at=T0 + H, change=SignalChange.CLEARED, title="已签收"))
        assert run.transitions(records) == [Transition.CLOSED]
        assert run.alert().status is AlertStatus.CLOSED
        assert run.state is None  # nothing left to remember for this customer

    def test_a_complaint_about_the_order_joins_the_proactive_alert(self) -> None:
        """The proactive alert becomes the customer's complaint and still follows its order."""
        run = Run()
        run.feed(make_signal())
        proactive = run.alert().alert_id
        records = run.feed(make_assessed(at=T0 + H, order_id="SO1"))
        assert records[0].alert_id == proactive
        assert records[0].transition is Transition.CONTACT_ADDED
        alert = run.alert()
        assert (alert.kind, alert.tracks, alert.contacts) == (
            AlertKind.COMPLAINT,
            AlertKind.LOGISTICS_DELAY,
            1,
        )
        assert alert.title == "客户投诉 · 订单 SO1 预计延误 30 小时"

    def test_the_signal_keeps_its_own_compensation(self) -> None:
        run = Run()
        run.feed(make_signal())
        assert (
            run.alert().compensation is None
        )  # the producer decides; the ladder is for complaints

    def test_churn_after_a_recent_complaint_is_raised_one_tier(self) -> None:
        run = Run()
        run.feed(make_assessed(emotion=Emotion.DISAPPOINTMENT))
        closing = make_action(run.alert(), ActionKind.CLOSE, T0 + H)
        run.feed(closing)
        run.feed(
            make_signal(
                at=T0 + 2 * H, kind=AlertKind.CHURN, subject="churn", rule_id="churn-silent"
            )
        )
        alert = run.alert()
        assert alert.kind is AlertKind.CHURN
        assert alert.tier == 2 and alert.rule_id == "churn-after-complaint"

    def test_churn_without_a_complaint_stays_tier_3(self) -> None:
        run = Run()
        run.feed(make_signal(kind=AlertKind.CHURN, subject="churn", rule_id="churn-silent"))
        assert run.alert().tier == 3
