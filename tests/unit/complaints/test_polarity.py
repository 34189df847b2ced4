"""complaints.polarity returns exactly SnowNLP(text).sentiments, on both scoring paths."""

from __future__ import annotations

import csv
import functools
import json
import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snownlp import SnowNLP
from snownlp import normal as snow_normal
from snownlp import seg as snow_seg
from snownlp import sentiment as snow_sentiment

import complaints.polarity as polarity
from complaints.polarity import _backends
from complaints.polarity._modelfiles import read_stopwords
from tests.properties import PROPERTY_EXAMPLES

REPO = Path(__file__).resolve().parents[3]
EVAL_DIR = REPO / ".." / "shared" / "eval"
PER_FILE = 300
SEED = 20240601

#: What ours returns for "" (where SnowNLP raises): snownlp's classifier on no words.
EMPTY_FALLBACK = 0.5262327818078083

ALL_KINDS: tuple[_backends.Kind, ...] = ("c", "python")

# Common characters of complaints, so that generated text also takes the known-character
# branch of the segmenter (most of U+4E00..U+9FFF is unseen by the model).
COMMON = (
    "的了是不我你他好差服务太慢快递客户投诉退款钱没有再也来很非常"
    "态度问题商家东西质量一般还行吧吗呢啊"
)
PUNCT = "，。！？、…～~!?., ;：:“”（）()【】\n\t\u3000 "


@functools.cache
def expected(text: str) -> float:
    """SnowNLP(text).sentiments, or the documented fallback where snownlp raises."""
    try:
        value: float = SnowNLP(text).sentiments
    except ZeroDivisionError:
        # SnowNLP.__init__ builds BM25 over the characters: avgdl = sum / len(doc).
        assert text == ""
        return EMPTY_FALLBACK
    return value


@pytest.fixture(scope="module", params=ALL_KINDS)
def score(request: pytest.FixtureRequest) -> Callable[[str], float]:
    kind = request.param
    if kind not in _backends.AVAILABLE:
        pytest.skip(
            f"the {kind} kernel is not built here (run: python setup.py build_ext --inplace)"
        )
    return _backends.scorer(kind)


def _eval_texts(name: str) -> list[str]:
    path = EVAL_DIR / name
    if name.endswith(".csv"):
        with path.open(encoding="utf-8", newline="") as f:
            texts = [row["review"] for row in csv.DictReader(f)]
    else:
        texts = [item["content"] for item in json.loads(path.read_text(encoding="utf-8"))]
    return random.Random(SEED).sample(texts, PER_FILE)


EVAL_FILES = [
    "waimai_10k.csv",
    "online_shopping_10_cats.csv",
    "smp2020_ewect_usual_eval_labeled.json",
    "smp2020_ewect_usual_test_labeled.json",
]

TRICKY = {
    "empty": "",
    "space": " ",
    "whitespace": " \t\n\r\u3000\x0b\x0c\x1c\u2028 ",
    "stopword only": "的",
    "one known char": "好",
    "unknown chars": "龦龥鿕鿿",  # U+9FA6..: outside snownlp's range, so not segmented
    "unknown in range": "乂乄乆亍亐",
    "unknown between known": "服务乂乄很差亍",
    "unknown then known run": "龥" * 12 + "质量很好" + "龥乂" * 5,
    "latin": "the service was terrible",
    "mixed latin digits": "iPhone13 退货7天 ok?? 客服no回复123",
    "digits": "12315 110 0.5",
    "emoji": "太差了😡😡😡👎 好评👍",
    "repeated punctuation": "！！！！？？？……。。。，，，~~~",
    "punctuation between words": "退款，退款！退款？不退！！",
    "fullwidth": "ＡＢＣ１２３，服务ｏｋ",
    "control chars": "\x00好\x01差\x7f服务\x1b[0m",
    "lone surrogates": "\ud800好\udfff差\udc00",
    "astral": "𪚥𠀀好𝕏差",
    "bom": "\ufeff做父母一定要有刘墉这样的心态",
    "traditional": "這個服務真的很爛，再也不會來了",
    "cjk boundary": "\u4dff\u4e00\u9fa5\u9fa6",
    "ideographic space splits": "很好\u3000很差",
    "newlines": "第一行很好\n第二行很差\r\n第三行一般",
    "long positive run": "好" * 3000,
    "long negative run": "差" * 3000,
    "long mixed 3000": ("快递太慢了，客服态度很差！但是东西质量还不错。" * 150)[:3000],
    "long no punctuation": ("服务态度非常好下次还会再来" * 80)[:1000],
}


