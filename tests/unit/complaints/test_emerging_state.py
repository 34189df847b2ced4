"""The grouping stage's issue entries (issue #17): written from pieces kept beside the state,
they are the JSON text the plain encoding gives, and entries a worker wrote before still load."""

from __future__ import annotations

import json
import random
from collections import deque
from datetime import UTC, datetime, timedelta

from complaints.emerging_incidents import on_voice
from complaints.emerging_state import (
    GROUP_PREFIX,
    META_ENTRY,
    REMEMBERED_VOICES,
    HeldCases,
    IssueState,
)
from complaints.grouping import GroupBook, Incident
from complaints.rules import load_rules
from complaints.similar import group_to_json
from streams.records import Category, GroupMember, IssueVoice, Source

RULES = load_rules()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

#: Entries as main's code wrote them before issue #17 (three voices, one a repost; the second
#: carries a batch key), copied from its table.
STORED = {
    "issues": '{"recent": ["social:e0", "social:e1", "social:e2"], "watermark": '
    '"2026-03-02T09:02:00+00:00"}',
    "issue|issue:e3adc825c14a58b2": '{"group":{"id":"issue:e3adc825c14a58b2","first_seen":'
    '"2026-03-02T09:00:00+00:00","last_seen":"2026-03-02T09:02:00+00:00","texts":2,"voices":3,'
    '"copies":1,"counts":{"n:耳机":2,"n:左侧":2,"s:无声":2,"耳机":2,"机左":2,"左边":1,"边没":1,'
    '"没声":1,"声音":2,"我买":1,"买的":1,"的耳":1,"左耳":1,"耳没":1,"有声":1,"音了":1},'
    '"typical":["n:左侧","n:耳机","s:无声","买的","声音","左耳","左边","我买","有声","机左",'
    '"没声","的耳","耳机","耳没","边没","音了"],"fingerprints":[10950405363741965776,'
    '14142152687287342088],"customers":[["c0","2026-03-02T09:00:00+00:00"],["c1",'
    '"2026-03-02T09:01:00+00:00"],["c2","2026-03-02T09:02:00+00:00"]],"announced":0,'
    '"examples":["耳机左边没声音","我买的耳机左耳没有声音了"]},"tail":[{"case_key":'
    '"social:weibo:c0","event_id":"e0","at":"2026-03-02T09:00:00Z","intensity":40},'
    '{"case_key":"social:weibo:c1","event_id":"e1","at":"2026-03-02T09:01:00Z","intensity":41,'
    '"keys":["batch:B1"]},{"case_key":"social:weibo:c2","event_id":"e2","at":'
    '"2026-03-02T09:02:00Z","intensity":42}]}',
}


def _voice(k: int, text: str, at: datetime) -> IssueVoice:
    return IssueVoice(
        voice_id=f"social:e{k}",
        case_key=f"social:weibo:c{k}",
        customer=f"c{k}",
        event_id=f"e{k}",
        occurred_at=at,
        source=Source.SOCIAL,
        category=Category.OTHER,
        intensity=40 + k % 60,
        masked_text=text,
    )


def _plain(state: IssueState, name: str) -> str | None:
    """The entry as json.dumps writes the state's data (the format the table holds)."""
    if name == META_ENTRY:
        return json.dumps(
            {
                "recent": list(state.recent),
                "watermark": state.watermark.isoformat() if state.watermark else None,
            },
            ensure_ascii=False,
        )
    group_id = name.removeprefix(GROUP_PREFIX)
    group = state.groups.groups.get(group_id)
    if group is None:
        return None
    data: dict[str, object] = {
        "group": group_to_json(group),
        "tail": [
            m.model_dump(mode="json", exclude_defaults=True) for m in state.tails.get(group_id, ())
        ],
    }
    if group_id in state.qualified:
        data["qualified"] = state.qualified[group_id].isoformat()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _load(table: dict[str, str]) -> GroupBook:
    return GroupBook.from_entries(
        table.get, lambda prefix: [(k, v) for k, v in table.items() if k.startswith(prefix)]
    )


