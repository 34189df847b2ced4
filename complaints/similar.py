"""Groups complaints that say the same thing (相似合并, issue #18): near-duplicates and same-issue
texts from many customers become one group, and a group that enough customers joined within a
window is an emerging issue — a signal for the engine, like a surge, for issues no batch or region
key links ("耳机左边没声音" from forty customers). A repost storm of a hundred copies is one group.

Pure: no I/O, no clock (``now`` is an argument), no randomness; ids are derived from the first
voice, so a replay of the same stream builds the same groups. Bounded: at most `max_groups`
groups (the least recently seen go first), each with at most `max_voices` customers, a bounded
set of typical features and of fingerprints. Explainable: a join says which features it shared,
a signal lists the features that link its voices.

    grouper = Grouper(default_lexicon())
    state = GroupingState()
    step = grouper.add(state, Voice(text, customer, event_id), now)   # state is updated in place
    step.joined.shared   # ("耳机", "无声", "左侧", …): why it joined
    step.signal          # GroupSignal when the group opened or grew, else None

How a text is read (grouping.yaml): its issue terms (a symptom in any of its forms counts as
its canonical name: 没声音 / 不响 / 听不到 -> 无声), the product and fee nouns of domains.yaml,
and the character bigrams of the rest; a 64-bit SimHash of its character shingles tells a copy
(a repost) from a new voice. It joins the group it resembles most — the same issue (at least
`min_shared_terms` terms in common and a Jaccard of terms >= `term_similarity`: 耳机 + 无声 +
左侧) or the same words (weighted Jaccard of all features >= `join_similarity`) — or starts a
new one.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import blake2b
from typing import Any, Literal, NamedTuple, TypeVar

from complaints.lexicon import GroupingRules, Lexicon
from complaints.normalize import normalize

__all__ = [
    "GroupSignal",
    "Grouper",
    "GroupingState",
    "Joined",
    "Step",
    "Voice",
    "group_from_json",
    "group_to_json",
]

_REPOST = re.compile(
    r"//@[^:：\s]{1,30}[:：]|转发微博|回复@[^:：\s]{1,30}[:：]|@[^\s:：,，。！？!?]{1,30}"
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_KEEP = re.compile(r"[\u4e00-\u9fffa-z]+")
_BANDS = 8  # SimHash bands of 8 bits: two fingerprints within 7 bits share at least one band
_MAX_FINGERPRINTS = 16
_K = TypeVar("_K")
_SYMPTOM = "s:"  # a symptom class (grouping.yaml `symptoms`)
_THING = "n:"  # a thing named (grouping.yaml `things`, domains.yaml nouns); bigrams carry no prefix


class Voice(NamedTuple):
    """One customer's text to group (Assessment.masked_text; it is masked again before any of
    it is kept as an example)."""

    text: str
    customer: str  # who said it: distinct customers make an emerging issue
    event_id: str


class Joined(NamedTuple):
    group_id: str
    new_group: bool
    copy: bool  # a near-duplicate of a voice already in the group (a repost)
    similarity: float  # Jaccard of terms, or weighted Jaccard of all features, whichever is
    # higher, with the group's typical features (1.0 for a copy or a new group)
    shared: tuple[str, ...]  # the features it shared with the group, terms first


class GroupSignal(NamedTuple):
    """An emerging issue opened, or grew by `growth` since it was last announced."""

    group_id: str
    change: Literal["opened", "grew"]
    at: datetime
    first_seen: datetime
    customers: int  # distinct customers within the window
    voices: int  # texts joined in all, copies included
    copies: int  # of which near-duplicates (reposts)
    linked_by: tuple[str, ...]  # the typical features of the group, terms first
    examples: tuple[str, ...]  # masked texts, first ones first


class Step(NamedTuple):
    state: GroupingState
    joined: Joined | None  # None for a text with nothing to group on (no features)
    signal: GroupSignal | None
    dropped: tuple[str, ...] = ()  # groups forgotten at this step (delete them from a table)


@dataclass
class _Group:
    id: str
    first_seen: datetime
    last_seen: datetime
    texts: int = 0  # distinct texts (not copies)
    voices: int = 0
    copies: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # feature -> distinct texts having it
    typical: frozenset[str] = frozenset()
    fingerprints: list[int] = field(default_factory=list)
    customers: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    announced: int = 0  # customers when last announced; 0: not an emerging issue yet
    examples: list[str] = field(default_factory=list)
    # Derived from `typical` (not stored): its terms and the sum of its features' weights,
    # recomputed only when `typical` is replaced (issue #17: every candidate re-derived them).
    _profile_of: frozenset[str] | None = field(default=None, repr=False, compare=False)
    _terms: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _weight_total: float = field(default=0.0, repr=False, compare=False)

    def profile(self, term_weight: float) -> tuple[frozenset[str], float]:
        """The typical features' terms and their total weight (terms weigh `term_weight`)."""
        if self._profile_of is not self.typical:
            self._terms = frozenset(f for f in self.typical if _is_term(f))
            self._weight_total = term_weight * len(self._terms) + (
                len(self.typical) - len(self._terms)
            )
            self._profile_of = self.typical
        return self._terms, self._weight_total


