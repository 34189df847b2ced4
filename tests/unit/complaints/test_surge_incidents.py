"""One cause, one surge: the grouping stage merges the keys of one burst into one incident.

Reports are built by hand, time is an argument (T0), and every table row is one situation."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from complaints.group_stage import advance
from complaints.grouping import Facet, GroupBook, Grouped, GroupStep, Incident
from complaints.rules import load_rules
from streams.records import GroupMember, Signal, SignalChange, SurgeChange, SurgeDetail, SurgeReport
from tests.factories import T0
from tests.unit.complaints.test_engine import _rules_with

RULES = load_rules()
M = timedelta(minutes=1)
OLD = T0 - timedelta(days=30)  # a key kesu has watched for a month
BURST = [f"customer:b{i}" for i in range(10)]
SEVEN = {
    "sku": "SX5-128G",
    "batch": "B2511-07",
    "product": "星耀X5手机",
    "carrier": "顺达快运",
    "region": "华南-广州",
    "category": "product_quality",
    "channel": "social",
}


def _members(
    cases: Iterable[str], at: datetime = T0, intensity: int = 50
) -> tuple[GroupMember, ...]:
    return tuple(
        GroupMember(case_key=c, event_id=f"ev-{c.split(':')[1]}", at=at, intensity=intensity)
        for c in cases
    )


def report(
    key: str,
    cases: Iterable[str] = BURST,
    *,
    change: SurgeChange = SurgeChange.OPENED,
    at: datetime = T0,
    count: int | None = None,
    expected: float = 0.5,
    first_seen: datetime = OLD,
    new_key: bool = False,
    intensity: int = 50,
) -> SurgeReport:
    members = _members(cases, at, intensity)
    dimension, value = key.split(":", 1)
    n = len(members) if count is None else count
    return SurgeReport(
        report_id="r-"
        + hashlib.sha256(
            f"{key}|{change.value}|{at.isoformat()}|{[m.case_key for m in members]}|{n}".encode()
        ).hexdigest()[:16],
        key=key,
        change=change,
        at=at,
        opened_at=T0,
        first_seen=first_seen,
        detail=SurgeDetail(
            dimension=dimension,
            value=value,
            window_start=T0,
            window_minutes=15,
            count=n,
            expected=expected,
            ratio=n / expected,
            p_value=1e-9,
            new_key=new_key,
            keywords=("发热",),
            examples=(f"{value} 发热严重",),
        ),
        variance=expected * 2.5,
        members=members,
    )


class Feed:
    def __init__(self, rules: object = RULES) -> None:
        self.rules = rules
        self.book: GroupBook | None = None
        self.signals: list[Signal] = []
        self.steps: list[GroupStep] = []

    def __call__(self, *items: object) -> list[Signal]:
        new: list[Signal] = []
        for item in items:
            step = advance(self.book, item, self.rules)  # type: ignore[arg-type]
            self.book = step.book
            self.steps.append(step)
            new += step.signals
        self.signals += new
        return new

    def opened(self) -> list[Signal]:
        firsts: dict[str, Signal] = {}
        for s in self.signals:
            firsts.setdefault(s.subject, s)
        return list(firsts.values())

    def latest(self, subject: str | None = None) -> Signal:
        subject = subject or self.signals[-1].subject
        return [s for s in self.signals if s.subject == subject][-1]


class TestOneCauseOneSurge:
    @pytest.mark.parametrize(
        "order",
        [
            list(SEVEN),  # most specific first
            list(reversed(SEVEN)),  # broadest first
            ["region", "channel", "batch", "category", "sku", "carrier", "product"],
        ],
        ids=["specific-first", "broad-first", "mixed"],
    )
    def test_one_burst_seen_along_seven_keys_is_one_incident(self, order: list[str]) -> None:
        feed = Feed()
        feed(*(report(f"{d}:{SEVEN[d]}") for d in order))
        assert len(feed.opened()) == 1, [s.title for s in feed.opened()]
        parent = feed.latest()
        assert parent.surge is not None and (parent.surge.dimension, parent.surge.value) == (
            "sku",
            "SX5-128G",
        ), "named by the most specific key"
        group = parent.group
        assert group is not None and group.member_count == 10
        assert set(group.member_case_keys) == set(BURST)
        assert {(f.dimension, f.explains) for f in group.facets} == {
            (d, True) for d in SEVEN if d != "sku"
        }
        assert (parent.sku, parent.batch, parent.product) == ("SX5-128G", "B2511-07", "星耀X5手机")
        assert parent.title.startswith("集中投诉 · SKU SX5-128G：已 10 条负面反馈")

    def test_a_whole_channel_rising_with_the_burst_is_a_facet_and_brings_no_members(
        self,
    ) -> None:
        feed = Feed()
        background = [f"customer:x{i}" for i in range(6)]
        feed(report("batch:B2511-07"))
        feed(report("channel:social", [*BURST, *background], expected=6.0))
        assert len(feed.opened()) == 1
        group = feed.latest().group
        assert group is not None and group.member_count == 10
        (channel,) = group.facets
        assert (channel.dimension, channel.explains) == ("channel", False)
        assert not set(background) & set(group.member_case_keys)

    def test_two_unrelated_bursts_are_two_incidents(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"), report("batch:AF-202", [f"customer:a{i}" for i in range(8)]))
        assert len(feed.opened()) == 2

    def test_a_key_overlapping_an_incident_but_surging_on_its_own_opens_another(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"))
        own = [f"customer:r{i}" for i in range(20)]
        feed(report("region:华东-上海", [*BURST[:2], *own], expected=0.5))
        assert len(feed.opened()) == 2
        region = feed.latest()
        assert region.surge is not None and region.surge.dimension == "region"
        assert region.group is not None and not set(BURST[:2]) & set(region.group.member_case_keys)


class TestPartitionOrder:
    """Each key reports a burst's contacts in its own partition's order."""

    KEYS = ("sku:SX5-128G", "region:华南-广州", "channel:social")

    def _keyed(self, key: str, cases: list[str], **fields: object) -> SurgeReport:
        plain = report(key, cases, **fields)  # type: ignore[arg-type]
        members = tuple(m.model_copy(update={"keys": self.KEYS}) for m in plain.members)
        return plain.model_copy(update={"members": members})

    def test_keys_whose_first_contacts_differ_are_still_one_burst(self) -> None:
        feed = Feed()
        feed(self._keyed("region:华南-广州", BURST[:5]))
        feed(self._keyed("sku:SX5-128G", BURST[5:]))  # no contact in common yet
        assert len(feed.opened()) == 1
        parent = feed.latest()
        assert parent.surge is not None and parent.surge.dimension == "sku"
        assert parent.group is not None and parent.group.member_count == 10

    def test_an_unrelated_batch_does_not_join_a_channel_incident(self) -> None:
        feed = Feed()
        feed(self._keyed("channel:social", BURST[:6]))
        others = [f"customer:u{i}" for i in range(6)]
        plain = report("batch:AF-202", others)
        keyed = tuple(
            m.model_copy(update={"keys": ("batch:AF-202", "channel:social")}) for m in plain.members
        )
        feed(plain.model_copy(update={"members": keyed}))
        assert len(feed.opened()) == 2


class TestGrowingAndEnding:
    def test_the_naming_keys_new_contacts_join_and_update_the_parent(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"))
        new = feed(
            report(
                "batch:B2511-07", ["customer:n1"], change=SurgeChange.JOINED, at=T0 + M, count=11
            )
        )
        assert len(new) == 1 and new[0].change is SignalChange.RAISED
        assert new[0].group is not None and new[0].group.member_count == 11
        assert "customer:n1" in new[0].group.member_case_keys
        assert "已 11 条" in new[0].title

    def test_a_facets_every_contact_does_not_update_the_parent_but_its_growth_does(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"), report("channel:social", expected=6.0, count=20))
        quiet = feed(
            report(
                "channel:social",
                ["customer:y1"],
                change=SurgeChange.JOINED,
                at=T0 + M,
                expected=6.0,
                count=21,
            )
        )
        assert quiet == [] and feed.steps[-1].reason is Grouped.ABSORBED
        grown = feed(
            report(
                "channel:social",
                ["customer:y2"],
                change=SurgeChange.JOINED,
                at=T0 + 2 * M,
                expected=6.0,
                count=30,
            )
        )
        assert len(grown) == 1
        assert grown[0].group is not None and grown[0].group.member_count == 10

    def test_the_naming_key_going_quiet_closes_the_incident(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"), report("product:星耀X5手机"))
        closed = feed(report("sku:SX5-128G", change=SurgeChange.CLOSED)) + feed(
            report("batch:B2511-07", [], change=SurgeChange.CLOSED, at=T0 + 60 * M)
        )
        assert [s.change for s in closed] == [SignalChange.CLEARED]
        assert closed[0].subject == feed.opened()[0].subject
        assert feed.book is not None and feed.book.incidents == ()
        assert [p.key for p in feed.book.pending] == ["product:星耀X5手机"]

    def test_a_replayed_report_changes_nothing(self) -> None:
        feed = Feed()
        first = report("batch:B2511-07")
        feed(first)
        book = feed.book
        assert feed(first) == [] and feed.steps[-1].reason is Grouped.DUPLICATE
        assert feed.book is not None and book is not None
        assert feed.book.incidents == book.incidents

    def test_the_same_reports_give_the_same_signals(self) -> None:
        """Ids are derived: a rebuilt stage replaying its input sends what it sent before."""
        items = [report(f"{d}:{SEVEN[d]}") for d in SEVEN]
        one, two = Feed(), Feed()
        one(*items)
        two(*items)
        assert [s.signal_id for s in one.signals] == [s.signal_id for s in two.signals]
        assert len({s.signal_id for s in one.signals}) == len(one.signals)

    def test_members_are_bounded_and_counted(self) -> None:
        rules = _rules_with({"grouping": {"max_members": 4}})
        feed = Feed(rules)
        feed(report("batch:B2511-07"))
        group = feed.latest().group
        assert group is not None and group.member_count == 10
        assert len(group.member_case_keys) == len(group.member_event_ids) == 4

    def test_the_book_survives_its_storage_format(self) -> None:
        """The shell stores the book as entries (an index, incidents, held keys, routes)."""
        feed = Feed()
        feed(*(report(f"{d}:{SEVEN[d]}") for d in list(SEVEN)[:-1]))
        quiet = report("batch:AF-202", ["customer:a1", "customer:a2"], change=SurgeChange.JOINED)
        feed(quiet)  # two contacts are no surge: held
        assert feed.book is not None and feed.book.incidents and feed.book.pending
        entries = feed.book.entries()
        assert GroupBook.from_entries(entries.get) == feed.book
        assert GroupBook.from_entries({}.get) == GroupBook()

    def test_a_report_rewrites_only_the_entries_it_changed(self) -> None:
        feed = Feed()
        feed(report("batch:B2511-07"), report("batch:AF-202", [f"customer:a{i}" for i in range(6)]))
        assert feed.book is not None
        before = feed.book.entries()
        feed(report("batch:AF-202", ["customer:a9"], change=SurgeChange.JOINED, at=T0 + M, count=7))
        after = feed.book.entries()
        changed = {k for k in after if before.get(k) != after[k]}
        assert len(changed) == 1 and "AF-202" in changed.pop()

    def test_changes_since_names_exactly_the_changed_and_the_gone_entries(self) -> None:
        """What the shell writes after a step: `changes_since` agrees with comparing every
        entry's text, for a change, for nothing new, and for an empty book."""
        feed = Feed()
        feed(report("batch:B2511-07"), report("batch:AF-202", [f"customer:a{i}" for i in range(6)]))
        assert feed.book is not None
        book = feed.book
        feed(report("batch:AF-202", ["customer:a9"], change=SurgeChange.JOINED, at=T0 + M, count=7))
        assert feed.book is not None
        before, after = book.entries(), feed.book.entries()
        expected = {k: v for k, v in after.items() if before.get(k) != v}
        expected |= {k: None for k in before.keys() - after.keys()}
        assert feed.book.changes_since(book) == expected and expected
        assert book.changes_since(book) == {}
        emptied = GroupBook().changes_since(book)
        assert set(emptied) == set(before) and emptied["index"] == GroupBook().entries()["index"]
        assert {v for k, v in emptied.items() if k != "index"} == {None}

    def test_each_book_names_its_own_parts_though_the_last_are_remembered(self) -> None:
        """Step after step, as the shell asks (this book against the one before), the
        remembered parts are the book's own: a copy with other incidents is not its origin."""
        feed = Feed()
        book = GroupBook()
        keys = [f"{d}:{SEVEN[d]}" for d in SEVEN]
        for k, key in enumerate([*keys, "batch:AF-202", *keys]):
            feed(report(key, [*BURST[: 3 + k % 7], f"customer:n{k}"], at=T0 + k * M, count=9 + k))
            assert feed.book is not None
            before, after = book.entries(), feed.book.entries()
            expected = {k: v for k, v in after.items() if before.get(k) != v}
            expected |= {k: None for k in before.keys() - after.keys()}
            assert feed.book.changes_since(book) == expected, key
            assert feed.book._parts() == feed.book._build_parts()
            book = feed.book
        emptied = book.model_copy(update={"incidents": (), "pending": ()})
        assert emptied.entries() == {"index": emptied._build_parts()["index"].model_dump_json()}


