"""Parent incidents (issue #16): what the grouping stage remembers and the signals it sends.

Pure; time comes with the inputs. The grouping stage sees every surge key's reports and every
order's delay in one place (one partition) and keeps a small `GroupBook`: the open incidents
(surges named by their most specific key, logistics waves named by their route), the surging
keys not yet part of one, and per route the orders delayed right now. Two modules decide:
complaints/surge_incidents.py (one cause, one surge) and complaints/waves.py (many delayed
orders of one region x carrier). This one holds their shared state and turns an incident into
the `Signal` the response engine opens or updates the parent alert from: the parent lists its
members (bounded by `grouping.max_members`) so the notifier can hold back their own pushes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from complaints.emerging_state import GROUP_PREFIX, IssueState
from complaints.per_tuple import PerTuple
from complaints.rules import ParentKind, RuleBook
from complaints.surge_sample import DIMENSION_LABELS, key_label
from complaints.surge_stats import score_of, tail_probability
from streams.records import (
    AlertKind,
    Category,
    Compensation,
    Cue,
    GroupDetail,
    GroupFacet,
    GroupMember,
    Signal,
    SignalChange,
    SurgeDetail,
)

SURGE_CASE_PREFIX = "surge:"
WAVE_CASE_PREFIX = "wave:"
WAVE_RULE = "logistics-wave"
#: An emerging issue's case and subject: its group id (complaints/similar.py), "issue:<hash>".
ISSUE_CASE_PREFIX = "issue:"
#: How many handled input ids each entry remembers (a replayed report or signal is dropped).
REMEMBERED_INPUTS = 50
#: How many surging keys outside any incident the book keeps (oldest dropped first).
MAX_PENDING = 200
#: Contacts a facet keeps (for overlap and to hand over when it names an incident).
FACET_MEMBERS = 50


class Grouped(StrEnum):
    """What an input did to the book (counted by the agent, so nothing is silent)."""

    OPENED = "OPENED"  # a new incident (surge or wave)
    UPDATED = "UPDATED"  # an incident changed in a way its parent shows
    CLOSED = "CLOSED"
    ABSORBED = "ABSORBED"  # changed the book, nothing the parent shows (yet)
    FACET = "FACET"  # a key joined an open incident as one more facet of the same burst
    HELD_NEW_KEY = "HELD_NEW_KEY"  # day-one quiet: a new key may not open an incident yet
    NOT_A_SURGE = "NOT_A_SURGE"  # a surging key's contacts are explained, or its rest is small
    DUPLICATE = "DUPLICATE"
    COVERED = "COVERED"  # an issue's voices are mostly members of an open incident already
    KEYED = "KEYED"  # an issue's customers share a batch (or SKU, product): a surge may claim it
    IGNORED = "IGNORED"  # nothing to do (a close for an unknown key, an on-time order, …)


class Facet(BaseModel):
    """One surging key as the book knows it: its numbers and the contacts it reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    detail: SurgeDetail
    variance: float = 0.0
    first_seen: datetime
    members: tuple[GroupMember, ...] = ()  # bounded (FACET_MEMBERS), first first, keys left out
    seen: int = 0  # contacts it reported, also past the bound
    key_counts: dict[str, int] = {}  # of those, how many count toward each surge key
    open: bool = True
    announced: int = 0  # detail.count last shown on a parent
    recent: tuple[str, ...] = ()  # its last report ids (a replay is dropped)

    @property
    def cases(self) -> frozenset[str]:
        return cases_of(self.members)