@dataclass
class GroupingState:
    """Every live group, least recently seen first, and the indexes that find candidates.

    The groups are the state; the indexes are derived. To keep the state in a table, store each
    changed group (``group_to_json``, keyed by ``Joined.group_id``), delete ``Step.dropped``, and
    on recovery ``GroupingState.from_groups(group_from_json(v) for v in table.values())``.
    """

    groups: OrderedDict[str, _Group] = field(default_factory=OrderedDict)
    by_feature: dict[str, set[str]] = field(default_factory=dict)
    by_band: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    @classmethod
    def from_groups(cls, groups: Iterable[_Group]) -> GroupingState:
        """A state from stored groups, least recently seen first, with its indexes rebuilt."""
        state = cls()
        for group in sorted(groups, key=lambda g: (g.last_seen, g.id)):
            state.groups[group.id] = group
            for feature in group.typical:
                state.by_feature.setdefault(feature, set()).add(group.id)
            for fp in group.fingerprints:
                for band in _bands(fp):
                    state.by_band.setdefault(band, set()).add(group.id)
        return state


def group_to_json(group: _Group) -> dict[str, Any]:
    """A group as plain JSON data (datetimes as ISO 8601 strings)."""
    return {
        "id": group.id,
        "first_seen": group.first_seen.isoformat(),
        "last_seen": group.last_seen.isoformat(),
        "texts": group.texts,
        "voices": group.voices,
        "copies": group.copies,
        "counts": group.counts,
        "typical": sorted(group.typical),
        "fingerprints": group.fingerprints,
        "customers": [[who, at.isoformat()] for who, at in group.customers.items()],
        "announced": group.announced,
        "examples": group.examples,
    }


def group_from_json(data: dict[str, Any]) -> _Group:
    """The group `group_to_json` wrote."""
    return _Group(
        id=data["id"],
        first_seen=datetime.fromisoformat(data["first_seen"]),
        last_seen=datetime.fromisoformat(data["last_seen"]),
        texts=data["texts"],
        voices=data["voices"],
        copies=data["copies"],
        counts=dict(data["counts"]),
        typical=frozenset(data["typical"]),
        fingerprints=list(data["fingerprints"]),
        customers=OrderedDict((who, datetime.fromisoformat(at)) for who, at in data["customers"]),
        announced=data["announced"],
        examples=list(data["examples"]),
    )


