"""Emerging issues: same-issue texts of many customers become one parent, like a surge.

Voices are built by hand, time is an argument (T0), and the grouping stage's book is folded
exactly as the shell folds it (complaints.group_stage.advance)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pytest

from bench.grouping_traffic import ISSUES
from complaints.emerging_incidents import VOICE_CHARS, voice_for
from complaints.emerging_state import GROUP_PREFIX, META_ENTRY, REMEMBERED_VOICES
from complaints.group_stage import GroupInput, advance
from complaints.grouping import GroupBook, Grouped, GroupStep
from complaints.rules import RuleBook, load_rules
from streams.records import (
    AlertKind,
    Category,
    IssueVoice,
    Signal,
    SignalChange,
    Source,
    SurgeChange,
    Tick,
)
from tests.factories import T0, make_assessed, make_assessment
from tests.unit.complaints.test_engine import _rules_with
from tests.unit.complaints.test_surge_incidents import report

RULES = load_rules()
M = timedelta(minutes=1)
#: One issue said ten ways (no product, batch or region field links them).
EARBUD = ISSUES["earbud-left-silent"]
#: Complaints about other things, each said once.
BACKGROUND = [
    "快递三天了还没到，太慢了",
    "客服态度太差了，问什么都说不知道",
    "流量套餐每个月多扣我三十块",
    "空调开了一下午都不制冷",
    "奶粉冲开全是结块",
    "APP一登录就闪退",
    "外卖送来汤全洒了",
    "退款申请了一周还没处理",
]


def voice(
    number: int,
    text: str,
    *,
    at: datetime = T0,
    who: str | None = None,
    event: str | None = None,
) -> IssueVoice:
    case = who or f"customer:v{number}"
    event_id = event or f"ev-v{number}"
    return IssueVoice(
        voice_id=f"social:{event_id}",
        case_key=case,
        customer=case,
        event_id=event_id,
        occurred_at=at,
        source=Source.SOCIAL,
        category=Category.PRODUCT_QUALITY,
        intensity=40,
        masked_text=text,
    )


def earbud_voices(count: int = 10, start: datetime = T0) -> list[IssueVoice]:
    return [voice(i, EARBUD[i % len(EARBUD)], at=start + i * M) for i in range(count)]


def background_voices(start: datetime = T0) -> list[IssueVoice]:
    return [
        voice(100 + i, text, at=start + i * M, who=f"customer:bg{i}")
        for i, text in enumerate(BACKGROUND)
    ]


class Stage:
    """The grouping stage's book folded input by input, and its table as the shell keeps it."""

    def __init__(self, rules: RuleBook = RULES, book: GroupBook | None = None) -> None:
        self.rules = rules
        self.book = book
        self.steps: list[GroupStep] = []
        self.table: dict[str, str] = {}

    def __call__(self, items: Iterable[GroupInput]) -> list[Signal]:
        new: list[Signal] = []
        for item in items:
            before = self.book.entries() if self.book is not None else {}
            step = advance(self.book, item, self.rules)
            after = step.book.entries()
            for name in before.keys() - after.keys():
                self.table.pop(name, None)
            self.table.update(after)
            for name, text in step.writes:
                if text is None:
                    self.table.pop(name, None)
                else:
                    self.table[name] = text
            self.book = step.book
            self.steps.append(step)
            new += step.signals
        return new

    @property
    def signals(self) -> list[Signal]:
        return [s for step in self.steps for s in step.signals]

    def reloaded(self) -> Stage:
        """A stage whose book is read back from the table (a restarted worker)."""
        table = dict(self.table)
        book = GroupBook.from_entries(
            table.get, lambda prefix: [(k, v) for k, v in table.items() if k.startswith(prefix)]
        )
        stage = Stage(self.rules, book)
        stage.table = table
        return stage

    def issues(self) -> list[Any]:
        return [i for i in (self.book.incidents if self.book else ()) if i.kind == "issue"]


def _parents(signals: list[Signal]) -> set[str]:
    return {s.subject for s in signals if s.group is not None}