class Incident(BaseModel):
    """An open parent: a surge named by its most specific key, a wave named by its route, or
    an emerging issue named by its group (complaints/emerging_incidents.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident_id: str  # the parent alert's subject: "<opening key>@<opened at>", an issue's group id
    kind: Literal["surge", "wave", "issue"]
    case_key: str
    opened_at: datetime
    updated_at: datetime
    rule_id: str
    primary: str | None = None  # surge: the key naming it (its new contacts join)
    region: str | None = None  # wave
    carrier: str | None = None  # wave
    facets: tuple[Facet, ...] = ()
    members: tuple[GroupMember, ...] = ()  # bounded, keys left out; a wave's: event_id = order
    member_count: int = 0
    key_counts: dict[str, int] = {}  # how many members count toward each surge key
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # an issue: the terms its voices share
    longest_delay_hours: float = 0.0  # wave
    shown: str = ""  # what the parent last said (a fingerprint): no signal when unchanged

    @property
    def cases(self) -> frozenset[str]:
        return cases_of(self.members)

    @property
    def footprint(self) -> frozenset[str]:
        """Every case its keys reported: the members and what the other facets counted.

        Keys of one burst report its contacts in different orders (each from its own
        partition), so a key's first contacts may not be members yet but another facet's.
        """
        return self.cases.union(*(f.cases for f in self.facets))

    def facet(self, key: str) -> Facet | None:
        return next((f for f in self.facets if f.key == key), None)


class DelayedOrder(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    case_key: str
    since: datetime  # event time of its first delay signal
    delay_hours: float = 0.0


class RouteTally(BaseModel):
    """The orders of one region x carrier delayed right now (bounded: the newest kept)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    carrier: str
    delayed: tuple[DelayedOrder, ...] = ()
    recent: tuple[str, ...] = ()  # its last signal ids (a replay is dropped)

    @property
    def route(self) -> str:
        return route_of(self.region, self.carrier)


class _Index(BaseModel):
    """The book's first entry: what else to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch_since: datetime | None = None
    incidents: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()


class GroupBook(BaseModel):
    """Everything the grouping stage remembers.

    Stored as several table entries (`entries`): an index, one per incident, held key and
    route, so an input rewrites only what it changed, not the whole book. The emerging issues'
    grouper state (`issues`) is stored by its own entries (`IssueState.take_changes`): it is
    updated in place, and thousands of groups are not re-encoded per input.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    watch_since: datetime | None = None  # the first window of any key ever reported
    incidents: tuple[Incident, ...] = ()
    pending: tuple[Facet, ...] = ()  # surging keys in no incident (e.g. held new keys)
    routes: tuple[RouteTally, ...] = ()
    issues: IssueState = Field(default_factory=IssueState, exclude=True)

    def entries(self) -> dict[str, str]:
        """Table key -> JSON text of each part of the book."""
        return {name: part.model_dump_json() for name, part in self._parts().items()}

    def changes_since(self, before: GroupBook) -> dict[str, str | None]:
        """The entries that differ from `before`'s: table key -> JSON text (None: gone)."""
        return {
            name: None if part is None else part.model_dump_json()
            for name, part in self.changed_parts(before).items()
        }

    def changed_parts(self, before: GroupBook) -> dict[str, BaseModel | None]:
        """The parts that differ from `before`'s: table key -> part (None: gone).

        Only changed parts are named (issue #17: re-encoding every incident and route on each
        report cost a fifth of the worker): the book is frozen, so a step keeps the parts it
        did not touch as the very same objects, and a rebuilt part is compared by value. The
        shell encodes a part once per batch, when it writes the table, not once per step.
        """
        old, new = before._parts(), self._parts()
        changes: dict[str, BaseModel | None] = {name: None for name in old.keys() - new.keys()}
        for name, part in new.items():
            known = old.get(name)
            if known is not part and known != part:
                changes[name] = part
        return changes

    def _parts(self) -> dict[str, BaseModel]:
        """Table key -> part (not to be changed: the last books' parts are remembered, since
        the shell compares each step's book with the one before, so each is asked twice)."""
        known = _PARTS.get(id(self))
        if known is not None and known[0] is self:  # the book itself, not one reusing its id
            return known[1]
        parts = self._build_parts()
        if len(_PARTS) >= _PARTS_KEPT:  # the oldest goes (one book freed per step, not four)
            del _PARTS[next(iter(_PARTS))]
        _PARTS[id(self)] = (self, parts)
        return parts

    def _build_parts(self) -> dict[str, BaseModel]:
        index = _Index(
            watch_since=self.watch_since,
            incidents=tuple(i.incident_id for i in self.incidents),
            pending=tuple(p.key for p in self.pending),
            routes=tuple(r.route for r in self.routes),
        )
        parts: dict[str, BaseModel] = {INDEX_ENTRY: index}
        parts |= {f"incident|{i.incident_id}": i for i in self.incidents}
        parts |= {f"pending|{p.key}": p for p in self.pending}
        parts |= {f"route|{r.route}": r for r in self.routes}
        return parts

    @classmethod
    def from_entries(
        cls,
        read: Callable[[str], str | None],
        scan: Callable[[str], Iterable[tuple[str, str]]] | None = None,
    ) -> GroupBook:
        """The book whose `entries` `read(key)` returns (an empty book when there is none);
        `scan(prefix)` lists the entries whose names start with `prefix` (the issue groups)."""
        issues = IssueState.from_entries(read, scan(GROUP_PREFIX) if scan else ())
        stored = read(INDEX_ENTRY)
        if stored is None:
            return cls(issues=issues)
        index = _Index.model_validate_json(stored)

        def load(prefix: str, names: tuple[str, ...]) -> list[str]:
            found = (read(f"{prefix}|{name}") for name in names)
            return [text for text in found if text is not None]

        return cls(
            watch_since=index.watch_since,
            incidents=tuple(
                Incident.model_validate_json(t) for t in load("incident", index.incidents)
            ),
            pending=tuple(Facet.model_validate_json(t) for t in load("pending", index.pending)),
            routes=tuple(RouteTally.model_validate_json(t) for t in load("route", index.routes)),
            issues=issues,
        )

    def with_incident(self, incident: Incident) -> GroupBook:
        name = incident.incident_id
        others = tuple(i for i in self.incidents if i.incident_id != name)
        return self.model_copy(update={"incidents": (*others, incident)})

    def without_incident(self, incident_id: str) -> GroupBook:
        kept = tuple(i for i in self.incidents if i.incident_id != incident_id)
        return self.model_copy(update={"incidents": kept})