class TestIdentity:
    """Every path returns the same float as snownlp, compared with ==."""

    @pytest.mark.parametrize("name", EVAL_FILES)
    def test_eval_sample(self, score: Callable[[str], float], name: str) -> None:
        """A seeded sample of 300 public reviews per file scores exactly as snownlp."""
        if not EVAL_DIR.is_dir():
            pytest.skip(f"evaluation data not found at {EVAL_DIR.resolve()}")
        texts = _eval_texts(name)
        mismatches = [(t[:40], score(t), expected(t)) for t in texts if score(t) != expected(t)]
        assert mismatches == []

    @pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
    def test_tricky(self, score: Callable[[str], float], text: str) -> None:
        """Hand-picked edge cases score exactly as snownlp."""
        assert score(text) == expected(text)

    def test_result_is_a_float(self, score: Callable[[str], float]) -> None:
        """Scores are plain floats in [0, 1]."""
        for text in TRICKY.values():
            value = score(text)
            assert type(value) is float
            assert 0.0 <= value <= 1.0


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(st.text(st.characters(), max_size=60))
def test_any_text_matches(text: str) -> None:
    """Any str (surrogates and control characters included) scores as snownlp, never raising."""
    want = expected(text)
    for kind in _backends.AVAILABLE:
        assert _backends.scorer(kind)(text) == want


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    st.text(
        st.one_of(
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
            st.sampled_from(COMMON),
            st.sampled_from(PUNCT),
            st.characters(max_codepoint=0x7F),
        ),
        max_size=80,
    )
)
def test_cjk_text_matches(text: str) -> None:
    """Chinese-heavy text with punctuation scores as snownlp on every path."""
    want = expected(text)
    for kind in _backends.AVAILABLE:
        assert _backends.scorer(kind)(text) == want


class TestSegmentation:
    """The words the classifier sees are snownlp's."""

    @pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
    def test_segment_matches_snownlp(self, text: str) -> None:
        """Both paths split text into the same words as snownlp.seg.seg."""
        want = snow_seg.seg(text)
        for kind in _backends.AVAILABLE:
            assert _backends.engine(kind).segment(text) == want

    def test_stopwords_match_snownlp(self) -> None:
        """The stop-word list is read exactly as snownlp reads it."""
        assert read_stopwords() == snow_normal.stop


class TestKernelArithmetic:
    """The C kernel's interpolated trigram is snownlp's log_prob, bit for bit."""

    def test_log_prob_matches_snownlp(self) -> None:
        """log_prob agrees with == on seen trigrams, their neighbours, unseen characters and BOS."""
        if "c" not in _backends.AVAILABLE:
            pytest.skip("the c kernel is not built here")
        model = _backends.engine("c")
        snow = snow_seg.segger.segger  # CharacterBasedGenerativeModel
        rng = random.Random(SEED)
        bos = ("", "BOS")

        def queryable(tok: tuple[str, str]) -> bool:
            return tok == bos or (len(tok[0]) == 1 and "\u4e00" <= tok[0] <= "\u9fa5")

        seen = [k for k in snow.tri.d if all(queryable(t) for t in k)]
        triples = rng.sample(seen, 4000)
        chars = [chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(50)] + list(COMMON)
        for a, b, c in rng.sample(seen, 4000):
            other = (rng.choice(chars), rng.choice("bmes"))
            triples += [
                (a, b, (c[0], rng.choice("bmes"))),
                (a, b, other),
                (bos, b, c),
                (bos, bos, c),
            ]
        log_prob = model.log_prob  # type: ignore[attr-defined]
        mismatches = [t for t in triples if log_prob(*t) != snow.log_prob(*t)]
        assert mismatches == []


class TestQuirks:
    """Where snownlp itself misbehaves, ours is defined and documented."""

    def test_snownlp_raises_on_empty_text(self) -> None:
        """SnowNLP('') raises ZeroDivisionError in its BM25 set-up (the reason for the fallback)."""
        with pytest.raises(ZeroDivisionError):
            SnowNLP("").sentiments  # noqa: B018

    def test_empty_text_is_the_class_prior(self, score: Callable[[str], float]) -> None:
        """'' gives snownlp's classifier value for no words, the same as whitespace-only text."""
        assert score("") == EMPTY_FALLBACK
        assert score("") == snow_sentiment.classify("")
        assert score("") == SnowNLP(" ").sentiments

    def test_bayes_overflow_saturates(self, score: Callable[[str], float]) -> None:
        """Very one-sided long text hits snownlp's OverflowError branch and gives exactly 1 or 0."""
        assert score("好" * 3000) == 1.0
        assert score("差" * 3000) == 0.0


class TestPublicApi:
    """sentiment/preload/KERNEL behave as documented."""

    def test_sentiment_uses_the_active_path(self) -> None:
        """sentiment() agrees with snownlp and KERNEL names a built path."""
        polarity.preload()
        assert polarity.KERNEL in _backends.AVAILABLE
        assert polarity.sentiment("服务太差了，再也不来了") == expected("服务太差了，再也不来了")

    def test_deterministic(self) -> None:
        """The same text always gives the same value."""
        text = TRICKY["long mixed 3000"]
        assert len({polarity.sentiment(text) for _ in range(3)}) == 1

    def test_kernel_is_c_when_built(self) -> None:
        """KERNEL is 'c' whenever the extension is importable."""
        assert polarity.KERNEL == ("c" if "c" in _backends.AVAILABLE else "python")

    def test_lazy_load_and_python_fallback_in_a_fresh_process(self) -> None:
        """Without the kernel, a fresh process picks 'python' and loads lazily, without snownlp."""
        code = textwrap.dedent(
            """
            import sys
            from importlib.abc import MetaPathFinder

            class HideKernel(MetaPathFinder):
                def find_spec(self, name, path=None, target=None):
                    if name == "complaints.polarity._kernel":
                        raise ImportError("hidden for the test")
                    return None

            sys.meta_path.insert(0, HideKernel())
            import complaints.polarity as p
            print(p.KERNEL, repr(p.sentiment("服务太差了，再也不来了")), "snownlp" in sys.modules)
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        assert out == ["python", repr(expected("服务太差了，再也不来了")), "False"]