class Grouper:
    """grouping.yaml and the nouns of domains.yaml, prepared once."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.rules: GroupingRules = lexicon.grouping
        self._t2s = str.maketrans(lexicon.t2s.chars)
        named: dict[str, str] = {}  # surface form -> feature (prefix + class name)
        for name, words in self.rules.symptoms.items():
            for word in words:
                named[word] = _SYMPTOM + name
        for name, words in self.rules.things.items():
            for word in words:
                named.setdefault(word, _THING + name)
        for noun in lexicon.domains.nouns():
            named.setdefault(noun, _THING + noun)
        # A thing also names the shorter things it contains (蓝牙耳机 -> 耳机, 宽带费 -> 宽带).
        self._named = {
            form: frozenset(
                {feature}
                | {
                    other
                    for word, other in named.items()
                    if word != form and word in form and other.startswith(_THING)
                }
            )
            for form, feature in named.items()
        }
        self._terms = re.compile(
            "|".join(re.escape(w) for w in sorted(named, key=len, reverse=True))
        )
        self._stop = frozenset(self.rules.stop_bigrams)

    # -- reading a text ----------------------------------------------------------------------

    def core(self, text: str) -> str:
        """The words of `text` that carry its meaning: no repost chain, mentions, links,
        digits (order numbers), punctuation or emoji; simplified and lower-case."""
        return self._read(text)[0]

    def _read(self, text: str) -> tuple[str, str]:
        """(core, the text as it may be shown: personal data masked)."""
        norm = normalize(text, self._t2s)
        read = _URL.sub(" ", _REPOST.sub(" ", norm.text))
        return "".join(_KEEP.findall(read)), norm.shown

    def features(self, core: str) -> dict[str, float]:
        """Feature -> weight: terms (symptom classes, things named) and bigrams."""
        out: dict[str, float] = {}
        for m in self._terms.finditer(core):
            for feature in self._named[m.group()]:
                out[feature] = self.rules.term_weight
        for i in range(len(core) - 1):
            gram = core[i : i + 2]
            if gram not in self._stop:
                out.setdefault(gram, 1.0)
        return out

    def fingerprint(self, core: str) -> int:
        """64-bit SimHash of the character shingles of `core` (0 for an empty text)."""
        k = self.rules.shingle
        shingles = {core[i : i + k] for i in range(max(1, len(core) - k + 1))} if core else set()
        if not shingles:
            return 0
        # A bit is set where more shingles' hashes have it set than not: counted per bit
        # column of the hashes' binary digits (bit 63 first), not per shingle and bit.
        digits = [
            format(int.from_bytes(blake2b(s.encode(), digest_size=8).digest(), "big"), "064b")
            for s in shingles
        ]
        half = len(digits)
        fp = 0
        for position, column in enumerate(zip(*digits, strict=True)):
            if 2 * column.count("1") > half:
                fp |= 1 << (63 - position)
        return fp

    # -- the step ----------------------------------------------------------------------------

    def add(self, state: GroupingState, voice: Voice, now: datetime) -> Step:
        """Place one voice at `now`: join a group or start one; say if an issue emerged.

        `state` is updated in place and returned (bytewax's ``(state, value) -> (state, out)``).
        """
        state.dropped.clear()
        self._forget(state, now)
        core, shown = self._read(voice.text)
        feats = self.features(core)
        if not feats:
            return Step(state, None, None, tuple(state.dropped))
        fp = self.fingerprint(core)
        copy_of = self._copy_of(state, fp)
        if copy_of is not None:
            group = state.groups[copy_of]
            joined = Joined(group.id, False, True, 1.0, _shown(group.typical & feats.keys()))
        else:
            best, similarity, shared = self._best(state, feats)
            if best is None:
                group = _Group(_group_id(voice, now), now, now)
                state.groups[group.id] = group
                joined = Joined(group.id, True, False, 1.0, ())
            else:
                group = state.groups[best]
                joined = Joined(group.id, False, False, round(similarity, 4), shared)
        self._update(state, group, voice._replace(text=shown), feats, fp, joined.copy, now)
        self._forget(state, now)
        return Step(state, joined, self._signal(group, now), tuple(state.dropped))

    def _forget(self, state: GroupingState, now: datetime) -> None:
        """Drop the groups unseen for `forget_after`, then the least recently seen beyond
        `max_groups` (the group just placed is the most recent one: it stays)."""
        rules = self.rules
        while state.groups:
            oldest = next(iter(state.groups.values()))
            if (
                oldest.last_seen >= now - rules.forget_after
                and len(state.groups) <= rules.max_groups
            ):
                break
            self._drop(state, oldest)

    def _drop(self, state: GroupingState, group: _Group) -> None:
        del state.groups[group.id]
        state.dropped.append(group.id)
        for feature in group.typical:
            _unindex(state.by_feature, feature, group.id)
        for fp in group.fingerprints:
            for band in _bands(fp):
                _unindex(state.by_band, band, group.id)

    def _copy_of(self, state: GroupingState, fp: int) -> str | None:
        if fp == 0:
            return None
        limit = self.rules.duplicate_bits
        candidates = sorted({g for band in _bands(fp) for g in state.by_band.get(band, ())})
        for gid in candidates:
            if any((fp ^ other).bit_count() <= limit for other in state.groups[gid].fingerprints):
                return gid
        return None

    def _best(
        self, state: GroupingState, feats: dict[str, float]
    ) -> tuple[str | None, float, tuple[str, ...]]:
        """The group whose typical features `feats` share most, if similar enough."""
        rules = self.rules
        hits: dict[str, int] = {}
        for feature in feats:
            for gid in state.by_feature.get(feature, ()):
                hits[gid] = hits.get(gid, 0) + 1
        best: tuple[str | None, float, tuple[str, ...]] = (None, 0.0, ())
        mine = {f for f in feats if _is_term(f)}
        own = sum(feats.values())
        for gid in sorted(hits, key=lambda g: (-hits[g], g))[:32]:
            group = state.groups[gid]
            typical = group.typical
            shared = typical & feats.keys()
            theirs, total = group.profile(rules.term_weight)
            both = mine & theirs
            common = len(both) if any(f.startswith(_SYMPTOM) for f in both) else 0
            terms = common / min(len(mine), len(theirs)) if common else 0.0
            inter = sum(feats[f] for f in shared)
            union = own + total - sum(self._weight(f) for f in shared)
            words = inter / union if union else 0.0
            similar = (common >= rules.min_shared_terms and terms >= rules.term_similarity) or (
                words >= rules.join_similarity
            )
            score = max(terms, words)
            if similar and score > best[1]:
                best = (gid, score, _shown(shared))
        return best

    def _weight(self, feature: str) -> float:
        return self.rules.term_weight if _is_term(feature) else 1.0

    def _update(
        self,
        state: GroupingState,
        group: _Group,
        voice: Voice,
        feats: dict[str, float],
        fp: int,
        copy: bool,
        now: datetime,
    ) -> None:
        rules = self.rules
        group.last_seen = now
        state.groups.move_to_end(group.id)
        group.voices += 1
        group.customers.pop(voice.customer, None)
        group.customers[voice.customer] = now
        while len(group.customers) > rules.max_voices:
            group.customers.popitem(last=False)
        if copy:
            group.copies += 1
            return
        group.texts += 1
        if len(group.examples) < rules.examples:
            group.examples.append(voice.text[:140])
        if fp and len(group.fingerprints) < _MAX_FINGERPRINTS:
            group.fingerprints.append(fp)
            for band in _bands(fp):
                state.by_band.setdefault(band, set()).add(group.id)
        for feature in feats:
            group.counts[feature] = group.counts.get(feature, 0) + 1
        if len(group.counts) > 4 * rules.max_typical:  # bounded: keep the most shared features
            kept = sorted(group.counts.items(), key=lambda kv: (-kv[1], kv[0]))[
                : 2 * rules.max_typical
            ]
            group.counts = dict(kept)
        floor = max(1.0, rules.typical_share * group.texts)
        ranked = sorted(
            (f for f, n in group.counts.items() if n >= floor),
            key=lambda f: (-group.counts[f], not _is_term(f), f),
        )
        typical = frozenset(ranked[: rules.max_typical])
        for feature in group.typical - typical:
            _unindex(state.by_feature, feature, group.id)
        for feature in typical - group.typical:
            state.by_feature.setdefault(feature, set()).add(group.id)
        group.typical = typical

    def _signal(self, group: _Group, now: datetime) -> GroupSignal | None:
        rules = self.rules
        since = now - rules.window
        customers = sum(1 for at in group.customers.values() if at >= since)
        if group.announced == 0 and customers >= rules.open_customers:
            change: Literal["opened", "grew"] = "opened"
        elif group.announced and customers >= group.announced * rules.growth:
            change = "grew"
        else:
            return None
        group.announced = customers
        ranked = sorted(group.typical, key=lambda f: (-group.counts.get(f, 0), not _is_term(f), f))
        return GroupSignal(
            group.id,
            change,
            now,
            group.first_seen,
            customers,
            group.voices,
            group.copies,
            _shown(frozenset(ranked[:12]), ranked),
            tuple(group.examples),
        )


def _group_id(voice: Voice, now: datetime) -> str:
    digest = blake2b(f"{voice.event_id}|{now.isoformat()}".encode(), digest_size=8).hexdigest()
    return f"issue:{digest}"


def _bands(fp: int) -> list[tuple[int, int]]:
    return [(k, fp >> (8 * k) & 0xFF) for k in range(_BANDS)]


def _unindex(index: dict[_K, set[str]], key: _K, gid: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(gid)
        if not ids:
            del index[key]


def _shown(features: frozenset[str] | set[str], order: list[str] | None = None) -> tuple[str, ...]:
    """Features as a person reads them: terms first (without their prefix), then bigrams."""
    ranked = order if order is not None else sorted(features, key=lambda f: (not _is_term(f), f))
    return tuple(dict.fromkeys(f[2:] if _is_term(f) else f for f in ranked if f in features))


def _is_term(feature: str) -> bool:
    return feature[:2] in (_SYMPTOM, _THING)