#: id(book) -> (the book, its parts): the books last compared (the reference keeps the id
#: theirs; a book is frozen, so its parts stay what they were)
_PARTS: dict[int, tuple[GroupBook, dict[str, BaseModel]]] = {}
_PARTS_KEPT = 4


class GroupStep(NamedTuple):
    book: GroupBook
    signals: tuple[Signal, ...]  # parent signals for the engine, in order
    reason: Grouped
    #: issue entries to write (None: delete), beside what `book.entries()` says
    writes: tuple[tuple[str, str | None], ...] = ()


INDEX_ENTRY = "index"


def route_of(region: str, carrier: str) -> str:
    return f"{region}|{carrier}"


def remembered(recent: tuple[str, ...], input_id: str) -> tuple[str, ...]:
    return (*recent, input_id)[-REMEMBERED_INPUTS:]


def stripped(members: tuple[GroupMember, ...]) -> tuple[GroupMember, ...]:
    """Members as stored: the keys they count toward are kept as counters, not per member."""
    return tuple(m.model_copy(update={"keys": ()}) if m.keys else m for m in members)


def counted(counts: dict[str, int], members: tuple[GroupMember, ...]) -> dict[str, int]:
    """`counts` plus the surge keys of `members`."""
    out = dict(counts)
    for member in members:
        for key in member.keys:
            out[key] = out.get(key, 0) + 1
    return out


# -- members -----------------------------------------------------------------------------------


def cases_of(members: tuple[GroupMember, ...]) -> frozenset[str]:
    """The cases of `members`, remembered per tuple (issue #17: an incident's and a facet's
    cases were rebuilt at every overlap test, several times per incident and input)."""
    return _CASES(members)


_CASES: PerTuple[frozenset[str]] = PerTuple(
    lambda members: frozenset(m.case_key for m in members), kept=512
)
#: (case, event) of each member, for add_members (remembered: a full wave's members stay the
#: same tuple while its member_count grows)
_MEMBER_KEYS: PerTuple[frozenset[tuple[str, str]]] = PerTuple(
    lambda members: frozenset((m.case_key, m.event_id) for m in members), kept=512
)


def add_members(
    members: tuple[GroupMember, ...], new: tuple[GroupMember, ...], bound: int
) -> tuple[tuple[GroupMember, ...], int]:
    """`members` with the new ones appended (bounded) and how many were new.

    `members` itself when none was new or none fits, so that what was derived from it (its
    cases, its keys, the parent's lists) is not derived again.
    """
    seen = _MEMBER_KEYS(members)
    fresh: list[GroupMember] = []
    added: set[tuple[str, str]] = set()
    for member in new:
        key = (member.case_key, member.event_id)
        if key not in seen and key not in added:
            added.add(key)
            fresh.append(member)
    if len(members) <= bound and (not fresh or len(members) == bound):
        return members, len(fresh)
    kept = (*members, *fresh)[:bound]
    if len(members) < bound:
        taken = kept[len(members) :]
        _MEMBER_KEYS.remember(kept, seen.union((m.case_key, m.event_id) for m in taken))
    return kept, len(fresh)


