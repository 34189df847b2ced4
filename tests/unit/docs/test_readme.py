"""The README a newcomer reads says what the code does."""

from __future__ import annotations

import re

from kesu.readme import README, current_table
from kesu.settings import settings_table


def test_settings_table_matches_the_settings_class() -> None:
    """Every setting, with its real default, is documented (regenerate with `make readme`)."""
    assert current_table() == settings_table(), "run `make readme` and commit README.md"


def test_quick_start_is_the_two_make_commands_then_the_demo() -> None:
    quick_start = (
        README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    )
    commands = re.findall(r"^(make \w+|\.venv/bin/kesu \w+)", quick_start, flags=re.MULTILINE)
    assert commands == ["make run", "make test", ".venv/bin/kesu demo"]
