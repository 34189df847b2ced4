"""Emerging issues (新问题, issue #18): same-issue texts of many customers become one parent.

Pure; time comes with the voices. "耳机左边没声音" said forty ways by forty customers, with no
batch, SKU or region key linking them, is one parent alert like a surge: its members are the
customers' complaint cases (the notifier holds back their own pushes while it is open), a
repost storm counts once (the grouper's copies), and a replay builds the same ids.

Every negative text reaches the grouping stage as an `IssueVoice`. The semantic grouper
(complaints/similar.py) places it in the group it resembles; a group keeps its latest contacts
(`emerging.member_tail`) until it is an issue:

- a group whose contacts within `emerging.window` come from `emerging.open_customers` distinct
  cases that no open incident holds opens an issue (one cause, one parent: when most of them
  are an open surge's or wave's members already, what is left must be an issue on its own —
  the same test a surge key passes in complaints/surge_incidents.py);
- each later voice of the group whose case no other open incident holds joins as a member, and
  the parent is updated with its size;
- the parent closes (its members handed back) when no new customer joined for
  `emerging.quiet_after`, or the grouper forgot the group, judged at each voice.

A surge key whose contacts are mostly an open issue's joins it as a facet (surge_incidents.py
treats every open incident alike), so whichever opens first is the one parent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from complaints.cuecache import per_model
from complaints.grouping import (
    GroupBook,
    Grouped,
    GroupStep,
    Incident,
    add_members,
    fingerprint,
    parent_signal,
    stripped,
)
from complaints.lexicon import Lexicon, default_lexicon
from complaints.rules import EmergingPolicy, RuleBook
from complaints.similar import Grouper, Voice
from streams.records import AssessedEvent, GroupMember, IssueVoice, Signal, SignalChange

#: The grouper reads a voice's first characters: a complaint's issue is said early, and a
#: whole call transcript would cost the one-partition stage its speed.
VOICE_CHARS = 300
#: Shared terms a parent's title names.
TITLE_TERMS = 4


def voice_for(contact: AssessedEvent, rules: RuleBook) -> IssueVoice | None:
    """The voice a negative text contact sends to the grouping stage (None: not one)."""
    score = contact.assessment
    if score is None or not score.negative or not score.masked_text.strip():
        return None
    values = {"sku": contact.sku, "batch": contact.batch, "product": contact.product}
    keys = tuple(
        f"{dimension}:{value}"
        for dimension in rules.emerging.keyed_by
        if dimension in rules.surge.dimensions and (value := values.get(dimension))
    )
    return IssueVoice(
        voice_id=contact.assessment_id,
        case_key=contact.case_key,
        customer=contact.customer_id or contact.case_key,
        event_id=contact.event_id,
        occurred_at=contact.occurred_at,
        source=contact.source,
        category=score.category,
        intensity=score.intensity,
        masked_text=score.masked_text[:VOICE_CHARS],
        keys=keys[:8],
    )


@lru_cache(maxsize=4)
def grouper_for(policy: EmergingPolicy, lexicon: Lexicon | None = None) -> Grouper:
    """The grouper of the shipped lexicon, deciding with the rules' thresholds."""
    lexicon = lexicon or default_lexicon()
    reading = lexicon.grouping
    update = {
        "open_customers": policy.open_customers,
        "window": policy.window,
        "growth": policy.growth,
        "forget_after": max(reading.forget_after, policy.window),
    }
    decided = reading.model_copy(update=update)
    return Grouper(lexicon.model_copy(update={"grouping": decided}))


#: `grouper_for(policy)`, found by the policy object itself (hashing the policy, as the cache
#: of grouper_for does, cost more per voice than several steps of the stage).
_grouper: Callable[[EmergingPolicy], Grouper] = per_model(grouper_for)


