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


def test_keys_beyond_the_horizon_wait_outside_the_heap_and_are_popped_when_due() -> None:
    index = DueIndex(horizon=100.0)
    index.schedule("soon", 50.0)
    index.schedule("later", 500.0)
    assert index.pop_due(0.0) == []
    assert [key for _, key in index._heap] == ["soon"]  # the far key is in the dict only
    index.schedule("moved-up", 1_000.0)
    index.schedule("moved-up", 60.0)  # rescheduled into the horizon: in the heap at once
    assert index.pop_due(70.0) == ["soon", "moved-up"]
    assert index.pop_due(499.0) == []
    assert index.pop_due(500.0) == ["later"]
    assert len(index) == 0


def test_a_key_rescheduled_beyond_the_horizon_is_not_popped_at_its_old_time() -> None:
    index = DueIndex(horizon=100.0)
    index.schedule("a", 10.0)
    assert index.pop_due(0.0) == []
    index.schedule("a", 5_000.0)
    assert index.pop_due(200.0) == []
    assert index.pop_due(5_000.0) == ["a"]
