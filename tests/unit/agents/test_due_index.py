"""The due index hands out each due key once, in time order, and forgets rescheduled times."""

from __future__ import annotations

from agents.due_index import DueIndex


def test_only_keys_whose_time_has_come_are_popped_once() -> None:
    index = DueIndex()
    index.schedule("a", 10.0)
    index.schedule("b", 20.0)
    index.schedule("c", None)
    assert index.pop_due(15.0) == ["a"]
    assert index.pop_due(15.0) == []
    assert index.pop_due(25.0) == ["b"]
    assert len(index) == 0


def test_a_rescheduled_key_is_due_at_its_new_time_only() -> None:
    index = DueIndex()
    index.schedule("a", 10.0)
    index.schedule("a", 30.0)
    assert index.pop_due(20.0) == []
    assert index.pop_due(30.0) == ["a"]


def test_dropping_a_key_unschedules_it() -> None:
    index = DueIndex()
    index.schedule("a", 10.0)
    index.schedule("a", None)
    assert index.pop_due(100.0) == []


def test_stale_entries_are_compacted_away() -> None:
    index = DueIndex()
    for moment in range(5000):
        index.schedule("a", float(moment))
    assert len(index._heap) < 2000
    assert index.pop_due(10_000.0) == ["a"]