def overlap(cases: frozenset[str], incident: Incident) -> int:
    return len(cases & incident.footprint)


def explains(facet: Facet, incident: Incident, rules: RuleBook) -> bool:
    """The key and the incident are the same burst: each is mostly the other.

    The key's contacts cover `surge.explain_share` of the incident's burst — the members beyond
    what the naming key expected anyway (a category key that opened with 27 contacts where 3
    were expected has a burst of 24, and a batch with 18 of them covers it) — and that share of
    the key's own contacts are members (a whole channel rising with the burst is not it).
    """
    cases = incident.cases
    own = facet.cases
    if not cases or not own:
        return False
    share = rules.surge.explain_share
    named = incident.facet(incident.primary or "")
    background = round(named.detail.expected) if named is not None else 0
    burst = max(1, len(cases) - background)
    shared = len(own & cases)
    if shared >= share * burst and shared >= share * len(own):
        return True
    return same_burst(facet, incident, rules)


def same_burst(facet: Facet, incident: Incident, rules: RuleBook) -> bool:
    """By its contacts' keys, the key is part of the incident's burst.

    Most of the incident's members count toward the key too, and most of the key's contacts
    count toward the key naming the incident. Each key reports a burst's contacts in its own
    partition's order, so their first contacts may differ; the keys every contact counts
    toward do not. A whole channel fails the second test, an unrelated batch the first.
    """
    if incident.kind != "surge" or incident.primary is None:
        return False
    if not incident.key_counts or not facet.key_counts or not facet.seen:
        return False
    share = rules.surge.explain_share
    named = incident.facet(incident.primary)
    background = round(named.detail.expected) if named is not None else 0
    burst = max(1, incident.member_count - background)
    covers = incident.key_counts.get(facet.key, 0) >= share * burst
    within = facet.key_counts.get(incident.primary, 0) >= share * facet.seen
    return covers and within


def still_surges(count: float, detail: SurgeDetail, variance: float, rules: RuleBook) -> bool:
    """Would `count` contacts on this key open a surge by themselves (the key's own test)?"""
    policy = rules.surge
    if count < policy.min_count or count < policy.min_ratio * max(detail.expected, 1e-9):
        return False
    p = tail_probability(count, detail.expected, max(variance, detail.expected))
    return score_of(p) >= policy.open_score


# -- the parent signal -------------------------------------------------------------------------


def parent_signal(
    incident: Incident,
    change: SignalChange,
    rules: RuleBook,
    *,
    merged_into: Incident | None = None,
) -> Signal:
    """What the engine opens, updates or closes the parent alert from.

    A parent closed because it was `merged_into` another lists no members (nothing is handed
    back: they are the other's) and its title says where it went.
    """
    at = incident.updated_at
    fingerprint = (
        f"{change.value}|{incident.shown}|{merged_into.incident_id if merged_into else ''}"
    )
    digest = hashlib.sha256(f"{incident.incident_id}|{fingerprint}".encode()).hexdigest()
    common = {
        "signal_id": f"gp-{digest[:24]}",
        "case_key": incident.case_key[:200],
        "subject": incident.incident_id[:200],
        "change": change,
        "at": at,
        "group": _group_detail(incident, rules),
    }
    if incident.kind == "wave":
        signal = _wave_signal(incident, change, rules, common)
    elif incident.kind == "issue":
        signal = _issue_signal(incident, change, rules, common)
    else:
        signal = _surge_signal(incident, change, rules, common)
    if merged_into is not None:
        where = merged_into.facet(merged_into.primary or "")
        label = (
            key_label(where.detail.dimension, where.detail.value)
            if where is not None
            else f"{merged_into.region} × {merged_into.carrier}"
        )
        signal = signal.model_copy(update={"title": _clip(f"已并入 {label} 的同一事件")})
    return signal