class TestOneIssueOneParent:
    def test_ten_wordings_from_ten_customers_are_one_parent_listing_them(self) -> None:
        """Differently worded texts of one issue from ten customers: one parent, ten members."""
        stage = Stage()
        stage(earbud_voices(10))
        assert len(_parents(stage.signals)) == 1
        opened = stage.signals[0]
        assert opened.kind is AlertKind.SURGE and opened.rule_id == "emerging-issue"
        assert opened.subject.startswith("issue:") and opened.case_key == opened.subject
        assert opened.group is not None and opened.group.member_count == 5
        last = stage.signals[-1]
        assert last.group is not None
        assert last.group.member_count == 10
        assert set(last.group.member_case_keys) == {f"customer:v{i}" for i in range(10)}
        assert set(last.group.member_event_ids) == {f"ev-v{i}" for i in range(10)}
        assert last.group.examples and all(e in EARBUD for e in last.group.examples)
        assert last.title.startswith("新问题：") and last.title.endswith("10 位客户")
        assert {"耳机", "左侧", "无声"} <= set(last.title.split("：")[1].split(" · ")[0].split())

    def test_it_opens_at_the_fifth_customer(self) -> None:
        stage = Stage()
        for number, item in enumerate(earbud_voices(5)):
            signals = stage([item])
            assert bool(signals) == (number == 4), number
        assert stage.steps[-1].reason is Grouped.OPENED

    def test_background_complaints_are_not_absorbed(self) -> None:
        """Other complaints in between join no parent and open none."""
        stage = Stage()
        mixed: list[IssueVoice] = []
        for item, other in zip(earbud_voices(8), background_voices(), strict=True):
            mixed += [item, other]
        stage(mixed)
        assert len(_parents(stage.signals)) == 1
        last = stage.signals[-1]
        assert last.group is not None
        assert not [c for c in last.group.member_case_keys if c.startswith("customer:bg")]

    def test_one_customer_saying_it_ten_times_is_no_issue(self) -> None:
        stage = Stage()
        stage(voice(i, text, at=T0 + i * M, who="customer:same") for i, text in enumerate(EARBUD))
        assert stage.signals == []

    def test_customers_further_apart_than_the_window_do_not_open_it(self) -> None:
        gap = RULES.emerging.window / (RULES.emerging.open_customers - 1) + M
        stage = Stage()
        stage(voice(i, EARBUD[i], at=T0 + i * gap) for i in range(6))
        assert stage.signals == []


class TestRepostStorm:
    def test_a_hundred_near_identical_posts_are_one_parent(self) -> None:
        """A storm of reposts by a hundred accounts is one item: one parent, not a hundred."""
        base = "#某某耳机质量# 刚买的耳机左边没声音，售后说人为损坏不保修，大家千万别买！"
        edits = [base, f"转发微博 {base}", f"//@用户123:{base}", f"{base}[怒]", f"顶 {base}"]
        stage = Stage()
        stage(
            voice(i, edits[i % len(edits)], at=T0 + i * timedelta(seconds=10)) for i in range(100)
        )
        assert len(_parents(stage.signals)) == 1
        assert len(stage.issues()) == 1
        assert stage.issues()[0].member_count == 100
        assert len(stage.book.issues.groups.groups) == 1  # type: ignore[union-attr]
        assert all(s.change is SignalChange.RAISED for s in stage.signals)


class TestReplay:
    def test_the_same_stream_yields_the_same_ids(self) -> None:
        stream = [*earbud_voices(10), *background_voices(T0 + 3 * M)]
        stream.sort(key=lambda v: v.occurred_at)
        first, second = Stage(), Stage()
        first(stream)
        second(stream)
        assert [s.signal_id for s in first.signals] == [s.signal_id for s in second.signals]
        assert [s.subject for s in first.signals] == [s.subject for s in second.signals]
        assert first.table == second.table

    def test_a_replayed_voice_is_dropped(self) -> None:
        stage = Stage()
        items = earbud_voices(6)
        stage(items)
        before = len(stage.signals)
        step = advance(stage.book, items[-1], RULES)
        assert step.reason is Grouped.DUPLICATE and step.signals == () and step.writes == ()
        assert len(stage.signals) == before

    def test_a_book_read_back_from_its_entries_goes_on_alike(self) -> None:
        """A restarted worker reads the book from the table and decides as the one that ran."""
        stream = [*earbud_voices(10), *background_voices(T0 + 10 * M)]
        running = Stage()
        running(stream[:7])
        restarted = running.reloaded()
        assert set(restarted.book.issues.groups.groups) == set(running.book.issues.groups.groups)  # type: ignore[union-attr]
        running(stream[7:])
        restarted(stream[7:])
        assert [s.signal_id for s in restarted.signals] == [
            s.signal_id for s in running.signals[-len(restarted.signals) :]
        ]
        assert restarted.signals  # it went on: the issue grew
        assert restarted.table == running.table