def on_voice(book: GroupBook, voice: IssueVoice, rules: RuleBook) -> GroupStep:
    """Fold one voice into the book; the parent signals it calls for."""
    policy = rules.emerging
    issues = book.issues
    if not policy.enabled:
        return GroupStep(book, (), Grouped.IGNORED)
    if issues.seen(voice.voice_id):
        return GroupStep(book, (), Grouped.DUPLICATE)
    now = max(voice.occurred_at, issues.watermark or voice.occurred_at)
    grouper = _grouper(policy)
    step = grouper.add(issues.groups, Voice(voice.masked_text, voice.customer, voice.event_id), now)
    issues.remember(voice.voice_id, now)
    for gone in step.dropped:
        issues.tails.pop(gone, None)
        issues.touch(gone)
    book, closed = _close_quiet(book, now, frozenset(step.dropped), rules)
    reason = Grouped.CLOSED if closed else Grouped.IGNORED
    if step.joined is None:  # nothing to group on
        return _done(book, closed, reason)
    group_id = step.joined.group_id
    issues.touch(group_id)
    member = GroupMember(
        case_key=voice.case_key,
        event_id=voice.event_id,
        at=voice.occurred_at,
        intensity=voice.intensity,
        keys=voice.keys,
    )
    held = issues.held
    held.update(book.incidents)
    incident = held.by_name.get(group_id)
    if incident is not None:
        book, signals, why = _grow(book, incident, member, now, rules)
        return _done(book, (*closed, *signals), why if signals or not closed else reason)
    tail = _with_member(issues.tails.get(group_id, ()), member, policy.member_tail)
    issues.tails[group_id] = tail
    holders = held.holders  # cases members of an open incident
    fresh = tuple(m for m in tail if m.at >= now - policy.window and m.case_key not in holders)
    if len(fresh) < policy.open_customers:
        issues.qualified.pop(group_id, None)
        recent = sum(1 for m in tail if m.at >= now - policy.window)
        covered = recent >= policy.open_customers
        quiet = Grouped.COVERED if covered else Grouped.ABSORBED
        return _done(book, closed, reason if closed else quiet)
    since = issues.qualified.setdefault(group_id, now)
    if now - since < policy.keyed_grace and _keyed(fresh, rules):
        return _done(book, closed, reason if closed else Grouped.KEYED)
    book, opened = _open(book, group_id, fresh, now, rules)
    issues.tails.pop(group_id, None)
    issues.qualified.pop(group_id, None)
    return _done(book, (*closed, opened), Grouped.OPENED)


def on_clock(book: GroupBook, now: datetime, rules: RuleBook) -> GroupStep:
    """The clock passed `now`: close the issues no customer joined for `quiet_after`.

    Voices close quiet issues too, but a stream that falls silent sends none: without the
    clock an issue's parent stayed open, holding its members' pushes back, for good."""
    if not rules.emerging.enabled:
        return GroupStep(book, (), Grouped.IGNORED)
    book, closed = _close_quiet(book, now, frozenset(), rules)
    return _done(book, closed, Grouped.CLOSED if closed else Grouped.IGNORED)


def _keyed(members: tuple[GroupMember, ...], rules: RuleBook) -> bool:
    """Most of the customers share a key that names a cause (a batch): a surge's to judge."""
    counts: dict[str, int] = {}
    for member in members:
        for key in member.keys:
            counts[key] = counts.get(key, 0) + 1
    return bool(counts) and max(counts.values()) >= rules.surge.explain_share * len(members)


def _done(book: GroupBook, signals: tuple[Signal, ...], reason: Grouped) -> GroupStep:
    writes = tuple(book.issues.take_changes().items())
    return GroupStep(book, signals, reason, writes)


def _with_member(
    tail: tuple[GroupMember, ...], member: GroupMember, bound: int
) -> tuple[GroupMember, ...]:
    """The tail with `member` last (a case already in it moves up), the newest `bound` kept."""
    kept = tuple(m for m in tail if m.case_key != member.case_key)
    return (*kept, member)[-bound:]


def _open(
    book: GroupBook,
    group_id: str,
    members: tuple[GroupMember, ...],
    now: datetime,
    rules: RuleBook,
) -> tuple[GroupBook, Signal]:
    bound = rules.grouping.max_members
    opened_at = min(m.at for m in members)
    incident = Incident(
        incident_id=group_id,
        kind="issue",
        case_key=group_id[:200],
        opened_at=opened_at,
        updated_at=max(m.at for m in members),
        rule_id=rules.emerging.rule_id,
        members=stripped(members[:bound]),
        member_count=len(members),
    )
    incident = _described(incident, book, rules)
    incident = incident.model_copy(update={"shown": fingerprint(incident, rules)})
    return book.with_incident(incident), parent_signal(incident, SignalChange.RAISED, rules)