def _group_detail(incident: Incident, rules: RuleBook) -> GroupDetail:
    bound = rules.grouping.max_members
    wave = incident.kind == "wave"
    cases, ids, intensity = _listed(incident.members, bound)
    facets = tuple(
        GroupFacet(
            dimension=f.detail.dimension,
            value=f.detail.value,
            count=f.detail.count,
            expected=f.detail.expected,
            ratio=f.detail.ratio,
            explains=explains(f, incident, rules),
        )
        for f in sorted(
            incident.facets, key=lambda f: rules.surge.specificity_rank(f.detail.dimension)
        )
        if f.key != incident.primary
    )
    kind: ParentKind = "logistics_wave" if wave else "surge"
    on_resolve = (
        rules.emerging.on_resolve if incident.kind == "issue" else rules.grouping.on_resolve[kind]
    )
    return GroupDetail(
        member_kind=AlertKind.LOGISTICS_DELAY if wave else AlertKind.COMPLAINT,
        member_case_keys=cases,
        member_count=incident.member_count,
        member_event_ids=() if wave else ids,
        member_order_ids=ids if wave else (),
        examples=incident.examples[: rules.grouping.examples],
        keywords=incident.keywords if incident.kind == "issue" else (),
        intensity=intensity,
        facets=facets,
        on_resolve=on_resolve,
    )


def _listed(
    members: tuple[GroupMember, ...], bound: int
) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """What a parent lists of its members — the first `bound` distinct cases and event (or
    order) ids — and their highest intensity, remembered per members tuple: a full wave
    sends a parent signal for every new order while its members stay the same tuple."""
    by_bound = _LISTS(members)
    listed = by_bound.get(bound)
    if listed is None:
        listed = by_bound[bound] = (
            tuple(dict.fromkeys(m.case_key for m in members))[:bound],
            tuple(dict.fromkeys(m.event_id for m in members))[:bound],
            max((m.intensity for m in members), default=0),
        )
    return listed


_LISTS: PerTuple[dict[int, tuple[tuple[str, ...], tuple[str, ...], int]]] = PerTuple(
    lambda members: {}, kept=64
)


def _explaining(incident: Incident, rules: RuleBook) -> dict[str, str]:
    """dimension -> value of the keys that explain the incident (for the alert's fields)."""
    out: dict[str, str] = {}
    for facet in incident.facets:
        if facet.key == incident.primary or explains(facet, incident, rules):
            out.setdefault(facet.detail.dimension, facet.detail.value)
    return out


def _surge_signal(
    incident: Incident, change: SignalChange, rules: RuleBook, common: dict[str, object]
) -> Signal:
    primary = incident.facet(incident.primary or "") or incident.facets[0]
    detail = primary.detail.model_copy(
        update={"keywords": incident.keywords, "examples": incident.examples}
    )
    label = key_label(detail.dimension, detail.value)
    also = [
        key_label(f.detail.dimension, f.detail.value)
        for f in sorted(
            incident.facets, key=lambda f: rules.surge.specificity_rank(f.detail.dimension)
        )
        if f.key != primary.key
    ]
    if change is SignalChange.CLEARED:
        title = f"{label} 集中投诉已回落（共 {incident.member_count} 条）"
    else:
        title = (
            f"集中投诉 · {label}：已 {incident.member_count} 条负面反馈"
            f"（{detail.window_minutes} 分钟内 {detail.count} 条，基线 {detail.expected:.1f} 条）"
        )
        if also:
            title += " · 另见 " + "、".join(also)
    dims = _explaining(incident, rules)
    why = (
        Cue(
            kind="surge",
            term=f"{detail.count} 条 / {detail.window_minutes} 分钟，基线 {detail.expected:.1f}",
            label=primary.key[:200],
            weight=round(score_of(max(detail.p_value, 1e-300)), 2),
        ),
    )
    category = dims.get("category")
    return Signal(
        kind=AlertKind.SURGE,
        tier=rules.surge.tier,
        rule_id=incident.rule_id,
        title=_clip(title),
        why=why,
        product=_short(dims.get("product")),
        sku=_ident(dims.get("sku")),
        batch=_ident(dims.get("batch")),
        region=_short(dims.get("region")),
        carrier=_short(dims.get("carrier")),
        category=Category(category) if category and category in set(Category) else None,
        surge=detail,
        **common,  # type: ignore[arg-type]
    )


