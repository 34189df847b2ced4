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

import json
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from hashlib import blake2b
from itertools import chain
from json.encoder import encode_basestring
from typing import Any, Literal, NamedTuple, TypeVar

from complaints.lexicon import GroupingRules, Lexicon
from complaints.normalize import normalize, reading_table, table_chars

__all__ = [
    "GroupSignal",
    "Grouper",
    "GroupingState",
    "Joined",
    "Step",
    "Voice",
    "group_from_json",
    "group_json",
    "group_to_json",
]

_REPOST = re.compile(
    r"//@[^:：\s]{1,30}[:：]|转发微博|回复@[^:：\s]{1,30}[:：]|@[^\s:：,，。！？!?]{1,30}"
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_KEEP = re.compile(r"[\u4e00-\u9fffa-z]+")
_BANDS = 8  # SimHash bands of 8 bits: two fingerprints within 7 bits share at least one band
_MAX_FINGERPRINTS = 16
_DIGESTS_KEPT = 1 << 14  # shingle digests remembered (about 3 MB at most)
_MORE_LISTS = 2  # lists beyond the rarest that sharpen the candidates (see Grouper._best)
_RARE_SHARE = 8  # candidates from the rarest features when their lists are 1/8 of all (speed)
_K = TypeVar("_K")
_WORD = (1 << 64) - 1  # n mod 2**64-1 sums the 64-bit words of n (see _majority_bits)
_SYMPTOM = "s:"  # a symptom class (grouping.yaml `symptoms`)
_THING = "n:"  # a thing named (grouping.yaml `things`, domains.yaml nouns); bigrams carry no prefix
_TERMS = (_SYMPTOM, _THING)


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
    # Pieces of its JSON text (`group_json`, not stored; issue #17: a group was re-encoded
    # whole at every voice it took). Each customer's pair and each count's `"feature":n`, kept
    # in the order of `customers` and of `counts` by `Grouper._update` (their only writer; a
    # `counts` replaced by another dict is re-encoded); `typical` as JSON for that frozenset;
    # `fingerprints` and `examples` (appended to only) as JSON for their lengths.
    _customers_json: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _counts_json: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _counts_of: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _typical_json: tuple[frozenset[str], str] | None = field(
        default=None, repr=False, compare=False
    )
    _lists_json: tuple[int, int, str, str] | None = field(default=None, repr=False, compare=False)

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


def group_json(group: _Group) -> str:
    """`group_to_json(group)` as compact JSON text, exactly as ``json.dumps(data,
    ensure_ascii=False, separators=(",", ":"))`` writes it, from pieces kept on the group."""
    # A group that grows keeps its pieces; a new one (most are, and most never take another
    # voice) is encoded in one go and keeps nothing (memory: thousands of groups are held).
    keep = group.texts >= 3 or group.voices >= 3
    pieces = group._counts_json
    if group._counts_of is group.counts and len(pieces) == len(group.counts):
        counts = f"{{{','.join(pieces.values())}}}"
    elif not keep:
        counts = _compact(group.counts)
    else:  # kept as pieces from now on (Grouper._update keeps them in step)
        pieces = {f: f"{_quoted(f)}:{n:d}" for f, n in group.counts.items()}
        group._counts_json, group._counts_of = pieces, group.counts
        counts = f"{{{','.join(pieces.values())}}}"
    typical = group._typical_json
    if typical is None or typical[0] is not group.typical:
        typical = (group.typical, _compact(sorted(group.typical)))
        group._typical_json = typical if keep else None
    lists = group._lists_json
    if lists is None or lists[:2] != (len(group.fingerprints), len(group.examples)):
        fingerprints, examples = group.fingerprints, group.examples
        lists = (len(fingerprints), len(examples), _compact(fingerprints), _compact(examples))
        group._lists_json = lists if keep else None
    pairs = group._customers_json
    customers = group.customers
    if len(pairs) != len(customers) or (
        pairs and next(reversed(pairs)) != next(reversed(customers))
    ):
        pairs = {who: f'[{_quoted(who)},"{at.isoformat()}"]' for who, at in customers.items()}
        group._customers_json = pairs if keep else {}
    return (
        f'{{"id":{_compact(group.id)},"first_seen":"{group.first_seen.isoformat()}",'
        f'"last_seen":"{group.last_seen.isoformat()}","texts":{group.texts:d},'
        f'"voices":{group.voices:d},"copies":{group.copies:d},'
        f'"counts":{counts},"typical":{typical[1]},"fingerprints":{lists[2]},'
        f'"customers":[{",".join(pairs.values())}],"announced":{group.announced:d},'
        f'"examples":{lists[3]}}}'
    )


#: json.dumps(…, ensure_ascii=False, separators=(",", ":")), without a new encoder per call.
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: A string as that encoder writes it (a key or a value): the encoder's own function.
_quoted = encode_basestring


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
        # t2s and lower-casing in one pass, as the scorer reads (None: two passes are not one)
        self._reading = reading_table(self._t2s)
        self._reading_changes = table_chars(self._reading) if self._reading is not None else None
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
        #: every term feature a text can have (bigrams carry no prefix: none is one of them)
        self._term_features = frozenset(chain.from_iterable(self._named.values()))
        #: `_needed` of (features, terms, symptom, own): a few hundred distinct ones recur
        self._needed: dict[tuple[int, int, bool, float], int] = {}
        #: shingle -> its blake2b digest (issue #17: the same shingles recur across voices)
        self._digests: dict[str, bytes] = {}

    # -- reading a text ----------------------------------------------------------------------

    def core(self, text: str) -> str:
        """The words of `text` that carry its meaning: no repost chain, mentions, links,
        digits (order numbers), punctuation or emoji; simplified and lower-case."""
        return self._read(text)[0]

    def _read(self, text: str) -> tuple[str, str]:
        """(core, the text as it may be shown: personal data masked)."""
        norm = (
            normalize(text, self._reading, lowers=True, changes=self._reading_changes)
            if self._reading is not None
            else normalize(text, self._t2s)
        )
        read = _URL.sub(" ", _REPOST.sub(" ", norm.text))
        return "".join(_KEEP.findall(read)), norm.shown

    def features(self, core: str) -> dict[str, float]:
        """Feature -> weight: terms (symptom classes, things named) and bigrams."""
        out: dict[str, float] = {}
        for m in self._terms.finditer(core):
            for feature in self._named[m.group()]:
                out[feature] = self.rules.term_weight
        stop = self._stop  # bigrams carry no prefix: none is a term already in `out`
        grams = [core[i : i + 2] for i in range(len(core) - 1)]
        out.update(dict.fromkeys([gram for gram in grams if gram not in stop], 1.0))
        return out

    def fingerprint(self, core: str) -> int:
        """64-bit SimHash of the character shingles of `core` (0 for an empty text).

        A bit is set where more shingles' 8-byte blake2b digests have it set than not. Counted
        without a loop over bits (issue #17: a 64-character string per shingle and a count per
        bit column was a sixth of the grouping stage): see `_majority_bits`.
        """
        k = self.rules.shingle
        shingles = {core[i : i + k] for i in range(max(1, len(core) - k + 1))} if core else set()
        if not shingles:
            return 0
        known = self._digests
        if len(known) > _DIGESTS_KEPT:  # bounded memory; the digests are the same either way
            known.clear()
        digests = []
        for shingle in shingles:
            digest = known.get(shingle)
            if digest is None:
                digest = known[shingle] = blake2b(shingle.encode(), digest_size=8).digest()
            digests.append(digest)
        return _majority_bits(int.from_bytes(b"".join(digests), "big"), len(shingles))

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
        """The group holding a fingerprint within `duplicate_bits` of `fp` (the least id)."""
        if fp == 0:
            return None
        limit = self.rules.duplicate_bits
        indexed = [ids for band in _bands(fp) if (ids := state.by_band.get(band))]
        if _BANDS - limit >= 2:  # at most `limit` bands differ: a copy's group is in two sets
            # the groups in two or more of the sets: each set against those before it (eight
            # intersections, not the 28 of every pair)
            candidates: set[str] = set()
            before: set[str] = set()
            for ids in indexed:
                candidates |= ids & before
                before |= ids
        else:
            candidates = set().union(*indexed)
        found = None
        groups = state.groups
        for gid in candidates:
            if found is not None and gid >= found:
                continue
            for known in groups[gid].fingerprints:
                if (fp ^ known).bit_count() <= limit:
                    found = gid
                    break
        return found

    def _best(
        self, state: GroupingState, feats: dict[str, float]
    ) -> tuple[str | None, float, tuple[str, ...]]:
        """The group whose typical features `feats` share most, if similar enough.

        The 32 groups sharing most features are judged, most first (then by id). Per group only
        numbers are needed: how many features it shares (`hits`: the index holds the typical
        ones), which of them are terms (few), and its typical weight (cached per group). A
        feature weighs `term_weight` or 1, so the shared weight is counted, not summed over a
        set (equal: exact binary fractions such as 3.0 sum exactly in any order).
        """
        rules = self.rules
        by_feature = state.by_feature
        groups = state.groups
        weight = rules.term_weight
        min_terms, term_similarity = rules.min_shared_terms, rules.term_similarity
        join_similarity = rules.join_similarity
        mine = self._term_features.intersection(feats)  # iterates feats, the fewer
        symptoms = frozenset(f for f in mine if f.startswith(_SYMPTOM))
        own = sum(feats.values())
        # A group sharing fewer than `needed` features cannot be similar, so it cannot be
        # chosen; and the groups that can are ranked before it. Only they are judged.
        needed = self._needed_for(len(feats), len(mine), bool(symptoms), own)
        if needed > len(feats):
            return None, 0.0, ()
        # The index lists of the features (a feature no group has as typical has none).
        postings = [ids for f in feats if (ids := by_feature.get(f))]
        listed = sum(map(len, postings))
        # A group sharing `needed` of the features holds one of any len - needed + 1 of them:
        # the groups of the rarest ones are the only candidates, each counted exactly (the
        # index holds each group's typical features, no more, no less). Worth it when those
        # groups are few next to all the index lists (an intersection costs some counts).
        # Which of equally rare features are taken does not matter: the candidates are
        # counted exactly and ranked by count and id. (`_may_share` narrows them further.)
        rare_lists = len(feats) - needed + 1 - (len(feats) - len(postings))  # beyond the empty
        if rare_lists <= 0:  # fewer features are anyone's typical ones than a group needs
            return None, 0.0, ()
        by_rarity = sorted(postings, key=len) if needed >= 3 else []
        rare = by_rarity[:rare_lists]
        if needed >= 3 and _RARE_SHARE * sum(map(len, rare)) < listed:
            mine_all = frozenset(feats)
            eligible = [
                (-n, gid)
                for gid in _may_share(by_rarity, needed)
                if (n := len(groups[gid].typical & mine_all)) >= needed
            ]
        else:
            hits = Counter(chain.from_iterable(postings))
            eligible = [(-n, gid) for gid, n in hits.items() if n >= needed]
        if not eligible:
            return None, 0.0, ()
        ranked = sorted(eligible)[:32]
        best_id: str | None = None
        best_score = 0.0
        for negative, gid in ranked:
            group = groups[gid]
            if group._profile_of is group.typical:  # as group.profile(weight), inlined
                theirs, total = group._terms, group._weight_total
            else:
                theirs, total = group.profile(weight)
            both = mine & theirs
            shared_terms = len(both)
            if shared_terms and not symptoms.isdisjoint(both):
                terms = shared_terms / min(len(mine), len(theirs))
                by_terms = shared_terms >= min_terms and terms >= term_similarity
            else:  # no symptom in common: no issue in common
                terms = 0.0
                by_terms = min_terms <= 0 and terms >= term_similarity
            inter = weight * shared_terms + (-negative - shared_terms)
            union = own + total - inter
            words = inter / union if union else 0.0
            score = terms if terms > words else words
            if (by_terms or words >= join_similarity) and score > best_score:
                best_id, best_score = gid, score
        if best_id is None:
            return None, 0.0, ()
        return best_id, best_score, _shown(groups[best_id].typical & feats.keys())

    def _needed_for(self, features: int, terms: int, symptom: bool, own: float) -> int:
        """`_needed(…)` for these numbers, remembered (issue #17: a loop per voice)."""
        key = (features, terms, symptom, own)
        needed = self._needed.get(key)
        if needed is None:
            if len(self._needed) >= 4096:  # bounded; the numbers are the same either way
                self._needed.clear()
            needed = self._needed[key] = _needed(features, terms, symptom, own, self.rules)
        return needed

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
        pairs = group._customers_json
        if len(pairs) != len(group.customers):  # not kept alongside: group_json rebuilds it
            pairs.clear()
        group.customers.pop(voice.customer, None)
        group.customers[voice.customer] = now
        if pairs:  # kept in step (group_json starts keeping them once a group grows)
            pairs.pop(voice.customer, None)
            pairs[voice.customer] = f'[{_quoted(voice.customer)},"{now.isoformat()}"]'
        while len(group.customers) > rules.max_voices:
            group.customers.popitem(last=False)
            if pairs:
                del pairs[next(iter(pairs))]
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
        counts = group.counts
        pieces = group._counts_json  # kept alongside when it is `counts`' (see group_json)
        if group._counts_of is counts and len(pieces) == len(counts):
            for feature in feats:
                n = counts[feature] = counts.get(feature, 0) + 1
                pieces[feature] = f"{_quoted(feature)}:{n:d}"
        else:
            for feature in feats:
                counts[feature] = counts.get(feature, 0) + 1
        if len(group.counts) > 4 * rules.max_typical:  # bounded: keep the most shared features
            kept = sorted(group.counts.items(), key=lambda kv: (-kv[1], kv[0]))[
                : 2 * rules.max_typical
            ]
            group.counts = dict(kept)
        floor = max(1.0, rules.typical_share * group.texts)
        shared = [f for f, n in group.counts.items() if n >= floor]
        if len(shared) > rules.max_typical:  # the most shared, terms first, then by name
            counts = group.counts
            ranked = sorted([(-counts[f], f[:2] not in _TERMS, f) for f in shared])
            shared = [f for _, _, f in ranked[: rules.max_typical]]
        typical = frozenset(shared)
        if typical == group.typical:  # the same object stays: its profile stays cached
            return
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


def _needed(features: int, terms: int, symptom: bool, own: float, rules: GroupingRules) -> int:
    """The fewest shared features a group needs to be similar to a text with `features`
    features (`terms` of them terms, a symptom among them or not) weighing `own` in all.

    The same issue takes `min_shared_terms` shared terms (at least one, a symptom); the same
    words take a weighted Jaccard of `join_similarity`: the shared weight (at most
    `term_weight` for each shared term, 1 for each other feature) over the union, which is
    at least `own` (the group's typical weight includes the shared weight). Kept a hair
    below the threshold, so rounding never drops a group that could pass.
    """
    by_terms = max(rules.min_shared_terms, 1) if symptom and terms >= rules.min_shared_terms else 0
    target = rules.join_similarity * own * (1 - 1e-9)
    extra = max(rules.term_weight - 1.0, 0.0)
    shared = 1
    while shared <= features and shared + extra * min(shared, terms) < target:
        if by_terms and shared >= by_terms:
            break
        shared += 1
    return shared


def _may_share(by_rarity: list[set[str]], needed: int) -> list[str]:
    """Every id that is in at least `needed` of the lists (sorted rarest first), and some
    that are not: the ids found more than `more` times among the len - needed + 1 + more
    rarest lists. The other needed - 1 - more lists can hold an id at most that many times,
    so an id in `needed` lists is in more + 1 of those taken (with more = 0: in any of the
    rarest len - needed + 1). Checking `_MORE_LISTS` lists beyond the rarest leaves a few
    ids to count exactly instead of every id of the rarest lists (issue #17: the grouper at
    its 5,000-group cap)."""
    more = max(0, min(_MORE_LISTS, needed - 1))
    taken = by_rarity[: max(0, len(by_rarity) - needed + 1 + more)]
    return [gid for gid, seen in Counter(chain.from_iterable(taken)).items() if seen > more]


def _majority_bits(digests: int, n: int) -> int:
    """The bits set in more than half of the `n` 64-bit words of `digests`.

    For n < 255: the words masked to one bit of every byte (bit p of each) and summed, as
    ``digests mod 2**64-1`` sums the words of a number, give per byte the count of words with
    that bit (at most 254: no carry into the next byte); one table turns a count into 1 or 0.
    """
    if n >= 255:  # longer texts: one masked popcount per bit
        every = int.from_bytes((b"\x00" * 7 + b"\x01") * n, "big")
        return sum(1 << p for p in range(64) if 2 * (digests & (every << p)).bit_count() > n)
    lows = int.from_bytes(b"\x01" * (8 * n), "big")
    over = _majority_table(n)
    fp = 0
    for p in range(8):
        counts = ((digests >> p & lows) % _WORD).to_bytes(8, "little")
        fp |= int.from_bytes(counts.translate(over), "little") << p
    return fp


@lru_cache(maxsize=256)
def _majority_table(n: int) -> bytes:
    """Byte value c -> 1 when c is more than half of `n`, else 0 (a bytes.translate table)."""
    return bytes(1 if 2 * c > n else 0 for c in range(256))


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
    if order is None:  # terms (things, then symptoms) by name, then bigrams by name
        terms = [f[2:] for f in sorted([f for f in features if f[:2] in _TERMS])]
        bigrams = sorted([f for f in features if f[:2] not in _TERMS])
        return tuple(dict.fromkeys(terms + bigrams))
    return tuple(dict.fromkeys(f[2:] if _is_term(f) else f for f in order if f in features))


def _is_term(feature: str) -> bool:
    return feature[:2] in _TERMS
