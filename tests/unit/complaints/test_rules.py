"""The rule book: the shipped file is valid, and each broken file is refused naming its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints.rules import DEFAULT_RULES, RulesError, load_rules, parse_rules
from streams.records import ClockKind

BAD = Path(__file__).resolve().parents[2] / "rules" / "bad"


def test_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.version
    assert rules.tiers[1].clocks[ClockKind.FIRST_ACTION].target.total_seconds() == 2 * 3600
    assert rules.tiers[2].clocks[ClockKind.RESOLVE].target.total_seconds() == 24 * 3600
    assert rules.compensation.front_line_limit_yuan == 500
    assert load_rules(DEFAULT_RULES) == rules


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_file_is_refused_naming_the_field(path: Path) -> None:
    """Alertmanager-style testdata: each file's first line says what its error must name."""
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# error must name: ")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems


def test_there_is_a_bad_file_for_every_kind_of_mistake() -> None:
    assert len(list(BAD.glob("*.yaml"))) >= 15


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(RulesError, match="must be a mapping"):
        parse_rules("- just\n- a list\n")