def _issue_signal(
    incident: Incident, change: SignalChange, rules: RuleBook, common: dict[str, object]
) -> Signal:
    """An emerging issue (新问题): the terms its voices share, and how many customers."""
    terms = " ".join(incident.keywords[:4]) or incident.incident_id
    also = [
        key_label(f.detail.dimension, f.detail.value)
        for f in sorted(
            incident.facets, key=lambda f: rules.surge.specificity_rank(f.detail.dimension)
        )
    ]
    if change is SignalChange.CLEARED:
        title = f"新问题 · {terms} 已平息（共 {incident.member_count} 位客户）"
    else:
        title = f"新问题：{terms} · {incident.member_count} 位客户"
        if also:
            title += " · 另见 " + "、".join(also)
    policy = rules.emerging
    minutes = round(policy.window.total_seconds() / 60)
    why = (
        Cue(
            kind="emerging_issue",
            term=f"{incident.member_count} 位客户说同一问题（{policy.open_customers} 位 / "
            f"{minutes} 分钟即成新问题）",
            label=terms[:200],
            weight=float(incident.member_count),
        ),
    )
    return Signal(
        kind=AlertKind.SURGE,
        tier=policy.tier,
        rule_id=incident.rule_id,
        title=_clip(title),
        why=why,
        **common,  # type: ignore[arg-type]
    )


def _wave_signal(
    incident: Incident, change: SignalChange, rules: RuleBook, common: dict[str, object]
) -> Signal:
    wave = rules.logistics.wave
    where = f"{incident.region} × {incident.carrier}"
    if change is SignalChange.CLEARED:
        title = f"物流延误波次 · {where} 已恢复（共 {incident.member_count} 单）"
    else:
        longest = incident.longest_delay_hours
        title = f"物流延误波次 · {where}：{incident.member_count} 单延误"
        if longest >= 1:
            title += f"，最长约 {longest:.0f} 小时"
    rung = rules.compensation.rungs["basic"]
    compensation = Compensation(
        rung="basic",
        label=rung.label,
        actions=wave.actions,
        amount_yuan=0,
        needs_approval=False,
        rule_id=WAVE_RULE,
    )
    hours = wave.within.total_seconds() / 3600
    why = (
        Cue(
            kind="logistics_wave",
            term=f"{incident.member_count} 单 / {hours:g} 小时内开始延误",
            label=route_of(incident.region or "", incident.carrier or "")[:200],
            weight=float(incident.member_count),
        ),
    )
    return Signal(
        kind=AlertKind.LOGISTICS_DELAY,
        tier=wave.tier,
        rule_id=WAVE_RULE,
        title=_clip(title),
        why=why,
        region=_short(incident.region),
        carrier=_short(incident.carrier),
        category=Category.LOGISTICS,
        compensation=compensation,
        **common,  # type: ignore[arg-type]
    )


def fingerprint(incident: Incident, rules: RuleBook) -> str:
    """What a parent shows: a signal goes out only when this changes.

    A facet's count is shown rounded down to the growth steps the surge rules announce
    (1.5x), so a busy facet (a whole channel) does not update the parent on every contact.
    """
    facets = ",".join(
        f"{f.key}:{f.announced}:{int(explains(f, incident, rules))}"
        for f in sorted(incident.facets, key=lambda f: f.key)
    )
    return f"{incident.member_count}|{incident.primary}|{facets}|{incident.longest_delay_hours:.0f}"


def announce_facets(incident: Incident, rules: RuleBook) -> Incident:
    """Move each facet's announced count up when it grew by the surge rules' growth factor."""
    growth = rules.surge.growth
    facets = tuple(
        f.model_copy(update={"announced": f.detail.count})
        if f.detail.count >= growth * max(f.announced, 1) or f.announced == 0
        else f
        for f in incident.facets
    )
    return incident.model_copy(update={"facets": facets})


def _clip(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def _short(value: str | None) -> str | None:
    return value[:64] if value else None


def _ident(value: str | None) -> str | None:
    """An identifier field takes the value only when it is one (upstream ids always are)."""
    return value if value and len(value) <= 128 else None


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension)
