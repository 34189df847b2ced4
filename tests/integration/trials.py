"""The reliability trials' report: one row per trial (events sent, accepted, processed, lost,
duplicated, recovery time), gathered over the session and printed as one table at the end
(`make reliability`), also kept as JSON lines in test-output/trials-<pid>.jsonl (one file per
pytest session, so a unit-test run beside a trial loop neither erases nor shows its rows)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROWS = Path("test-output") / f"trials-{os.getpid()}.jsonl"


@dataclass(frozen=True)
class TrialRow:
    trial: str  # e.g. "R1 worker kill -9 + restart"
    sent: int
    accepted: int
    processed: int
    lost: int
    duplicated: int  # visible duplicates (after a receiver de-duplicates on record/action id)
    recovery_s: float | None = None
    note: str = ""


def report(row: TrialRow) -> None:
    """Record a finished trial's row (and print it, for -s runs)."""
    ROWS.parent.mkdir(exist_ok=True)
    with ROWS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    print(f"TRIAL {format_row(row)}")


def format_row(row: TrialRow) -> str:
    recovery = f"{row.recovery_s:.1f} s" if row.recovery_s is not None else "–"
    return (
        f"{row.trial:<38} {row.sent:>7} {row.accepted:>8} {row.processed:>9} {row.lost:>5} "
        f"{row.duplicated:>5} {recovery:>9}  {row.note}"
    )


HEADER = (
    f"{'trial':<38} {'sent':>7} {'accepted':>8} {'processed':>9} {'lost':>5} {'dup':>5} "
    f"{'recovery':>9}  note"
)


def table() -> list[str]:
    """The table of every row recorded since the session started."""
    if not ROWS.exists():
        return []
    rows = [TrialRow(**json.loads(line)) for line in ROWS.read_text(encoding="utf-8").splitlines()]
    return [HEADER, "-" * len(HEADER), *(format_row(row) for row in rows)] if rows else []
