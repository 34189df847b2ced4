"""What the grouping stage remembers about emerging issues (issue #18): the semantic grouper's
groups, the contacts each group keeps until it is an issue, and the voices lately read.

Pure data; no I/O. Mutable on purpose: the grouper (complaints/similar.py) updates its state in
place, one voice at a time, and a stage that re-encoded thousands of groups per voice would be
too slow. So the state is stored as table entries, one per group, and a step says which
entries it changed (`IssueState.changed`); nothing else is re-written.

Entries: ``issue|<group id>`` (the group and its member tail) and ``issues`` (the voices lately
read and the latest event time: a replayed voice is dropped, time never runs backwards).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from complaints.similar import GroupingState, group_from_json, group_to_json
from streams.records import GroupMember

#: Voices remembered to drop a replay: more than one batch (agents/batches: 500 events).
REMEMBERED_VOICES = 1000
META_ENTRY = "issues"
GROUP_PREFIX = "issue|"


@dataclass(eq=False)
class IssueState:
    """The grouper's state plus, per group not yet an issue, its latest contacts (a tail)."""

    groups: GroupingState = field(default_factory=GroupingState)
    tails: dict[str, tuple[GroupMember, ...]] = field(default_factory=dict)
    #: when a group first had enough customers to open (a keyed one waits for a surge)
    qualified: dict[str, datetime] = field(default_factory=dict)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=REMEMBERED_VOICES))
    watermark: datetime | None = None
    #: entry names changed since the shell last wrote them (the shell clears it)
    changed: set[str] = field(default_factory=set)

    def __eq__(self, other: object) -> bool:
        """The same state (cheap: identity first; two empty states are equal)."""
        if self is other:
            return True
        if not isinstance(other, IssueState):
            return NotImplemented
        return (
            self.watermark == other.watermark
            and list(self.recent) == list(other.recent)
            and self.tails == other.tails
            and self.qualified == other.qualified
            and list(self.groups.groups) == list(other.groups.groups)
        )

    __hash__ = None  # type: ignore[assignment]

    def seen(self, voice_id: str) -> bool:
        return voice_id in self.recent

    def remember(self, voice_id: str, now: datetime) -> None:
        self.recent.append(voice_id)
        self.watermark = now
        self.changed.add(META_ENTRY)

    def touch(self, group_id: str) -> None:
        self.changed.add(GROUP_PREFIX + group_id)

    def entry(self, name: str) -> str | None:
        """The JSON text of entry `name` as the state is now (None: delete it)."""
        if name == META_ENTRY:
            return json.dumps(
                {
                    "recent": list(self.recent),
                    "watermark": self.watermark.isoformat() if self.watermark else None,
                },
                ensure_ascii=False,
            )
        group_id = name.removeprefix(GROUP_PREFIX)
        group = self.groups.groups.get(group_id)
        if group is None:
            return None
        data: dict[str, Any] = {
            "group": group_to_json(group),
            "tail": [
                m.model_dump(mode="json", exclude_defaults=True)
                for m in self.tails.get(group_id, ())
            ],
        }
        if group_id in self.qualified:
            data["qualified"] = self.qualified[group_id].isoformat()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def take_changes(self) -> dict[str, str | None]:
        """Entry name -> JSON text (None: delete) of every entry changed since the last call."""
        out = {name: self.entry(name) for name in sorted(self.changed)}
        self.changed.clear()
        return out

    @classmethod
    def from_entries(
        cls, read: Callable[[str], str | None], scan: Iterable[tuple[str, str]]
    ) -> IssueState:
        """The state whose entries `read(META_ENTRY)` and `scan` (every ``issue|…`` entry)
        return."""
        state = cls()
        meta = read(META_ENTRY)
        if meta is not None:
            data = json.loads(meta)
            state.recent.extend(data.get("recent", ()))
            watermark = data.get("watermark")
            state.watermark = datetime.fromisoformat(watermark) if watermark else None
        groups = []
        for name, text in scan:
            if not name.startswith(GROUP_PREFIX):
                continue
            data = json.loads(text)
            group = group_from_json(data["group"])
            groups.append(group)
            tail = tuple(GroupMember.model_validate(m, strict=False) for m in data.get("tail", ()))
            if tail:
                state.tails[group.id] = tail
            if data.get("qualified"):
                state.qualified[group.id] = datetime.fromisoformat(data["qualified"])
        state.groups = GroupingState.from_groups(groups)
        return state
