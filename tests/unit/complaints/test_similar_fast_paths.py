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
    _REPOST,
    _SYMPTOM,
    _URL,
    Grouper,
    GroupingState,
    Voice,
    _bands,
    _is_term,
    _majority_bits,
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


class TestSearches:
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
