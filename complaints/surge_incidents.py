"""One cause, one surge (issue #16): the keys of one burst become one incident.

Pure; time comes with the reports. A burst of complaints about one phone batch shows on its
SKU, batch, product, category, region, carrier and channel keys, each judged in its own
partition (complaints/surge.py). Each surging key reports its contacts here; this module
merges the keys whose contacts overlap into one incident:

- a key whose contacts are mostly an open incident's (what is left would not be a surge on its
  own) joins it as a facet; otherwise it opens an incident of its own;
- the incident is named by the most specific key (`surge.specificity`) whose contacts cover
  `surge.explain_share` of its members; that key's new contacts join as members, so the parent
  grows (and is updated) with the burst;
- it closes when that key goes quiet.

Day-one quiet. On a fresh deployment every key is new, and five contacts on channel:social are
25x the new-key prior. A new key (younger than `surge.warmup`) opens an incident on its own only
once kesu has watched for `surge.new_key_history` (since the first window of any key ever
reported); until then it is held, and it can still join — and name — an incident that an
established key (or a logistics wave) opened.
"""

from __future__ import annotations

from complaints.emerging_incidents import absorb_issues
from complaints.grouping import (
    FACET_MEMBERS,
    MAX_PENDING,
    SURGE_CASE_PREFIX,
    Facet,
    GroupBook,
    Grouped,
    GroupStep,
    Incident,
    add_members,
    announce_facets,
    counted,
    explains,
    fingerprint,
    overlap,
    parent_signal,
    remembered,
    same_burst,
    still_surges,
    stripped,
)
from complaints.rules import RuleBook
from streams.records import GroupMember, Signal, SignalChange, SurgeChange, SurgeReport


def on_surge_report(book: GroupBook, report: SurgeReport, rules: RuleBook) -> GroupStep:
    """Fold one key's report into the book; the parent signals it calls for."""
    known = next(
        (
            f
            for f in (*book.pending, *(f for i in book.incidents for f in i.facets))
            if f.key == report.key
        ),
        None,
    )
    if known is not None and report.report_id in known.recent:
        return GroupStep(book, (), Grouped.DUPLICATE)
    watch = report.first_seen
    if book.watch_since is not None:
        watch = min(watch, book.watch_since)
    book = book.model_copy(update={"watch_since": watch})
    incident = next((i for i in book.incidents if i.facet(report.key) is not None), None)
    if report.change is SurgeChange.CLOSED:
        return _close_key(book, incident, report, rules)
    if incident is not None:
        return _update(book, incident, report, rules)
    return _place(book, report, rules)


# -- a key already part of an incident ---------------------------------------------------------


def _facet(report: SurgeReport, known: Facet | None, rules: RuleBook) -> Facet:
    before = known.members if known else ()
    members, fresh = add_members(before, stripped(report.members), FACET_MEMBERS)
    new = tuple(
        m
        for m in report.members
        if (m.case_key, m.event_id) not in {(b.case_key, b.event_id) for b in before}
    )
    return Facet(
        key=report.key,
        detail=report.detail,
        variance=report.variance,
        first_seen=min(report.first_seen, known.first_seen) if known else report.first_seen,
        members=members,
        seen=(known.seen if known else 0) + fresh,
        key_counts=counted(known.key_counts if known else {}, new),
        open=True,
        announced=known.announced if known else 0,
        recent=remembered(known.recent if known else (), report.report_id),
    )


def _update(book: GroupBook, incident: Incident, report: SurgeReport, rules: RuleBook) -> GroupStep:
    facet = _facet(report, incident.facet(report.key), rules)
    incident = _with_facet(incident, facet)
    incident = incident.model_copy(update={"updated_at": max(incident.updated_at, report.at)})
    if report.key == incident.primary:
        incident = _absorb(incident, report.members, facet, rules)
    incident = _name(incident, rules)
    book, incident, merged = _merge(book, incident, rules)
    step = _show(book, incident, rules, Grouped.ABSORBED)
    return step._replace(signals=(*merged, *step.signals))


def _with_facet(incident: Incident, facet: Facet) -> Incident:
    others = tuple(f for f in incident.facets if f.key != facet.key)
    return incident.model_copy(update={"facets": (*others, facet)})


