"""`kesu rules check` — what an operator runs before deploying a rules change."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.rules import DEFAULT_RULES
from kesu.cli import cli

BAD = Path(__file__).resolve().parents[2] / "rules" / "bad"


def test_the_shipped_rules_pass() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(DEFAULT_RULES)])
    assert result.exit_code == 0, result.output
    assert "OK — version" in result.output


def test_a_broken_file_fails_naming_the_field() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", str(BAD / "tier-out-of-range.yaml")])
    assert result.exit_code == 1
    assert "tier_rules.0.tier: Input should be 1, 2 or 3" in result.output


def test_a_calendar_without_this_years_holidays_is_warned_about(tmp_path: Path) -> None:
    stale = tmp_path / "rules.yaml"
    stale.write_text(
        DEFAULT_RULES.read_text(encoding="utf-8").replace("2026-", "2019-"), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["rules", "check", str(stale)])
    assert result.exit_code == 0
    assert "lists no holidays for" in result.output


def test_without_a_file_it_checks_the_rules_in_effect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """KESU_RULES_FILE when set (what the worker will load), else the shipped rules."""
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.delenv("KESU_RULES_FILE", raising=False)
    shipped = CliRunner().invoke(cli, ["rules", "check"])
    assert shipped.exit_code == 0 and f"{DEFAULT_RULES}: OK" in shipped.output
    bad = BAD / "logistics-forgets-too-soon.yaml"
    monkeypatch.setenv("KESU_RULES_FILE", str(bad))
    configured = CliRunner().invoke(cli, ["rules", "check"])
    assert configured.exit_code == 1 and f"{bad}: logistics" in configured.output
