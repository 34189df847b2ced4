"""Facts remembered per tuple object (complaints/per_tuple.py) and the grouping helpers that
lean on them: what they return must be what deriving afresh returns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.grouping import add_members, cases_of
from complaints.per_tuple import PerTuple
from streams.records import GroupMember
from tests.factories import T0


class TestPerTuple:
    def test_a_tuple_is_derived_once_while_remembered(self) -> None:
        calls: list[tuple[int, ...]] = []
        total = PerTuple(lambda items: calls.append(items) or sum(items), kept=4)
        items = (1, 2, 3)
        assert total(items) == 6
        assert total(items) == 6
        assert calls == [items]

    def test_an_equal_tuple_that_is_another_object_is_derived_again(self) -> None:
        calls: list[tuple[int, ...]] = []
        total = PerTuple(lambda items: calls.append(items) or sum(items), kept=4)
        first = tuple(range(5))
        second = tuple(range(5))
        assert first == second and first is not second
        total(first)
        total(second)
        assert len(calls) == 2

    def test_the_oldest_is_forgotten_beyond_the_bound(self) -> None:
        calls: list[tuple[int, ...]] = []
        total = PerTuple(lambda items: calls.append(items) or sum(items), kept=2)
        a, b, c = (1,), (2,), (3,)
        for items in (a, b, c):
            total(items)
        total(c)
        total(b)
        assert calls == [a, b, c]  # b and c remembered
        total(a)
        assert calls == [a, b, c, a]  # a was forgotten

    def test_a_remembered_fact_is_returned_without_deriving(self) -> None:
        total = PerTuple(lambda items: sum(items), kept=2)
        items = (1, 2)
        total.remember(items, 3)
        assert total(items) == 3


def _member(case: int, event: int) -> GroupMember:
    return GroupMember(case_key=f"customer:c{case}", event_id=f"ev-{event}", at=T0)


members_st = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6)).map(lambda p: _member(*p)), max_size=12
)


def _naive_add(
    members: tuple[GroupMember, ...], new: tuple[GroupMember, ...], bound: int
) -> tuple[tuple[GroupMember, ...], int]:
    """add_members as it was before it remembered anything."""
    seen = {(m.case_key, m.event_id) for m in members}
    fresh = []
    for member in new:
        if (member.case_key, member.event_id) not in seen:
            seen.add((member.case_key, member.event_id))
            fresh.append(member)
    return (*members, *fresh)[:bound], len(fresh)


class TestAddMembers:
    @settings(max_examples=300, deadline=None)
    @given(
        start=members_st,
        additions=st.lists(members_st, max_size=6),
        bound=st.integers(1, 8),
    )
    def test_a_chain_of_additions_matches_deriving_afresh(
        self, start: list[GroupMember], additions: list[list[GroupMember]], bound: int
    ) -> None:
        # `start` may hold repeats and exceed the bound (a lowered max_members)
        remembered = tuple(start)
        fresh_copy = tuple(start)
        for new in additions:
            remembered, count = add_members(remembered, tuple(new), bound)
            fresh_copy, expected = _naive_add(fresh_copy, tuple(new), bound)
            assert remembered == fresh_copy
            assert count == expected
            assert cases_of(remembered) == frozenset(m.case_key for m in fresh_copy)

    def test_full_members_stay_the_same_tuple_while_the_count_grows(self) -> None:
        full = tuple(_member(i, i) for i in range(3))
        kept, fresh = add_members(full, (_member(9, 9),), 3)
        assert kept is full
        assert fresh == 1

    def test_nothing_new_keeps_the_same_tuple(self) -> None:
        members = (_member(1, 1), _member(2, 2))
        kept, fresh = add_members(members, (_member(1, 1),), 5)
        assert kept is members
        assert fresh == 0