def _absorb(
    incident: Incident, members: tuple[GroupMember, ...], facet: Facet, rules: RuleBook
) -> Incident:
    """The naming key's contacts join as members; its examples and keywords describe it."""
    known = {(m.case_key, m.event_id) for m in incident.members}
    new = tuple(m for m in members if (m.case_key, m.event_id) not in known)
    kept, fresh = add_members(incident.members, stripped(members), rules.grouping.max_members)
    counts = counted(incident.key_counts, new)
    if new and not any(m.keys for m in new):  # a facet's stored members: its counters stand in
        counts = {
            k: max(counts.get(k, 0), n) for k, n in (*counts.items(), *facet.key_counts.items())
        }
    examples = tuple(dict.fromkeys((*facet.detail.examples, *incident.examples)))
    return incident.model_copy(
        update={
            "members": kept,
            "member_count": incident.member_count + fresh,
            "key_counts": counts,
            "examples": examples[: rules.grouping.examples],
            "keywords": facet.detail.keywords or incident.keywords,
        }
    )


def _name(incident: Incident, rules: RuleBook) -> Incident:
    """Name the incident by the most specific key that explains it (surges only)."""
    if incident.kind != "surge":
        return incident
    policy = rules.surge
    candidates = [
        f for f in incident.facets if f.key == incident.primary or explains(f, incident, rules)
    ]
    if not candidates:
        return incident
    best = min(
        candidates,
        key=lambda f: (policy.specificity_rank(f.detail.dimension), f.key != incident.primary),
    )
    if best.key == incident.primary:
        return incident
    incident = incident.model_copy(update={"primary": best.key})
    return _absorb(incident, best.members, best, rules)


def _show(book: GroupBook, incident: Incident, rules: RuleBook, quiet: Grouped) -> GroupStep:
    """Store the incident; a signal only when what the parent shows changed."""
    incident = announce_facets(incident, rules)
    shown = fingerprint(incident, rules)
    if shown == incident.shown:
        return GroupStep(book.with_incident(incident), (), quiet)
    incident = incident.model_copy(update={"shown": shown})
    signal = parent_signal(incident, SignalChange.RAISED, rules)
    return GroupStep(book.with_incident(incident), (signal,), Grouped.UPDATED)


# -- a key in no incident ----------------------------------------------------------------------


def _place(book: GroupBook, report: SurgeReport, rules: RuleBook) -> GroupStep:
    held = next((p for p in book.pending if p.key == report.key), None)
    facet = _facet(report, held, rules)
    book = _without_pending(book, report.key)
    same = next((i for i in book.incidents if same_burst(facet, i, rules)), None)
    if same is not None:
        return _join(book, same, facet, report, rules)
    cases = facet.cases
    best = max(book.incidents, key=lambda i: overlap(cases, i), default=None)
    rest = facet.detail.count
    if best is not None and cases and (shared := overlap(cases, best)):
        rest = round(facet.detail.count * (1 - shared / len(cases)))
        if not still_surges(rest, facet.detail, facet.variance, rules):
            return _join(book, best, facet, report, rules)
    opens = report.change is SurgeChange.OPENED or still_surges(
        facet.detail.count, facet.detail, facet.variance, rules
    )
    if not opens:
        return GroupStep(_with_pending(book, facet), (), Grouped.NOT_A_SURGE)
    if facet.detail.new_key and book.watch_since is not None:
        watched = report.at - book.watch_since
        if watched < rules.surge.new_key_history:
            return GroupStep(_with_pending(book, facet), (), Grouped.HELD_NEW_KEY)
    taken = frozenset().union(*(i.cases for i in book.incidents))
    seen = (*(held.members if held else ()), *report.members)  # all of them: member_count
    members = tuple(m for m in seen if m.case_key not in taken)
    return _open(book, facet, members, report, rules)


def _join(
    book: GroupBook, incident: Incident, facet: Facet, report: SurgeReport, rules: RuleBook
) -> GroupStep:
    incident = _with_facet(incident, facet)
    incident = incident.model_copy(update={"updated_at": max(incident.updated_at, report.at)})
    incident = _name(incident, rules)
    book, incident, merged = _merge(book, incident, rules)
    step = _show(book, incident, rules, Grouped.FACET)
    return step._replace(signals=(*merged, *step.signals), reason=Grouped.FACET)