class TestBounded:
    def test_only_changed_entries_are_written(self) -> None:
        stage = Stage()
        stage(background_voices())
        step = stage.steps[-1]
        names = {name for name, _ in step.writes}
        groups = [n for n in names if n.startswith(GROUP_PREFIX)]
        assert META_ENTRY in names and len(groups) == 1 and len(names) == 2
        assert len([n for n in stage.table if n.startswith(GROUP_PREFIX)]) == len(BACKGROUND)

    def test_a_forgotten_group_is_deleted_from_the_table(self) -> None:
        stage = Stage()
        stage(background_voices())
        groups = set(stage.book.issues.groups.groups)  # type: ignore[union-attr]
        later = T0 + timedelta(days=10)
        stage([voice(999, "耳机左边没声音", at=later)])
        writes = dict(stage.steps[-1].writes)
        assert {f"{GROUP_PREFIX}{g}" for g in groups} <= {n for n, t in writes.items() if t is None}
        assert not [
            n
            for n in stage.table
            if n.startswith(GROUP_PREFIX) and n[len(GROUP_PREFIX) :] in groups
        ]
        assert len(stage.book.issues.groups.groups) == 1  # type: ignore[union-attr]

    def test_a_group_keeps_at_most_member_tail_contacts(self) -> None:
        """While an open surge holds its cases the issue does not open, and its tail stays bounded."""
        cases = [f"customer:b{i}" for i in range(40)]
        stage = Stage()
        stage([report("batch:B1", cases, at=T0)])
        stage(voice(i, EARBUD[i % 10], at=T0 + i * M, who=case) for i, case in enumerate(cases))
        tails = stage.book.issues.tails  # type: ignore[union-attr]
        assert tails and max(len(t) for t in tails.values()) == RULES.emerging.member_tail

    def test_voices_remembered_are_bounded(self) -> None:
        stage = Stage()
        stage(
            voice(i, BACKGROUND[i % 8] + str(i), at=T0 + i * timedelta(seconds=1))
            for i in range(REMEMBERED_VOICES + 50)
        )
        assert len(stage.book.issues.recent) == REMEMBERED_VOICES  # type: ignore[union-attr]


class TestQuiet:
    def test_an_issue_no_new_customer_joined_closes_and_hands_back(self) -> None:
        stage = Stage()
        stage(earbud_voices(6))
        quiet = T0 + 5 * M + RULES.emerging.quiet_after
        closed = stage([voice(50, BACKGROUND[0], at=quiet, who="customer:late")])
        assert [s.change for s in closed] == [SignalChange.CLEARED]
        assert closed[0].subject == stage.signals[0].subject
        assert closed[0].group is not None and closed[0].group.member_count == 6
        assert len(closed[0].group.member_case_keys) == 6  # the engine hands these back
        assert "已平息" in closed[0].title
        assert stage.issues() == []

    def test_a_voice_before_the_quiet_time_keeps_it_open(self) -> None:
        stage = Stage()
        stage(earbud_voices(6))
        early = T0 + 5 * M + RULES.emerging.quiet_after - M
        assert stage([voice(50, BACKGROUND[0], at=early, who="customer:late")]) == []
        assert len(stage.issues()) == 1

    def test_the_clock_closes_a_quiet_issue_when_no_voice_comes(self) -> None:
        """A stream that falls silent sends no voice: the stage's clock tick closes the issue
        (and a tick before the quiet time does not)."""
        stage = Stage()
        stage(earbud_voices(6))
        last = T0 + 5 * M
        early = Tick(case_key="groups", at=last + RULES.emerging.quiet_after - M)
        assert stage([early]) == [] and len(stage.issues()) == 1
        closed = stage([Tick(case_key="groups", at=last + RULES.emerging.quiet_after)])
        assert [s.change for s in closed] == [SignalChange.CLEARED]
        assert closed[0].subject == stage.signals[0].subject
        assert closed[0].group is not None and len(closed[0].group.member_case_keys) == 6
        assert stage.issues() == []

    def test_time_never_runs_backwards(self) -> None:
        """A late-arriving old voice is judged at the latest time seen (the window does not
        reopen behind the stage)."""
        stage = Stage()
        stage(earbud_voices(4, start=T0 + timedelta(hours=3)))
        stage([voice(9, EARBUD[9], at=T0)])  # 3 h older than the others
        assert stage.signals == []


