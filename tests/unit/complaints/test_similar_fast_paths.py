"""The grouper's fast paths (issue #17) decide and store exactly what the plain code did: the
fingerprint, the copy and best-group searches and a group's JSON text, each checked against a
straightforward implementation of the same definition on many texts."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from hashlib import blake2b

import pytest

from complaints.lexicon import default_lexicon
from complaints.normalize import normalize
from complaints.similar import (
    _KEEP,
    _MORE_LISTS,
    _RARE_SHARE,
    _REPOST,
    _SYMPTOM,
    _URL,
    Grouper,
    GroupingState,
    Voice,
    _bands,
    _is_term,
    _majority_bits,
    _may_share,
    _needed,
    _shown,
    group_from_json,
    group_json,
    group_to_json,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUPER = Grouper(default_lexicon())
ALPHABET = "耳机左边没声音空调不制冷奶粉结块快递驿站丢了充电宝鼓包电梯困人航班延误abcxyz"


def _fingerprint_by_columns(core: str, k: int) -> int:
    """The SimHash as first written: each digest's 64 binary digits, counted per column."""
    shingles = {core[i : i + k] for i in range(max(1, len(core) - k + 1))} if core else set()
    if not shingles:
        return 0
    digits = [
        format(int.from_bytes(blake2b(s.encode(), digest_size=8).digest(), "big"), "064b")
        for s in shingles
    ]
    fp = 0
    for position, column in enumerate(zip(*digits, strict=True)):
        if 2 * column.count("1") > len(digits):
            fp |= 1 << (63 - position)
    return fp


def _texts(seed: int, count: int, longest: int) -> list[str]:
    r = random.Random(seed)
    return ["".join(r.choice(ALPHABET) for _ in range(r.randint(0, longest))) for _ in range(count)]