def _merge(
    book: GroupBook, incident: Incident, rules: RuleBook
) -> tuple[GroupBook, Incident, tuple[Signal, ...]]:
    """Fold other surge incidents whose members are mostly this one's into the older of two.

    Two keys of one burst can open two incidents when their partitions deliver disjoint first
    contacts; as both grow they turn out to be the same contacts. The younger parent closes
    listing no members (they are the older's: nothing is handed back) and its keys become
    facets of the older, which is named again.
    """
    closed: list[Signal] = []
    for other in [i for i in book.incidents if i.kind == "surge"]:
        if other.incident_id == incident.incident_id or incident.kind != "surge":
            continue
        shared = len(other.cases & incident.cases)
        smaller = min(len(other.cases), len(incident.cases))
        if not smaller or shared < rules.surge.explain_share * smaller:
            continue
        older, younger = sorted((incident, other), key=lambda i: (i.opened_at, i.incident_id))
        book = book.without_incident(younger.incident_id)
        kept, fresh = add_members(older.members, younger.members, rules.grouping.max_members)
        facets = {f.key: f for f in (*younger.facets, *older.facets)}
        counts = {
            k: older.key_counts.get(k, 0) + younger.key_counts.get(k, 0)
            for k in {*older.key_counts, *younger.key_counts}
        }
        incident = older.model_copy(
            update={
                "facets": tuple(facets.values()),
                "members": kept,
                "member_count": older.member_count + fresh,
                "key_counts": counts,
                "updated_at": max(older.updated_at, younger.updated_at),
            }
        )
        incident = _name(incident, rules)
        gone = younger.model_copy(update={"members": (), "member_count": 0})
        closed.append(parent_signal(gone, SignalChange.CLEARED, rules, merged_into=incident))
    book, incident, issues = absorb_issues(book, incident, rules)  # emerging issues it explains
    return book, incident, (*closed, *issues)


def _open(
    book: GroupBook,
    facet: Facet,
    members: tuple[GroupMember, ...],
    report: SurgeReport,
    rules: RuleBook,
) -> GroupStep:
    incident = Incident(
        incident_id=f"{report.key}@{report.opened_at.isoformat()}",
        kind="surge",
        case_key=f"{SURGE_CASE_PREFIX}{report.key}"[:200],
        opened_at=report.opened_at,
        updated_at=max(report.at, report.opened_at),
        rule_id="surge-new-key" if facet.detail.new_key else "surge",
        primary=report.key,
        facets=(facet,),
    )
    incident = _absorb(incident, members, facet, rules)
    book, incident = adopt_pending(book, incident, rules)
    incident = _name(incident, rules)
    book, incident, issues = absorb_issues(book, incident, rules)  # emerging issues it explains
    incident = announce_facets(incident, rules)
    incident = incident.model_copy(update={"shown": fingerprint(incident, rules)})
    signal = parent_signal(incident, SignalChange.RAISED, rules)
    return GroupStep(book.with_incident(incident), (signal, *issues), Grouped.OPENED)


def adopt_pending(
    book: GroupBook, incident: Incident, rules: RuleBook
) -> tuple[GroupBook, Incident]:
    """Held keys whose contacts the new incident explains become its facets."""
    adopted = []
    for held in book.pending:
        if same_burst(held, incident, rules):
            adopted.append(held)
            continue
        cases = held.cases
        shared = overlap(cases, incident)
        if not cases or not shared:
            continue
        rest = round(held.detail.count * (1 - shared / len(cases)))
        if not still_surges(rest, held.detail, held.variance, rules):
            adopted.append(held)
    for held in adopted:
        incident = _with_facet(incident, held)
        book = _without_pending(book, held.key)
    return book, incident


def _close_key(
    book: GroupBook, incident: Incident | None, report: SurgeReport, rules: RuleBook
) -> GroupStep:
    if incident is None:
        known = any(p.key == report.key for p in book.pending)
        book = _without_pending(book, report.key)
        return GroupStep(book, (), Grouped.ABSORBED if known else Grouped.IGNORED)
    closed = _facet(report, incident.facet(report.key), rules).model_copy(update={"open": False})
    incident = _with_facet(incident, closed)
    incident = incident.model_copy(update={"updated_at": max(incident.updated_at, report.at)})
    if report.key != incident.primary:
        return GroupStep(book.with_incident(incident), (), Grouped.ABSORBED)
    # The naming key is quiet: the incident ends. Keys still surging go back to the held
    # list, where they open an incident of their own if they are a cause of their own.
    book = book.without_incident(incident.incident_id)
    for other in incident.facets:
        if other.open and other.key != report.key:
            book = _with_pending(book, other)
    signal = parent_signal(incident, SignalChange.CLEARED, rules)
    return GroupStep(book, (signal,), Grouped.CLOSED)


def _without_pending(book: GroupBook, key: str) -> GroupBook:
    return book.model_copy(update={"pending": tuple(p for p in book.pending if p.key != key)})


def _with_pending(book: GroupBook, facet: Facet) -> GroupBook:
    kept = tuple(p for p in book.pending if p.key != facet.key)
    return book.model_copy(update={"pending": (*kept, facet)[-MAX_PENDING:]})