class TestDayOneQuiet:
    """A fresh deployment: every key is new, so new keys may not open incidents on their own."""

    def _fresh(self, key: str, cases: Iterable[str] = BURST, at: datetime = T0) -> SurgeReport:
        return report(key, cases, at=at, first_seen=T0, new_key=True, expected=0.2)

    def test_new_keys_on_a_fresh_deployment_open_nothing(self) -> None:
        feed = Feed()
        feed(*(self._fresh(f"{d}:{SEVEN[d]}") for d in SEVEN))
        assert feed.signals == []
        assert {s.reason for s in feed.steps} == {Grouped.HELD_NEW_KEY}

    def test_an_established_key_opens_it_and_the_held_new_key_names_it(self) -> None:
        feed = Feed()
        feed(self._fresh("batch:B2611-01"))
        opened = feed(report("category:product_quality", [*BURST, "customer:o1"], expected=1.0))
        assert len(opened) == 1
        assert opened[0].surge is not None and opened[0].surge.value == "B2611-01"
        assert opened[0].group is not None and opened[0].group.member_count == 11

    def test_once_kesu_has_watched_long_enough_a_new_key_opens_alone(self) -> None:
        feed = Feed()
        feed(
            report(
                "channel:call",
                ["customer:q1"],
                change=SurgeChange.CLOSED,
                first_seen=T0 - timedelta(days=2),
            )
        )
        opened = feed(self._fresh("batch:B2611-01", at=T0))
        assert len(opened) == 1 and opened[0].rule_id == "surge-new-key"

    @pytest.mark.parametrize(("history", "opens"), [("0s", True), ("1h", False), ("1d", False)])
    def test_how_long_is_a_rule(self, history: str, opens: bool) -> None:
        feed = Feed(_rules_with({"surge": {"new_key_history": history}}))
        feed(
            report(
                "channel:call", ["customer:q1"], change=SurgeChange.CLOSED, first_seen=T0 - 30 * M
            )
        )
        assert bool(feed(self._fresh("batch:B2611-01"))) is opens