class TestFingerprint:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_equals_the_per_column_count_on_random_texts(self, seed: int) -> None:
        """Short and long texts (over 255 shingles take the other path) give the same bits."""
        k = GROUPER.rules.shingle
        for text in [*_texts(seed, 300, 60), *_texts(seed + 10, 30, 700), "", "a", "ab", "abc"]:
            assert GROUPER.fingerprint(text) == _fingerprint_by_columns(text, k), text

    def test_the_same_after_the_digest_memory_is_cleared(self) -> None:
        """Remembered digests are only a shortcut: a fresh grouper and a full one agree."""
        texts = _texts(5, 400, 120)
        busy = Grouper(default_lexicon())
        for text in texts * 2:
            busy.fingerprint(text)
        fresh = Grouper(default_lexicon())
        assert [busy.fingerprint(t) for t in texts] == [fresh.fingerprint(t) for t in texts]

    @pytest.mark.parametrize("n", [1, 2, 3, 127, 128, 253, 254, 255, 256, 600])
    def test_majority_at_the_byte_boundaries(self, n: int) -> None:
        """Counts up to 254 share a byte without carrying into the next; 255 and up count
        per bit; ties are not a majority."""
        every = int.from_bytes(b"\xff" * 8 * n, "big")
        assert _majority_bits(every, n) == (1 << 64) - 1
        half = int.from_bytes((b"\xff" * 8 + b"\x00" * 8) * (n // 2) + b"\x00" * 8 * (n % 2), "big")
        assert _majority_bits(half, n) == 0  # at most half the words have any bit
        r = random.Random(n)
        words = [r.getrandbits(64) for _ in range(n)]
        joined = int.from_bytes(b"".join(w.to_bytes(8, "big") for w in words), "big")
        expected = sum(1 << b for b in range(64) if 2 * sum(w >> b & 1 for w in words) > n)
        assert _majority_bits(joined, n) == expected


def _copy_of_reference(grouper: Grouper, state: GroupingState, fp: int) -> str | None:
    """The least group id, among groups sharing a band with `fp`, holding a near fingerprint."""
    if fp == 0:
        return None
    limit = grouper.rules.duplicate_bits
    candidates = sorted({g for band in _bands(fp) for g in state.by_band.get(band, ())})
    for gid in candidates:
        if any((fp ^ other).bit_count() <= limit for other in state.groups[gid].fingerprints):
            return gid
    return None


def _best_reference(
    grouper: Grouper, state: GroupingState, feats: dict[str, float]
) -> tuple[str | None, float, tuple[str, ...]]:
    """The best group by the definition: the 32 sharing most features (then by id), each
    judged by shared terms and by the weighted Jaccard of all features."""
    rules = grouper.rules
    hits: dict[str, int] = {}
    for feature in feats:
        for gid in state.by_feature.get(feature, ()):
            hits[gid] = hits.get(gid, 0) + 1
    best: tuple[str | None, float, tuple[str, ...]] = (None, 0.0, ())
    mine = {f for f in feats if _is_term(f)}
    own = sum(feats.values())
    for gid in sorted(hits, key=lambda g: (-hits[g], g))[:32]:
        typical = state.groups[gid].typical
        shared = typical & feats.keys()
        theirs = {f for f in typical if _is_term(f)}
        total = sum(rules.term_weight if _is_term(f) else 1.0 for f in typical)
        both = mine & theirs
        common = len(both) if any(f.startswith(_SYMPTOM) for f in both) else 0
        terms = common / min(len(mine), len(theirs)) if common else 0.0
        inter = sum(feats[f] for f in shared)
        union = own + total - sum(rules.term_weight if _is_term(f) else 1.0 for f in shared)
        words = inter / union if union else 0.0
        similar = (common >= rules.min_shared_terms and terms >= rules.term_similarity) or (
            words >= rules.join_similarity
        )
        score = max(terms, words)
        if similar and score > best[1]:
            best = (gid, score, _shown(shared))
    return best


def _stream(seed: int) -> list[tuple[str, str]]:
    """Same-issue texts, copies of them and unrelated ones, from few and many customers."""
    r = random.Random(seed)
    sayings = [
        "耳机左边没声音",
        "我买的耳机左耳没有声音了",
        "空调开了一下午都不制冷",
        "新装的空调一点都不凉",
        "这批奶粉冲开全是结块",
        "奶粉有结块，还有一股怪味",
        "快递显示已签收，驿站说找不到我的包裹",
        "充电宝鼓包了",
        "小区电梯又困人了",
        "航班延误了五个小时",
    ]
    out = []
    for _ in range(700):
        roll = r.random()
        if roll < 0.5:
            text = r.choice(sayings) + r.choice(["", "！", "，请尽快处理", "[怒]", "，急"])
        elif roll < 0.6 and out:
            text = "转发微博 " + r.choice(out)[0]
        else:
            text = "".join(r.choice(ALPHABET) for _ in range(r.randint(4, 40)))
        out.append((text, f"c{r.randrange(300)}"))
    return out


#: common characters: random texts of them share many bigrams, so the index lists grow long
_COMMON = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能"
    "对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前"
    "面又定见只主没公从"
)


def _crowded_stream(seed: int, count: int = 2000) -> list[tuple[str, str]]:
    """Hundreds of issues, each said again with a few characters changed (near copies) or
    with a suffix, among random texts: over a thousand live groups with long index lists."""
    r = random.Random(seed)
    bases = ["".join(r.choice(_COMMON) for _ in range(r.randint(12, 40))) for _ in range(300)]
    out = []
    for _ in range(count):
        base = r.choice(bases)
        roll = r.random()
        if roll < 0.4:
            chars = list(base)
            for _ in range(r.randint(1, 4)):
                chars[r.randrange(len(chars))] = r.choice(_COMMON)
            text = "".join(chars)
        elif roll < 0.6:
            text = base + r.choice(["", "！", "，请尽快处理", "，急"])
        else:
            text = "".join(r.choice(_COMMON) for _ in range(r.randint(8, 50)))
        out.append((text, f"c{r.randrange(2000)}"))
    return out


def _takes_rare_path(grouper: Grouper, state: GroupingState, feats: dict[str, float]) -> bool:
    """Whether `_best` looks only at the groups of the rarest features (its condition)."""
    mine = grouper._term_features.intersection(feats)
    symptom = any(f.startswith(_SYMPTOM) for f in mine)
    needed = _needed(len(feats), len(mine), symptom, sum(feats.values()), grouper.rules)
    postings = sorted((ids for f in feats if (ids := state.by_feature.get(f))), key=len)
    rare_lists = len(postings) - needed + 1
    listed = sum(map(len, postings))
    rare = sum(map(len, postings[:rare_lists]))
    return needed >= 3 and rare_lists > 0 and _RARE_SHARE * rare < listed


class TestMayShare:
    @pytest.mark.parametrize("seed", range(5))
    def test_every_id_in_enough_lists_is_a_candidate(self, seed: int) -> None:
        """Whatever the lists and the count needed, every id in at least `needed` of them
        is returned, and only ids of the rarest len - needed + 1 + `_MORE_LISTS` lists; on lists
        like the grouper's (many ids in one list only) it leaves most ids out."""
        r = random.Random(seed)
        fewer = 0
        for _ in range(300):
            ids = [f"g{i}" for i in range(r.randint(1, 60))]
            lists = [set(r.sample(ids, r.randint(1, len(ids)))) for _ in range(r.randint(1, 12))]
            lists.sort(key=len)
            needed = r.randint(1, len(lists))
            found = _may_share(lists, needed)
            assert len(found) == len(set(found))
            counts = {g: sum(g in ids for ids in lists) for g in ids}
            assert {g for g, n in counts.items() if n >= needed} <= set(found)
            taken = set().union(*lists[: len(lists) - needed + 1 + _MORE_LISTS])
            assert set(found) <= taken
            fewer += len(found) < len(set().union(*lists[: len(lists) - needed + 1]))
        assert fewer > 30


class TestSearches:
    def test_copy_and_best_group_as_defined_among_many_groups(self) -> None:
        """Among over a thousand groups with long index lists, the copy found (near copies:
        a few bits apart) and the group joined are the ones the plain definitions choose; the
        stream takes the fast paths (the rarest features' groups; copies not bit-identical)."""
        grouper = Grouper(default_lexicon())
        state = GroupingState()
        rare = near = 0
        for k, (text, who) in enumerate(_crowded_stream(0)):
            core = grouper.core(text)
            feats = grouper.features(core)
            if feats:
                fp = grouper.fingerprint(core)
                copy = grouper._copy_of(state, fp)
                assert copy == _copy_of_reference(grouper, state, fp)
                near += copy is not None and fp not in state.groups[copy].fingerprints
                rare += _takes_rare_path(grouper, state, feats)
                assert grouper._best(state, feats) == _best_reference(grouper, state, feats)
            grouper.add(state, Voice(text, who, f"e{k}"), T0 + timedelta(minutes=k))
        assert len(state.groups) > 1000
        assert rare >= 50
        assert near >= 50

    @pytest.mark.parametrize("seed", [0, 1])
    def test_copy_and_best_group_as_defined(self, seed: int) -> None:
        """At every voice of a stream, the copy found and the group joined are the ones the
        plain definitions choose (same id, similarity and shared features)."""
        grouper = Grouper(default_lexicon())
        state = GroupingState()
        for k, (text, who) in enumerate(_stream(seed)):
            core = grouper.core(text)
            feats = grouper.features(core)
            if feats:
                fp = grouper.fingerprint(core)
                assert grouper._copy_of(state, fp) == _copy_of_reference(grouper, state, fp)
                assert grouper._best(state, feats) == _best_reference(grouper, state, feats)
            grouper.add(state, Voice(text, who, f"e{k}"), T0 + timedelta(minutes=k))

    def test_the_remembered_needed_count_is_the_computed_one(self) -> None:
        """Every (features, terms, symptom) asked twice, in a shuffled order, gives what
        `_needed` computes for it (the memo's key holds everything the count depends on)."""
        grouper = Grouper(default_lexicon())
        weight = grouper.rules.term_weight
        cases = [
            (features, terms, symptom, weight * terms + (features - terms))
            for features in range(1, 60)
            for terms in range(min(features, 6) + 1)
            for symptom in (False, True)
        ]
        r = random.Random(4)
        for case in r.sample(cases * 2, 2 * len(cases)):
            assert grouper._needed_for(*case) == _needed(*case, grouper.rules), case


def _plain_json(group: object) -> str:
    return json.dumps(group_to_json(group), ensure_ascii=False, separators=(",", ":"))  # type: ignore[arg-type]


class TestGroupJson:
    def test_equals_the_encoded_dict_at_every_step(self) -> None:
        """Through joins, copies, customers forgotten past max_voices, counts cut to the most
        shared and a reload from JSON, the kept pieces give the text json.dumps gives."""
        lexicon = default_lexicon()
        small = lexicon.grouping.model_copy(update={"max_voices": 5, "max_typical": 4})
        grouper = Grouper(lexicon.model_copy(update={"grouping": small}))
        state = GroupingState()
        checked = 0
        for k, (text, who) in enumerate(_stream(3)):
            step = grouper.add(state, Voice(text, who, f"e{k}"), T0 + timedelta(minutes=k))
            if step.joined is None:
                continue
            group = state.groups[step.joined.group_id]
            assert group_json(group) == _plain_json(group)
            checked += 1
            if k % 50 == 0:  # as after a restart: the group read back from its JSON
                loaded = group_from_json(json.loads(group_json(group)))
                assert group_json(loaded) == _plain_json(group)
                state = GroupingState.from_groups(
                    [loaded if g.id == loaded.id else g for g in state.groups.values()]
                )
        assert checked > 600
        assert any(len(g.customers) == 5 for g in state.groups.values())
        assert any(g._counts_of is g.counts for g in state.groups.values())  # pieces kept


class TestReading:
    def test_the_one_pass_reading_equals_simplifying_then_lower_casing(self) -> None:
        """Traditional characters, capitals, full-width letters and masked numbers read as the
        two passes (t2s, then ASCII lower-case) read them."""
        assert GROUPER._reading is not None  # the shipped t2s table folds into one pass
        texts = [
            "耳機左邊沒聲音 iPhone ＡＢＣ 13800138000",
            "轉發微博 //@某人: 空調不製冷！HTTP://x.cn/AbC",
            "USB-C 充電寶鼓包，訂單 ＃Ａ１２３",
            *_texts(7, 200, 40),
        ]
        for text in texts:
            assert GROUPER.core(text) == _core_two_passes(text), text


def _core_two_passes(text: str) -> str:
    """The core as first written: normalize with the t2s table, then lower-case ASCII."""
    norm = normalize(text, GROUPER._t2s)
    read = _URL.sub(" ", _REPOST.sub(" ", norm.text))
    return "".join(_KEEP.findall(read))
