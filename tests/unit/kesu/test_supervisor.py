"""The supervisor's pure parts: restart back-off and the console's per-child line quota."""

from __future__ import annotations

import pytest

from kesu.supervisor import RESTART_BACKOFF, _ConsoleQuota, backoff


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (7, 30.0), (50, 30.0)]
)
def test_backoff_doubles_up_to_its_cap(failures: int, seconds: float) -> None:
    """Each failure in a row waits twice as long as the last, never more than 30 s."""
    assert backoff(failures) == seconds
    assert max(RESTART_BACKOFF) == 30.0


class TestConsoleQuota:
    def test_shows_a_few_lines_then_counts_the_rest(self) -> None:
        """Past the quota lines are held back and counted once the window ends."""
        quota = _ConsoleQuota(lines=2, seconds=10.0)
        shown = [out for i in range(5) for out in quota.admit(f"line {i}", now=100.0 + i)]
        assert shown == ["line 0", "line 1"]
        assert quota.admit("later", now=111.0) == ["  … 3 more such line(s) in the log", "later"]

    def test_a_quiet_child_shows_everything(self) -> None:
        """Lines spread out over windows are all shown, with no held-back note."""
        quota = _ConsoleQuota(lines=1, seconds=10.0)
        assert [quota.admit(f"l{i}", now=i * 20.0) for i in range(3)] == [["l0"], ["l1"], ["l2"]]