def test_every_report_kind_is_handled_in_any_order() -> None:
    """No sequence of reports about one key raises, and each step says what it did."""
    changes = [SurgeChange.OPENED, SurgeChange.JOINED, SurgeChange.GREW, SurgeChange.CLOSED]
    for sequence in itertools.permutations(changes):
        feed = Feed()
        for n, change in enumerate(sequence):
            feed(report("batch:B2511-07", BURST[: n + 5], change=change, at=T0 + n * M))
        assert all(isinstance(s.reason, Grouped) for s in feed.steps)


@pytest.mark.parametrize("seed", range(8))
def test_a_burst_seen_by_the_real_key_stage_in_any_partition_order_is_one_incident(
    seed: int,
) -> None:
    """30 complaints on six keys: each key counts them in its own order (its partition), the
    reports interleave at random; the keys with history open it, the new keys name it."""
    import random

    from complaints.surge import surge_keys
    from complaints.surge_track import SurgeEntry, counted_contact, on_contact
    from streams.records import Category, Source
    from tests.factories import make_assessed

    rules = _rules_with({"surge": {"windows": ["10s", "20s", "40s"]}})
    rng = random.Random(seed)
    fields = {"source": Source.SOCIAL, "region": "华南-广州", "category": Category.PRODUCT_QUALITY}
    history = [
        make_assessed(customer=f"old{n}", at=T0 - timedelta(days=3), **fields) for n in range(3)
    ]
    burst = [
        make_assessed(
            customer=f"b{n}", product="星河X1", sku="SX1-256G", batch="B2511-07", **fields
        )
        for n in range(30)
    ]
    entries: dict[object, SurgeEntry] = {}
    reports: list[SurgeReport] = []

    def count(contacts: list[object], only: object = None) -> list[SurgeReport]:
        out = []
        for contact in contacts:
            for key in surge_keys(contact, rules.surge):  # type: ignore[arg-type]
                if only is not None and key != only:
                    continue
                counted = counted_contact(contact, rules.surge)  # type: ignore[arg-type]
                assert counted is not None
                step = on_contact(entries.get(key, SurgeEntry()), key, counted, rules.surge)
                entries[key] = step.entry
                out += [step.report] if step.report else []
        return out

    reports += count(history)  # type: ignore[arg-type]
    queues = []
    for key in sorted({k for c in burst for k in surge_keys(c, rules.surge)}):
        mine = [c for c in burst if key in surge_keys(c, rules.surge)]
        rng.shuffle(mine)
        queues.append(count(mine, only=key))  # type: ignore[arg-type]
    while any(queues):
        reports.append(rng.choice([q for q in queues if q]).pop(0))
    feed = Feed(rules)
    feed(*reports)
    assert len(feed.opened()) == 1, [s.title for s in feed.opened()]
    parent = feed.latest()
    assert parent.surge is not None and parent.surge.dimension == "sku"
    assert parent.group is not None and parent.group.member_count == 30
    assert set(parent.group.member_case_keys) == {f"customer:b{n}" for n in range(30)}


def test_the_remembered_cases_are_each_members_tuples_own() -> None:
    """An incident or facet grown member by member (new tuples sharing their first members),
    copied, dropped and rebuilt: its cases are always its members' cases."""
    (first,) = report("batch:B2511-07", BURST[:1]).members
    incident = Incident(
        incident_id="i",
        kind="surge",
        case_key="surge:i",
        opened_at=T0,
        updated_at=T0,
        rule_id="surge",
        members=(first,),
    )
    for k in range(300):
        more = _members([f"customer:g{k}"])
        incident = incident.model_copy(update={"members": (*incident.members, *more)[-50:]})
        facet = Facet(
            key="batch:B2511-07",
            detail=report("batch:B2511-07").detail,
            first_seen=T0,
            members=incident.members[k % 7 :],
        )
        assert incident.cases == frozenset(m.case_key for m in incident.members)
        assert facet.cases == frozenset(m.case_key for m in facet.members)
        assert incident.model_copy().cases == incident.cases