class TestOneCauseOneParent:
    def test_an_issue_whose_cases_an_open_surge_holds_opens_no_second_parent(self) -> None:
        cases = [f"customer:b{i}" for i in range(10)]
        stage = Stage()
        surge = stage([report("batch:B2512-30", cases, at=T0)])
        assert len(surge) == 1
        stage(voice(i, EARBUD[i], at=T0 + i * M, who=case) for i, case in enumerate(cases))
        assert _parents(stage.signals) == {surge[0].subject}
        assert Grouped.COVERED in {s.reason for s in stage.steps}

    def test_what_an_open_surge_does_not_hold_opens_only_if_an_issue_by_itself(self) -> None:
        held = [f"customer:b{i}" for i in range(3)]
        stage = Stage()
        stage([report("batch:B2512-30", held, count=6, expected=0.2, at=T0)])
        others = [f"customer:o{i}" for i in range(5)]
        stage(
            voice(i, EARBUD[i], at=T0 + i * M, who=case) for i, case in enumerate([*held, *others])
        )
        issues = stage.issues()
        assert len(issues) == 1
        assert issues[0].cases == frozenset(others)
        self._no_case_in_two_parents(stage)

    def test_a_surge_key_of_an_open_issues_cases_joins_it_as_a_facet(self) -> None:
        """The issue opened first: the batch key of the same contacts is one more facet of it,
        not a second parent, and the issue keeps listing every member."""
        cases = [f"customer:b{i}" for i in range(8)]
        stage = Stage()
        stage(
            voice(i, EARBUD[i], at=T0 + i * M, who=case, event=f"ev-{case.split(':')[1]}")
            for i, case in enumerate(cases)
        )
        issue = stage.signals[-1].subject
        joined = stage([report("batch:B2512-30", cases, at=T0 + 9 * M)])
        assert _parents(stage.signals) == {issue}
        assert joined and joined[-1].subject == issue
        group = joined[-1].group
        assert group is not None and set(group.member_case_keys) == set(cases)
        assert any(f.dimension == "batch" for f in group.facets)
        assert "另见 批次 B2512-30" in joined[-1].title
        self._no_case_in_two_parents(stage)
        assert stage.steps[-1].reason is Grouped.FACET
        closed = stage([report("batch:B2512-30", cases, change=SurgeChange.CLOSED, at=T0 + 60 * M)])
        assert closed == [] and len(stage.issues()) == 1  # a facet's quiet does not end the issue

    def test_a_later_member_held_by_another_parent_is_not_listed_twice(self) -> None:
        stage = Stage()
        stage(earbud_voices(6))
        stage(
            [
                report(
                    "batch:B9",
                    ["customer:x1", "customer:x2", "customer:x3", "customer:x4", "customer:x5"],
                    at=T0 + 6 * M,
                )
            ]
        )
        stage([voice(77, EARBUD[3], at=T0 + 7 * M, who="customer:x1")])
        self._no_case_in_two_parents(stage)

    def test_a_surge_that_explains_an_open_issue_absorbs_it(self) -> None:
        """The issue opened first; the batch surge counts its customers and more: the issue's
        parent closes listing no members (nothing handed back) and the surge lists them all."""
        stage = Stage()
        stage(earbud_voices(8))
        issue = stage.signals[-1].subject
        more = [f"customer:n{i}" for i in range(15)]
        signals = stage(
            [
                report(
                    "batch:B2512-30", [*(f"customer:v{i}" for i in range(8)), *more], at=T0 + 9 * M
                )
            ]
        )
        merged = [s for s in signals if s.subject == issue]
        assert [s.change for s in merged] == [SignalChange.CLEARED]
        assert merged[0].group is not None and merged[0].group.member_case_keys == ()
        assert "已并入 批次 B2512-30" in merged[0].title
        surge = [s for s in signals if s.subject != issue]
        assert surge and surge[-1].group is not None and surge[-1].group.member_count == 23
        assert stage.issues() == []
        self._no_case_in_two_parents(stage)
        later = stage([voice(8, EARBUD[8], at=T0 + 10 * M, who="customer:n0")])
        assert later == [] and stage.issues() == []

    @staticmethod
    def _no_case_in_two_parents(stage: Stage) -> None:
        seen: dict[str, str] = {}
        for incident in stage.book.incidents:  # type: ignore[union-attr]
            for case in incident.cases:
                assert case not in seen, f"{case} in {seen.get(case)} and {incident.incident_id}"
                seen[case] = incident.incident_id


