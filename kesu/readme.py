"""Keeps the README's generated settings table in step with the Settings class."""

from __future__ import annotations

import re
from pathlib import Path

from kesu.settings import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(
    r"(<!-- settings-table:start[^>]*-->\n)(.*?)(\n<!-- settings-table:end -->)", re.DOTALL
)


def current_table(readme: Path = README) -> str | None:
    match = _BLOCK.search(readme.read_text(encoding="utf-8"))
    return match.group(2) if match else None


def update(readme: Path = README) -> None:
    """Rewrite the table between the markers."""
    text = readme.read_text(encoding="utf-8")
    readme.write_text(
        _BLOCK.sub(lambda m: m.group(1) + settings_table() + m.group(3), text), encoding="utf-8"
    )