class TestEntries:
    def test_every_write_is_the_plainly_encoded_state(self) -> None:
        """Through groups opening, issues opening and voices forgotten past the bound, each
        entry written is exactly what json.dumps gives for the state at that step."""
        book = GroupBook()
        sayings = ["耳机左边没声音", "我买的耳机左耳没有声音了", "左边耳机不响，才用了三天"]
        writes = 0
        for k in range(REMEMBERED_VOICES + 150):
            text = sayings[k % 3] if k % 4 else f"第{k}号订单的快递三天了还没到"
            step = on_voice(book, _voice(k, text, T0 + timedelta(seconds=30 * k)), RULES)
            for name, text_written in step.writes:
                assert text_written == _plain(step.book.issues, name), name
                writes += 1
            book = step.book
        assert writes > 2 * REMEMBERED_VOICES
        assert len(book.issues.recent) == REMEMBERED_VOICES
        assert any(i.kind == "issue" for i in book.incidents)

    def test_entries_written_before_load_and_read_back_unchanged(self) -> None:
        """A worker restarting on entries the old code wrote reads them and, writing them
        again, writes the very same text; the next voice goes on from them."""
        book = _load(STORED)
        issues = book.issues
        assert issues.entry(META_ENTRY) == STORED["issues"]
        name = "issue|issue:e3adc825c14a58b2"
        assert issues.entry(name) == STORED[name]
        step = on_voice(book, _voice(3, "耳机左耳没有声音", T0 + timedelta(minutes=3)), RULES)
        written = dict(step.writes)
        assert json.loads(written[META_ENTRY])["recent"][-1] == "social:e3"
        group = json.loads(written[name])
        assert group["group"]["voices"] == 4 and len(group["tail"]) == 4
        assert written[name] == _plain(step.book.issues, name)

    def test_recent_filled_directly_is_followed(self) -> None:
        """Ids put into `recent` without `remember` are seen and written all the same."""
        state = IssueState(recent=deque(["social:a", "social:b"], maxlen=REMEMBERED_VOICES))
        assert state.seen("social:a") and not state.seen("social:c")
        state.remember("social:c", T0)
        assert state.entry(META_ENTRY) == _plain(state, META_ENTRY)


def _incident(name: str, cases: list[str]) -> Incident:
    members = tuple(GroupMember(case_key=c, event_id=f"{name}-{c}", at=T0) for c in cases)
    return Incident(
        incident_id=name,
        kind="issue",
        case_key=name,
        opened_at=T0,
        updated_at=T0,
        rule_id="emerging-issue",
        members=members,
        member_count=len(members),
    )


class TestHeldCases:
    def test_follows_incidents_that_come_change_and_go(self) -> None:
        """After each change of the book's incidents, the holders are the recount."""
        a, b = _incident("a", ["x", "y"]), _incident("b", ["y", "z"])
        a = a.model_copy(update={"updated_at": T0 + timedelta(minutes=5)})
        b2 = b.model_copy(
            update={
                "members": (*b.members, *_incident("b", ["w"]).members),
                "updated_at": T0 + timedelta(minutes=9),
            }
        )
        held = HeldCases()
        for incidents in [(a,), (a, b), (a, b2), (b2,), (), (b, a)]:
            held.update(incidents)
            expected: dict[str, int] = {}
            for incident in incidents:
                for case in incident.cases:
                    expected[case] = expected.get(case, 0) + 1
            assert held.holders == expected
            assert held.by_name == {i.incident_id: i for i in incidents}
            assert all(held.cases_of(i) == i.cases for i in incidents)
            assert held.last_issue_update == min((i.updated_at for i in incidents), default=None)

    def test_follows_a_random_book_as_a_recount_does(self) -> None:
        """Incidents of every kind opened, grown, replaced by id, closed (the oldest issue
        too) and repeated: by name, holders and the least issue update are the recount's."""
        r = random.Random(11)
        cases = [f"c{i}" for i in range(12)]
        incidents: list[Incident] = []
        held = HeldCases()
        for step in range(400):
            roll = r.random()
            if roll < 0.35 or not incidents:  # open one (sometimes under a name in use)
                name = f"i{r.randrange(30)}"
                incident = _incident(name, r.sample(cases, r.randint(0, 4)))
                kind = r.choice(["issue", "issue", "surge", "wave"])
                at = T0 + timedelta(minutes=r.randrange(60))
                incidents.append(incident.model_copy(update={"kind": kind, "updated_at": at}))
            elif roll < 0.7:  # one changes: a new object under its name
                k = r.randrange(len(incidents))
                at = incidents[k].updated_at + timedelta(minutes=r.randrange(-5, 10))
                more = _incident(incidents[k].incident_id, r.sample(cases, 1)).members
                kept = incidents[k].members[r.randrange(2) :]  # it may lose one, too
                members = (*kept, *more)
                incidents[k] = incidents[k].model_copy(
                    update={"members": members, "updated_at": at}
                )
            elif roll < 0.95:  # one closes, often the least recently updated
                oldest = min(range(len(incidents)), key=lambda k: incidents[k].updated_at)
                incidents.pop(oldest if r.random() < 0.5 else r.randrange(len(incidents)))
            else:  # the same object twice
                incidents.append(r.choice(incidents))
            book = tuple(incidents)
            held.update(book)
            expected: dict[str, int] = {}
            for incident in {id(i): i for i in book}.values():
                for case in incident.cases:
                    expected[case] = expected.get(case, 0) + 1
            assert held.holders == expected, step
            by_name = {i.incident_id: i for i in book}
            assert held.by_name.keys() == by_name.keys(), step
            assert all(held.by_name[name] is i for name, i in by_name.items()), step
            issues = [i.updated_at for i in book if i.kind == "issue"]
            assert held.last_issue_update == min(issues, default=None), step
