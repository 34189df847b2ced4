"""The scorer's fast paths give the answers of the plain ones (issue #18 round 5, item 3): the C
n-gram table, the needle gates in front of regular expressions, and the shared cues."""

from __future__ import annotations

import random
import re

import pytest

from complaints import textmodel
from complaints.cuecache import cue
from complaints.lexicon import default_lexicon
from complaints.matching import Match, TermIndex, TermTable, gate
from streams.records import Cue

LX = default_lexicon()
#: Characters the lexicons' patterns are made of, and some that are in none of them.
ALPHABET = sorted(
    {ch for p in (*LX.intent.fault, *LX.cues.waiting) for ch in p.pattern if ord(ch) > 0x2E80}
    | set("，。！？ 0123456789abc的了是我你他")
)


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 40))) for _ in range(n)]


TEXTS = [
    "",
    "收到",
    "我买的手机用了三天就坏了，客服一直推来推去，说好的七天无理由退货也不给退！",
    "等了两个小时还没到，第三次打电话了",
    "流量套餐每个月多扣我三十块。",
    *random_texts(300, 7),
]


@pytest.mark.skipif(textmodel.GramTable is None, reason="C kernel not built")
def test_the_c_gram_table_gives_the_python_logit_to_the_last_bit() -> None:
    model = LX.textmodel
    for text in TEXTS:
        s = re.sub(r"\s+", " ", re.sub(r"[0-9]+", "0", text))
        table = textmodel.GramTable(model.orders, model.weights, model.bias)
        assert table.logit(s) == textmodel.logit_py(s, model), text


@pytest.mark.parametrize(
    ("name", "patterns"),
    [
        ("fault", LX.intent.fault),
        ("mishap", LX.intent.mishap),
        ("waiting", LX.cues.waiting),
        ("repeat_contact", LX.cues.repeat_contact),
        *((name, group.patterns) for name, group in LX.grievances.groups.items()),
    ],
)
def test_a_gate_never_hides_a_match(name: str, patterns: tuple[re.Pattern[str], ...]) -> None:
    """Where any pattern matches, the gate finds something (texts built from the patterns'
    own characters, so that many do match)."""
    needles = gate(patterns)
    assert needles is not None, name
    # texts built from the patterns' own characters and the gate's needles, so that many match
    own = sorted({ch for p in patterns for ch in p.pattern if ord(ch) > 0x2E80} | set("，。？0"))
    pieces = own + [re.sub(r"\\(.)", r"\1", n) for n in needles.pattern.split("|")] * 3
    rng = random.Random(name)
    texts = TEXTS + ["".join(rng.choices(pieces, k=rng.randint(1, 10))) for _ in range(5000)]
    matched = 0
    for text in texts:
        if any(p.search(text) for p in patterns):
            matched += 1
            assert needles.search(text), (name, text)
    assert matched > 0


@pytest.mark.parametrize(
    ("pattern", "needles"),
    [
        ("多扣|扣费", {"多扣", "扣费"}),
        ("退[款钱]", {"退款", "退钱"}),
        ("(?:从来)?没(?:有)?通知", {"通知"}),
        ("(?<=[，,])就是", {"就是"}),
        ("[一二两三]+遍", {"遍"}),
    ],
)
def test_needles_come_from_what_every_match_contains(pattern: str, needles: set[str]) -> None:
    found = gate((re.compile(pattern),))
    assert found is not None
    assert set(found.pattern.split("|")) == needles


@pytest.mark.parametrize("pattern", [".*", "[^，]{0,8}", "a?", "(?:x|.)"])
def test_a_pattern_that_requires_nothing_has_no_gate(pattern: str) -> None:
    assert gate((re.compile(pattern),)) is None


def test_a_shared_cue_equals_a_new_one() -> None:
    made = cue(kind="emotion", term="气死", label="anger", weight=1.5)
    assert made == Cue(kind="emotion", term="气死", label="anger", weight=1.5)
    assert cue(kind="emotion", term="气死", label="anger", weight=1.5) is made


def test_a_cue_keeps_the_sign_of_a_zero_weight() -> None:
    """-0.0 == 0.0, but they print differently: they are different cues."""
    neg = cue(kind="t", term="x", label=None, weight=-0.0)
    pos = cue(kind="t", term="x", label=None, weight=0.0)
    assert neg.model_dump_json() != pos.model_dump_json()


@pytest.mark.skipif(TermTable is None, reason="C kernel not built")
def test_the_c_term_table_finds_what_the_python_loop_finds() -> None:
    """Same matches, same order, Latin terms as whole words only, and the loop's quirk at the
    end of a text (a longer length tried on what is left) kept."""
    index = TermIndex(LX.all_terms())
    assert index._table is not None
    rng = random.Random(3)
    terms = sorted(LX.all_terms())
    texts = [*TEXTS, "usb坏了sb", "太慢", "sb", "垃圾"]
    texts += ["".join(rng.choices(terms, k=rng.randint(1, 6))) for _ in range(500)]
    texts += [t[: rng.randint(0, len(t))] for t in texts[-500:]]
    found = 0
    for text in texts:
        fast = index.find_all(text)
        assert fast == index.find_all_py(text), text
        assert all(type(m) is Match for m in fast)
        found += len(fast)
    assert found > 1000
