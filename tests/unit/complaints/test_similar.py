"""Semantic grouping (相似合并, issue #18): same-issue texts from many customers are one group and,
past enough customers, an emerging issue; a repost storm is one item; memory stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from complaints.lexicon import default_lexicon
from complaints.similar import Grouper, GroupingState, Step, Voice

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUPER = Grouper(default_lexicon())
RULES = GROUPER.rules

SAME_ISSUE = [
    "耳机左边没声音",
    "我买的耳机左耳没有声音了",
    "左边耳机不响，才用了三天",
    "蓝牙耳机左耳突然没声了，怎么回事？",
    "你好，耳机左声道没声音，右边正常",
    "刚收到的耳机，左边那个听不到声音",
]


def feed(texts: list[str], *, minutes: int = 1, customers: list[str] | None = None) -> list[Step]:
    state = GroupingState()
    steps = []
    for k, text in enumerate(texts):
        who = customers[k] if customers else f"c{k}"
        steps.append(
            GROUPER.add(state, Voice(text, who, f"e{k}"), T0 + timedelta(minutes=minutes * k))
        )
    return steps


class TestSameIssue:
    def test_paraphrases_from_many_customers_are_one_group(self) -> None:
        steps = feed(SAME_ISSUE)
        assert all(s.joined is not None for s in steps)
        assert len({s.joined.group_id for s in steps if s.joined}) == 1

    def test_a_join_says_what_it_shared(self) -> None:
        joined = feed(SAME_ISSUE[:2])[1].joined
        assert joined is not None and not joined.new_group
        assert {"耳机", "无声", "左侧"} <= set(joined.shared)

    def test_the_issue_emerges_at_the_fifth_customer(self) -> None:
        steps = feed(SAME_ISSUE)
        signals = [(k, s.signal) for k, s in enumerate(steps) if s.signal]
        assert [k for k, _ in signals] == [RULES.open_customers - 1]
        signal = signals[0][1]
        assert signal.change == "opened" and signal.customers == RULES.open_customers
        assert "耳机" in signal.linked_by and "无声" in signal.linked_by
        assert signal.examples[0] == SAME_ISSUE[0]

    def test_another_fault_of_the_same_product_is_another_group(self) -> None:
        steps = feed([*SAME_ISSUE[:3], "耳机充电盒充不进电", "耳机连不上手机蓝牙"])
        first = steps[0].joined
        assert first is not None
        for step in steps[3:]:
            assert step.joined is not None and step.joined.group_id != first.group_id

    def test_one_customer_saying_it_again_is_one_voice(self) -> None:
        steps = feed(SAME_ISSUE, customers=["same"] * len(SAME_ISSUE))
        assert not any(s.signal for s in steps)

    def test_customers_outside_the_window_do_not_count(self) -> None:
        gap = int(RULES.window.total_seconds() // 60) // (RULES.open_customers - 1) + 1
        steps = feed(SAME_ISSUE, minutes=gap)
        assert not any(s.signal for s in steps)


class TestRepostStorm:
    def test_a_hundred_near_identical_posts_are_one_item(self) -> None:
        base = "#某某手机质量# 刚买的手机充电口进水生锈，售后说人为损坏不保修，大家千万别买！"
        edits = [
            base,
            f"转发微博 {base}",
            f"//@用户123:{base}",
            f"{base}[怒]",
            f"顶 {base}",
            f"{base}！！",
        ]
        steps = feed([edits[k % len(edits)] for k in range(100)])
        groups = {s.joined.group_id for s in steps if s.joined}
        assert len(groups) == 1
        assert sum(1 for s in steps if s.joined and s.joined.copy) >= 90
        changes = [s.signal.change for s in steps if s.signal]
        assert changes[0] == "opened" and set(changes[1:]) <= {"grew"}
        assert steps[-1].state.groups[next(iter(groups))].voices == 100


class TestBounded:
    def test_a_quiet_group_is_forgotten(self) -> None:
        state = GroupingState()
        GROUPER.add(state, Voice("耳机左边没声音", "a", "e1"), T0)
        later = T0 + RULES.forget_after + timedelta(minutes=1)
        step = GROUPER.add(state, Voice("空调一点都不制冷", "b", "e2"), later)
        assert list(state.groups) == [step.joined.group_id if step.joined else ""]

    def test_at_most_max_groups(self) -> None:
        """Past max_groups, the least recently seen group goes, with its index entries."""
        lexicon = default_lexicon()
        small = lexicon.model_copy(
            update={"grouping": lexicon.grouping.model_copy(update={"max_groups": 20})}
        )
        grouper, state = Grouper(small), GroupingState()
        for k in range(45):  # 45 unrelated texts: four characters each, none shared
            text = "".join(chr(0x4E00 + 4 * k + j) for j in range(4))
            step = grouper.add(state, Voice(text, f"c{k}", f"e{k}"), T0 + timedelta(seconds=k))
            assert step.joined is not None and step.joined.new_group
        assert len(state.groups) == 20
        assert step.joined.group_id in state.groups
        indexed = {g for ids in state.by_feature.values() for g in ids}
        indexed |= {g for ids in state.by_band.values() for g in ids}
        assert indexed == set(state.groups)

    def test_voices_per_group_are_bounded(self) -> None:
        state = GroupingState()
        for k in range(RULES.max_voices + 10):
            GROUPER.add(state, Voice("耳机左边没声音", f"c{k}", f"e{k}"), T0 + timedelta(seconds=k))
        (group,) = state.groups.values()
        assert len(group.customers) == RULES.max_voices


class TestDeterministic:
    def test_the_same_stream_builds_the_same_groups(self) -> None:
        texts = [*SAME_ISSUE, "空调不制冷", "这台空调一点都不凉", *SAME_ISSUE]
        first = [(s.joined, s.signal) for s in feed(texts)]
        second = [(s.joined, s.signal) for s in feed(texts)]
        assert first == second

    def test_group_ids_are_derived_from_the_first_voice(self) -> None:
        a = feed(["耳机左边没声音"])[0].joined
        b = feed(["耳机左边没声音"])[0].joined
        assert a is not None and b is not None and a.group_id == b.group_id
        assert a.group_id.startswith("issue:")


@pytest.mark.parametrize("text", ["", "！！！", "   ", "12345678", "😡😡"])
def test_a_text_with_nothing_to_group_on_joins_nothing(text: str) -> None:
    step = feed([text])[0]
    assert step.joined is None and step.signal is None


def test_examples_never_carry_personal_data() -> None:
    """A phone number in a voice is masked before the text is kept as an example."""
    texts = [f"{t}，电话13812345678" for t in SAME_ISSUE]
    signal = next(s.signal for s in feed(texts) if s.signal)
    assert signal.examples and not any("13812345678" in e for e in signal.examples)


def test_a_state_rebuilt_from_stored_groups_groups_alike() -> None:
    """Groups written as JSON and read back (a changelog table) give the same next steps."""
    import json

    from complaints.similar import group_from_json, group_to_json

    live = GroupingState()
    for k, text in enumerate(SAME_ISSUE[:4]):
        GROUPER.add(live, Voice(text, f"c{k}", f"e{k}"), T0 + timedelta(minutes=k))
    stored = [json.loads(json.dumps(group_to_json(g))) for g in live.groups.values()]
    rebuilt = GroupingState.from_groups(group_from_json(g) for g in stored)
    assert rebuilt.by_feature == live.by_feature and rebuilt.by_band == live.by_band
    later = T0 + timedelta(minutes=10)
    for k, text in enumerate(SAME_ISSUE[4:], start=4):
        a = GROUPER.add(live, Voice(text, f"c{k}", f"e{k}"), later)
        b = GROUPER.add(rebuilt, Voice(text, f"c{k}", f"e{k}"), later)
        assert (a.joined, a.signal) == (b.joined, b.signal)


def test_a_forgotten_group_is_reported_for_deletion() -> None:
    state = GroupingState()
    first = GROUPER.add(state, Voice("耳机左边没声音", "a", "e1"), T0).joined
    step = GROUPER.add(state, Voice("空调不制冷", "b", "e2"), T0 + RULES.forget_after * 2)
    assert first is not None and step.dropped == (first.group_id,)