class TestVoice:
    def test_a_negative_text_contact_is_a_voice_with_its_masked_text(self) -> None:
        contact = make_assessed(
            customer="p-8f3a",
            masked_text="我的电话是138****5678，耳机左边没声音",
            category=Category.PRODUCT_QUALITY,
        )
        sent = voice_for(contact, RULES)
        assert sent is not None
        assert sent.masked_text == "我的电话是138****5678，耳机左边没声音"
        assert sent.customer == "p-8f3a" and sent.case_key == "customer:p-8f3a"
        assert sent.voice_id == contact.assessment_id and sent.event_id == contact.event_id
        assert sent.occurred_at == contact.occurred_at and sent.category is Category.PRODUCT_QUALITY

    @pytest.mark.parametrize(
        "contact",
        [
            make_assessed(negative=False, negativity=0.1),
            make_assessed(assessment=None),
            make_assessed(masked_text="  "),
        ],
        ids=["not negative", "no text", "blank"],
    )
    def test_other_contacts_are_no_voice(self, contact: Any) -> None:
        assert voice_for(contact, RULES) is None

    def test_it_carries_the_keys_that_name_a_cause(self) -> None:
        contact = make_assessed(product="星河X1", batch="B2512-30", region="华南-广州")
        sent = voice_for(contact, RULES)
        assert sent is not None and set(sent.keys) == {"product:星河X1", "batch:B2512-30"}
        no_batch_surges = _rules_with({"surge": {"dimensions": ["product", "region"]}})
        sent = voice_for(contact, no_batch_surges)  # no batch surge can claim it
        assert sent is not None and sent.keys == ("product:星河X1",)

    def test_a_long_text_is_cut(self) -> None:
        contact = make_assessed(assessment=make_assessment(masked_text="耳机没声音" * 200))
        sent = voice_for(contact, RULES)
        assert sent is not None and len(sent.masked_text) == VOICE_CHARS


def test_disabled_emerging_issues_ignore_voices() -> None:
    stage = Stage(_rules_with({"emerging": {"enabled": False}}))
    stage(earbud_voices(10))
    assert stage.signals == [] and {s.reason for s in stage.steps} == {Grouped.IGNORED}


def test_thresholds_come_from_the_rules() -> None:
    stage = Stage(_rules_with({"emerging": {"open_customers": 8, "rule_id": "new-issue"}}))
    stage(earbud_voices(10))
    assert stage.signals[0].group is not None and stage.signals[0].group.member_count == 8
    assert stage.signals[0].rule_id == "new-issue"


def keyed(number: int, at: datetime, key: str = "batch:B2512-30") -> IssueVoice:
    return voice(number, EARBUD[number % 10], at=at).model_copy(update={"keys": (key,)})


class TestKeyedIssues:
    """Customers who share a batch are the surge detector's to judge: one cause, one parent."""

    def test_a_keyed_issue_waits_for_a_surge(self) -> None:
        stage = Stage()
        stage(keyed(i, T0 + i * M) for i in range(10))
        assert stage.signals == []
        assert stage.steps[-1].reason is Grouped.KEYED

    def test_a_surge_claiming_its_customers_is_the_one_parent(self) -> None:
        stage = Stage()
        stage(keyed(i, T0 + i * M) for i in range(6))
        opened = stage(
            [report("batch:B2512-30", [f"customer:v{i}" for i in range(6)], at=T0 + 6 * M)]
        )
        stage(keyed(i, T0 + i * M) for i in range(6, 10))
        stage(keyed(i, T0 + 61 * M + i * M) for i in range(10, 12))
        assert _parents(stage.signals) == {opened[0].subject}
        assert stage.issues() == []

    def test_a_keyed_issue_no_surge_claims_opens_after_the_grace(self) -> None:
        """A popular product's key may never surge: the issue opens by itself after the grace."""
        grace = RULES.emerging.keyed_grace
        stage = Stage()
        stage(keyed(i, T0 + i * M, "product:星河X1") for i in range(5))
        assert stage.signals == []
        step_in = grace / 4
        stage(keyed(5 + k, T0 + 4 * M + k * step_in, "product:星河X1") for k in range(1, 5))
        assert len(_parents(stage.signals)) == 1
        assert stage.steps[-1].reason is Grouped.OPENED

    def test_customers_mostly_without_a_shared_key_open_at_once(self) -> None:
        """Two of five share a batch: not the batch's burst, an issue now."""
        stage = Stage()
        stage([keyed(0, T0), keyed(1, T0 + M), *earbud_voices(5)[2:]])
        assert stage.steps[-1].reason is Grouped.OPENED
        assert len(_parents(stage.signals)) == 1