def _grow(
    book: GroupBook, incident: Incident, member: GroupMember, now: datetime, rules: RuleBook
) -> tuple[GroupBook, tuple[Signal, ...], Grouped]:
    """A voice of an open issue: a new case joins (unless another incident holds it)."""
    held = book.issues.held
    held.update(book.incidents)
    # In this incident, or held by another (a case not in this one counts others only).
    if member.case_key in held.cases_of(incident) or member.case_key in held.holders:
        return book, (), Grouped.ABSORBED
    members = (*incident.members, *stripped((member,)))[: rules.grouping.max_members]
    incident = incident.model_copy(
        update={
            "members": members,
            "member_count": incident.member_count + 1,
            "updated_at": max(incident.updated_at, member.at),
        }
    )
    incident = _described(incident, book, rules)
    shown = fingerprint(incident, rules)
    if shown == incident.shown:
        return book.with_incident(incident), (), Grouped.ABSORBED
    incident = incident.model_copy(update={"shown": shown})
    signal = parent_signal(incident, SignalChange.RAISED, rules)
    return book.with_incident(incident), (signal,), Grouped.UPDATED


def _described(incident: Incident, book: GroupBook, rules: RuleBook) -> Incident:
    """The terms the group's voices share (things first, then symptoms) and its examples."""
    group = book.issues.groups.groups.get(incident.incident_id)
    if group is None:
        return incident
    terms = sorted(
        (f for f in group.typical if f[:2] in ("n:", "s:")),
        key=lambda f: (f[:2] != "n:", -group.counts.get(f, 0), f),
    )
    words = tuple(f[2:] for f in terms[:TITLE_TERMS])
    if not words:  # a same-words group (no issue term): its most shared bigrams
        bigrams = sorted(
            (f for f in group.typical if f[:2] not in ("n:", "s:")),
            key=lambda f: (-group.counts.get(f, 0), f),
        )
        words = tuple(bigrams[:3])
    return incident.model_copy(
        update={"keywords": words, "examples": tuple(group.examples[: rules.grouping.examples])}
    )


def _close_quiet(
    book: GroupBook, now: datetime, dropped: frozenset[str], rules: RuleBook
) -> tuple[GroupBook, tuple[Signal, ...]]:
    """Close the issues no new customer joined for `quiet_after`, or whose group is gone."""
    quiet = rules.emerging.quiet_after
    held = book.issues.held
    held.update(book.incidents)
    if held.last_issue_update is None or (
        now - held.last_issue_update < quiet and held.by_name.keys().isdisjoint(dropped)
    ):  # no issue open, or none quiet and none forgotten (issue #17: per voice)
        return book, ()
    signals = []
    for incident in [i for i in book.incidents if i.kind == "issue"]:
        ended = incident.incident_id in dropped or now - incident.updated_at >= quiet
        if not ended:
            continue
        book = book.without_incident(incident.incident_id)
        gone = incident.model_copy(update={"updated_at": max(incident.updated_at, now)})
        signals.append(parent_signal(gone, SignalChange.CLEARED, rules))
    return book, tuple(signals)


def absorb_issues(
    book: GroupBook, incident: Incident, rules: RuleBook
) -> tuple[GroupBook, Incident, tuple[Signal, ...]]:
    """Open issues whose customers are mostly this surge's contacts are part of it.

    The issue often opens first (five customers, before the surge's window is judged); when
    the surge's key explains it (30 posts of one batch said as two faults), the issue's parent
    closes listing no members (nothing is handed back: they are the surge's now, as in a
    surge merged into another) and its members join the surge's parent.
    """
    if incident.kind != "surge":
        return book, incident, ()
    named = incident.facet(incident.primary or "")
    covering = incident.cases | (named.cases if named is not None else frozenset())
    closed: list[Signal] = []
    for issue in [i for i in book.incidents if i.kind == "issue"]:
        cases = issue.cases
        if not cases or len(cases & covering) < rules.surge.explain_share * len(cases):
            continue
        book = book.without_incident(issue.incident_id)
        kept, fresh = add_members(incident.members, issue.members, rules.grouping.max_members)
        incident = incident.model_copy(
            update={
                "members": kept,
                "member_count": incident.member_count + fresh,
                "updated_at": max(incident.updated_at, issue.updated_at),
            }
        )
        gone = issue.model_copy(
            update={"members": (), "member_count": 0, "updated_at": incident.updated_at}
        )
        closed.append(parent_signal(gone, SignalChange.CLEARED, rules, merged_into=incident))
    return book, incident, tuple(closed)
