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

from complaints.similar import GroupingState, group_from_json, group_json
from streams.records import GroupMember

#: Voices remembered to drop a replay: more than one batch (agents/batches: 500 events).
REMEMBERED_VOICES = 1000
META_ENTRY = "issues"
GROUP_PREFIX = "issue|"
#: The entries' JSON: as json.dumps(…, ensure_ascii=False, separators=(",", ":")) writes it
#: (one encoder: json.dumps with options builds a new one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class HeldCases:
    """The cases the book's open incidents hold, kept in step with `incidents` (derived).

    Issue #17: per voice, the union of every open incident's cases was rebuilt (and each
    incident's case set with it); with a hundred open parents that was a third of the stage.
    Incidents are frozen, so one seen before (the same object) holds the same cases: when the
    book's tuple changes, only the incidents that came or went are counted in or out.
    """

    incidents: tuple[Any, ...] = ()
    #: id(incident) -> (the incident, its cases); the reference keeps the id unique
    cases: dict[int, tuple[Any, frozenset[str]]] = field(default_factory=dict)
    holders: dict[str, int] = field(default_factory=dict)  # case -> incidents holding it
    by_name: dict[str, Any] = field(default_factory=dict)  # incident id -> incident
    #: the least `updated_at` of the open issues (None: no issue open): none is quiet before
    last_issue_update: datetime | None = None

    def update(self, incidents: tuple[Any, ...]) -> None:
        """Follow the book's incidents (`Incident`s: `.incident_id`, `.kind`, `.cases`,
        `.updated_at`).

        Only the incidents that came or went are looked at (issue #17: `by_name` and the
        least `updated_at` were rebuilt over every open incident at each issue's growth),
        and an incident replaced under its name (grown) moves only the cases it gained or
        lost; a book whose incident ids repeat is followed by a recount.
        """
        if incidents is self.incidents:
            return
        now = dict(zip(map(id, incidents), incidents, strict=True))
        by_name, least = self.by_name, self.last_issue_update
        recount = False  # the least `updated_at` left with an issue
        went: dict[str, frozenset[str]] = {}  # name -> cases of the incident that went
        for key in self.cases.keys() - now.keys():
            incident, cases = self.cases.pop(key)
            name = incident.incident_id
            if name in went:  # a repeated name: counted out in full
                self._release(cases)
            else:
                went[name] = cases
            if by_name.get(name) is incident:  # not an incident that took its name
                del by_name[name]
            if incident.kind == "issue" and least is not None and incident.updated_at <= least:
                recount = True
        for key in now.keys() - self.cases.keys():
            incident = now[key]
            cases = incident.cases
            self.cases[key] = (incident, cases)
            before = went.pop(incident.incident_id, None)
            if before is None:
                self._hold(cases)
            else:  # the same incident, changed: only the difference moves
                self._release(before - cases)
                self._hold(cases - before)
            by_name[incident.incident_id] = incident
            if incident.kind == "issue" and not recount:
                least = incident.updated_at if least is None else min(least, incident.updated_at)
        for cases in went.values():
            self._release(cases)
        if recount or len(by_name) != len(incidents):
            self.by_name = {i.incident_id: i for i in incidents}
            least = min((i.updated_at for i in incidents if i.kind == "issue"), default=None)
        self.last_issue_update = least
        self.incidents = incidents

    def _hold(self, cases: frozenset[str]) -> None:
        for case in cases:
            self.holders[case] = self.holders.get(case, 0) + 1

    def _release(self, cases: frozenset[str]) -> None:
        for case in cases:
            left = self.holders[case] - 1
            if left:
                self.holders[case] = left
            else:
                del self.holders[case]

    def cases_of(self, incident: Any) -> frozenset[str]:
        """`incident.cases` (an incident of the tuple last followed)."""
        return self.cases[id(incident)][1]


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
    # Derived from `recent` (issue #17: per voice, a scan of the deque and the JSON of a
    # thousand ids cost more than grouping the voice): the ids as a set, and the JSON of the
    # list's items as json.dumps writes them (", " between), with each item's length.
    _recent_ids: set[str] = field(default_factory=set, repr=False)
    _recent_sizes: deque[int] = field(default_factory=deque, repr=False)
    _recent_text: str = field(default="", repr=False)
    #: the book's open incidents as emerging_incidents reads them (derived, see `HeldCases`)
    held: HeldCases = field(default_factory=lambda: HeldCases(), repr=False)
    #: group id -> (the tail last written, id of each of its members -> the member's JSON)
    _tail_json: dict[str, tuple[tuple[GroupMember, ...], dict[int, str]]] = field(
        default_factory=dict, repr=False
    )

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
        if len(self._recent_sizes) != len(self.recent):  # `recent` was filled directly
            self._derive_recent()
        return voice_id in self._recent_ids

    def remember(self, voice_id: str, now: datetime) -> None:
        """Remember a voice read at `now` (a voice not `seen`: the ids stay distinct)."""
        recent = self.recent
        if len(self._recent_sizes) != len(recent):
            self._derive_recent()
        if len(recent) == recent.maxlen:  # the oldest goes
            self._recent_ids.discard(recent[0])
            self._recent_text = self._recent_text[self._recent_sizes.popleft() + 2 :]
        recent.append(voice_id)
        self._recent_ids.add(voice_id)
        encoded = _JSON.encode(voice_id)
        self._recent_sizes.append(len(encoded))
        self._recent_text = f"{self._recent_text}, {encoded}" if self._recent_text else encoded
        self.watermark = now
        self.changed.add(META_ENTRY)

    def _derive_recent(self) -> None:
        encoded = [_JSON.encode(v) for v in self.recent]
        self._recent_ids = set(self.recent)
        self._recent_sizes = deque(len(e) for e in encoded)
        self._recent_text = ", ".join(encoded)

    def touch(self, group_id: str) -> None:
        self.changed.add(GROUP_PREFIX + group_id)

    def entry(self, name: str) -> str | None:
        """The JSON text of entry `name` as the state is now (None: delete it)."""
        if name == META_ENTRY:
            # As json.dumps({"recent": [...], "watermark": ...}, ensure_ascii=False) writes
            # it, from each id's JSON kept since it was remembered.
            if len(self._recent_sizes) != len(self.recent):
                self._derive_recent()
            watermark = f'"{self.watermark.isoformat()}"' if self.watermark else "null"
            return f'{{"recent": [{self._recent_text}], "watermark": {watermark}}}'
        # As json.dumps({"group": group_to_json(group), "tail": [member, …], "qualified": …},
        # ensure_ascii=False, separators=(",", ":")) writes it, from pieces kept alongside.
        group_id = name.removeprefix(GROUP_PREFIX)
        group = self.groups.groups.get(group_id)
        if group is None:
            self._tail_json.pop(group_id, None)
            return None
        text = f'{{"group":{group_json(group)},"tail":[{self._tail_text(group_id)}]'
        if group_id in self.qualified:
            text += f',"qualified":"{self.qualified[group_id].isoformat()}"'
        return text + "}"

    def _tail_text(self, group_id: str) -> str:
        """The members of a group's tail as JSON, each encoded once while it stays in the tail."""
        tail = self.tails.get(group_id, ())
        if not tail:
            self._tail_json.pop(group_id, None)
            return ""
        _, known = self._tail_json.get(group_id, ((), {}))
        texts = {
            id(m): known.get(id(m))
            or _JSON.encode(m.model_dump(mode="json", exclude_defaults=True))
            for m in tail
        }
        if len(tail) >= 2:  # kept once the tail grows (most groups never take a second voice)
            self._tail_json[group_id] = (tail, texts)  # the tail keeps its members' ids unique
        else:
            self._tail_json.pop(group_id, None)
        return ",".join(texts[id(m)] for m in tail)

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
            state._derive_recent()
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
