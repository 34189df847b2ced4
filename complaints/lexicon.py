"""The scorer's data: word lists, patterns, weights and thresholds, as validated models.

The only module of the scorer that reads files (the YAML under complaints/lexicons/, once, at
load; never while scoring). A broken file fails at load with the file and the field's path,
e.g. ``scoring.yaml: negativity.threshold: Input should be less than 1``.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from complaints.durations import Duration
from streams.records import Category, Emotion, Source

DEFAULT_DIR = Path(__file__).resolve().parent / "lexicons"

#: Emotions that cues can point to (neutral and positive are decided from polarity instead).
NEGATIVE_EMOTIONS: tuple[Emotion, ...] = (
    Emotion.ANGER,
    Emotion.DISAPPOINTMENT,
    Emotion.APATHY,
    Emotion.ANXIETY,
    Emotion.HELPLESSNESS,
)

Version = Annotated[str, Field(pattern=r"^\d{4}\.\d{2}\.\d+$")]
Term = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^\S+$")]
Weight = Annotated[float, Field(gt=0, le=5)]
Factor = Annotated[float, Field(ge=0, le=3)]
Terms = dict[Term, Weight]

#: Signals the emotion and intensity blocks may name (see complaints/signals.py).
Signal = Literal[
    "insult",
    "threat",
    "repeat_contact",
    "waiting",
    "exclamation",
    "exclamation_run",
    "question",
    "second_person",
    "question_run",
    "emoji",
    "emoji_anger",
    "emoji_sadness",
    "emoji_fear",
    "emoji_sarcasm",
    "emoji_positive",
    "ellipsis_run",
    "sarcasm",
    "inquiry",
    "service_speech",
    "speech_fast",
    "speech_very_fast",
    "distancing",
    "intensifier",
    "strong_term",
    "demand",
    "grievance",
]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _File(Frozen):
    """What every lexicon file starts with: its version and where its content came from."""

    version: Version
    source: tuple[str, ...] = Field(min_length=1)


# -- polarity.yaml ---------------------------------------------------------------------------


class PolarityTerms(_File):
    negative: Terms = Field(min_length=1)
    positive: Terms = Field(min_length=1)
    neutral: tuple[Term, ...]
    negators: tuple[Term, ...] = Field(min_length=1)
    negated_positive_factor: Factor
    negated_negative_factor: Factor
    degree: dict[Term, Factor]
    contrast_markers: tuple[re.Pattern[str], ...]
    concession_markers: tuple[Term, ...]
    before_contrast_factor: Factor
    after_contrast_factor: Factor
    sarcasm_quotes: tuple[Annotated[str, Field(min_length=2, max_length=2)], ...]

    @model_validator(mode="after")
    def _one_direction_per_term(self) -> Self:
        both = sorted(set(self.negative) & set(self.positive))
        if both:
            raise ValueError(f"terms both negative and positive: {', '.join(both)}")
        return self


# -- emotions.yaml, categories.yaml -----------------------------------------------------------


class EmotionCues(_File):
    emotions: dict[Emotion, Terms]

    @model_validator(mode="after")
    def _negative_types_only(self) -> Self:
        if set(self.emotions) != set(NEGATIVE_EMOTIONS):
            raise ValueError(
                "emotions must list exactly anger, disappointment, apathy, anxiety, helplessness"
            )
        return self


class CategoryCues(_File):
    tie_order: tuple[Category, ...]
    min_score: float = Field(ge=0)
    categories: dict[Category, dict[Term, Weight]]

    @model_validator(mode="after")
    def _every_category_once(self) -> Self:
        if sorted(self.tie_order) != sorted(Category) or set(self.categories) != set(Category):
            raise ValueError("tie_order and categories must each name every category exactly once")
        return self


# -- intent.yaml, demands.yaml, grievances.yaml, domains.yaml (issue #18) -------------------

Patterns = tuple[re.Pattern[str], ...]
Label = Annotated[str, Field(min_length=1, max_length=16)]


class AskContent(Frozen):
    """What makes an ask a complaint: any of these is negative content (intent.yaml)."""

    negative_terms: float = Field(gt=0)
    emotion_terms: float = Field(gt=0)
    text_model: float = Field(gt=0, le=20)
    rest_chars: int = Field(ge=0, le=100)
    signals: tuple[Signal, ...]
    ignore_terms: tuple[Term, ...]


class IntentCues(_File):
    greetings: Patterns
    lookup: Patterns = Field(min_length=1)
    asked: Patterns = Field(min_length=1)
    howto: Patterns = Field(min_length=1)
    request: Patterns = Field(min_length=1)
    enquiry: Patterns = Field(min_length=1)
    rhetorical: tuple[Term, ...]
    why: tuple[Term, ...] = ()
    hypothetical: tuple[Term, ...]
    mishap: Patterns = ()
    fault: Patterns = ()
    ack: Patterns = ()
    content: AskContent
    ask_max_negativity: float = Field(gt=0, lt=1)
    praise_over_ask: float = Field(gt=0)


class DemandKind(Frozen):
    objects: tuple[Term, ...] = Field(min_length=1)
    forms: Patterns = ()


class DemandCues(_File):
    window: int = Field(ge=1, le=40)
    forcing: tuple[Term, ...] = Field(min_length=1)
    polite: tuple[Term, ...]
    negators: tuple[Term, ...]
    kinds: dict[Label, DemandKind] = Field(min_length=1)


class GrievanceGroup(Frozen):
    label: Label
    source: str = Field(min_length=1)
    emotions: dict[Emotion, Weight]
    categories: dict[Category, Weight]
    patterns: Patterns = Field(min_length=1)

    @model_validator(mode="after")
    def _negative_types_only(self) -> Self:
        if not set(self.emotions) <= set(NEGATIVE_EMOTIONS):
            raise ValueError("a grievance points to negative emotion types only")
        return self


class GrievanceCues(_File):
    groups: dict[Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,31}$")], GrievanceGroup] = Field(
        min_length=1
    )


NounKind = Literal["product", "fee"]


class Domain(Frozen):
    label: Label
    product: tuple[Term, ...] = ()
    fee: tuple[Term, ...] = ()


class DomainNouns(_File):
    kinds: dict[NounKind, dict[Category, Weight]]
    #: a request's fee nouns count this share of their weight (请帮我开一下学费的发票: the
    #: paperwork, not the fee, is what it is about)
    request_fee_factor: float = Field(default=1.0, ge=0, le=1)
    domains: dict[Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,31}$")], Domain] = Field(
        min_length=1
    )

    def nouns(self) -> dict[str, dict[str, NounKind]]:
        """term -> domain -> what it names there (a term may be a noun of several domains)."""
        out: dict[str, dict[str, NounKind]] = {}
        for name, domain in self.domains.items():
            for term in domain.product:
                out.setdefault(term, {})[name] = "product"
            for term in domain.fee:
                out.setdefault(term, {})[name] = "fee"
        return out


# -- grouping.yaml (issue #18: semantic grouping, complaints/similar.py) ----------------------


class GroupingRules(_File):
    """How texts are grouped into emerging issues (see grouping.yaml for each number)."""

    shingle: int = Field(ge=1, le=8)
    duplicate_bits: int = Field(ge=0, le=32)
    join_similarity: float = Field(gt=0, le=1)
    term_similarity: float = Field(gt=0, le=1)
    typical_share: float = Field(gt=0, le=1)
    max_typical: int = Field(ge=4, le=500)
    term_weight: float = Field(gt=0, le=20)
    min_shared_terms: int = Field(ge=0, le=10)
    window: Duration
    open_customers: int = Field(ge=2, le=10_000)
    growth: float = Field(gt=1, le=100)
    forget_after: Duration
    max_groups: int = Field(ge=10, le=1_000_000)
    max_voices: int = Field(ge=1, le=100_000)
    examples: int = Field(ge=0, le=20)
    stop_bigrams: tuple[Annotated[str, Field(min_length=1, max_length=4)], ...]
    symptoms: dict[Label, tuple[Term, ...]] = Field(min_length=1)
    things: dict[Label, tuple[Term, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.window.total_seconds() <= 0 or self.forget_after < self.window:
            raise ValueError("window must be positive and forget_after at least the window")
        seen: dict[str, str] = {}
        for name, forms in (*self.symptoms.items(), *self.things.items()):
            for form in forms:
                if seen.setdefault(form, name) != name:
                    raise ValueError(f"{form!r} belongs to both {seen[form]} and {name}")
        return self


# -- cues.yaml -------------------------------------------------------------------------------


class EmojiSets(Frozen):
    anger: tuple[str, ...]
    sadness: tuple[str, ...]
    fear: tuple[str, ...]
    sarcasm: tuple[str, ...]
    positive: tuple[str, ...]


class Cues(_File):
    threats: dict[Term, Annotated[str, Field(min_length=1, max_length=16)]]
    repeat_contact: tuple[re.Pattern[str], ...]
    waiting: tuple[re.Pattern[str], ...]
    insults: tuple[Term, ...]
    inquiry: tuple[Term, ...]
    service_speech: tuple[Term, ...]
    distancing: tuple[Term, ...]
    exclamation_run: re.Pattern[str]
    question_run: re.Pattern[str]
    ellipsis_run: re.Pattern[str]
    emoji: EmojiSets
    customer_labels: tuple[Term, ...] = Field(min_length=1)
    agent_labels: tuple[Term, ...] = Field(min_length=1)


# -- scoring.yaml ----------------------------------------------------------------------------


class NegativityWeights(Frozen):
    snownlp: float
    text_model: float
    text_model_turn: float
    negative_terms: float
    positive_terms: float
    emotion_terms: float
    insult: float
    threat: float
    repeat_contact: float
    waiting: float
    exclamation_run: float
    question_run: float
    emoji_negative: float
    emoji_positive: float
    inquiry: float
    service_speech: float
    grievance: float
    demand: float


class NegativityModel(Frozen):
    threshold: float = Field(gt=0, lt=1)
    bias: float
    weights: NegativityWeights
    snownlp_clip: float = Field(gt=0, le=20)


class EmotionModel(Frozen):
    min_score: float = Field(ge=0)
    fallback: Emotion
    fallback_by_category: dict[Category, Emotion] = Field(default_factory=dict)
    bonus: dict[Signal, dict[Emotion, float]]
    positive_min_terms: float = Field(ge=0)
    positive_max_negativity: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _negative_targets(self) -> Self:
        targets = {
            self.fallback,
            *self.fallback_by_category.values(),
            *(e for per in self.bonus.values() for e in per),
        }
        if not targets <= set(NEGATIVE_EMOTIONS):
            raise ValueError("fallback and bonus targets must be negative emotion types")
        return self


class CueWeight(Frozen):
    weight: float = Field(ge=0, le=5)
    cap: float = Field(ge=0, le=5)


class IntensityModel(Frozen):
    base: float = Field(ge=0, le=5)
    cues: dict[Signal, CueWeight]
    strong_term_min: float = Field(gt=0)


class SpeechRate(Frozen):
    fast: float = Field(gt=0, le=30)
    very_fast: float = Field(gt=0, le=30)

    @model_validator(mode="after")
    def _ascending(self) -> Self:
        if not self.fast < self.very_fast:
            raise ValueError("fast must be below very_fast")
        return self


class Limits(Frozen):
    chunk_chars: int = Field(ge=50, le=2000)
    max_chunks: int = Field(ge=1, le=64)
    max_chars: int = Field(ge=50, le=100_000)
    max_keywords: int = Field(ge=1, le=100)
    max_cues: int = Field(ge=1, le=500)


class ScoringModel(_File):
    negativity: NegativityModel
    emotion: EmotionModel
    intensity: IntensityModel
    speech_rate: SpeechRate
    distancing_channels: tuple[Source, ...]
    limits: Limits


# -- t2s.yaml --------------------------------------------------------------------------------


class T2S(_File):
    chars: dict[
        Annotated[str, Field(min_length=1, max_length=1)],
        Annotated[str, Field(min_length=1, max_length=1)],
    ]


# -- textmodel.yaml --------------------------------------------------------------------------


class TextModel(_File):
    """Character n-gram logistic model (complaints.textmodel): bias, clip and gram weights.

    In the file, `weights` is one block of "gram<TAB>weight" lines (compact, and fast to read);
    here it is a mapping. Grams are normalised text (simplified, lower-case, digits as 0) of a
    length in `orders`, each listed once.
    """

    orders: tuple[Annotated[int, Field(ge=1, le=4)], ...] = Field(min_length=1)
    bias: float = Field(ge=-20, le=20)
    clip: float = Field(gt=0, le=20)
    weights: dict[str, float] = Field(min_length=1)

    @field_validator("weights", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        table: dict[str, float] = {}
        for n, line in enumerate(value.splitlines(), start=1):
            gram, tab, number = line.partition("\t")
            try:
                weight = float(number)
            except ValueError:
                weight = math.nan
            if not tab or not gram or not math.isfinite(weight) or abs(weight) > 20:
                raise ValueError(f"line {n}: expected 'gram<TAB>weight' (|weight| <= 20): {line!r}")
            if gram in table:
                raise ValueError(f"line {n}: gram {gram!r} listed twice")
            table[gram] = weight
        return table

    @model_validator(mode="after")
    def _grams_fit_orders(self) -> Self:
        bad = sorted(
            g for g in self.weights if len(g) not in self.orders or any(c.isspace() for c in g)
        )
        if bad:
            raise ValueError(f"grams must be {self.orders} characters, no spaces: {bad[:10]}")
        return self


# -- the whole set ---------------------------------------------------------------------------


class Lexicon(Frozen):
    """Everything the scorer reads; `version` is the scorer_version of its assessments."""

    version: Version
    scoring: ScoringModel
    polarity: PolarityTerms
    emotions: EmotionCues
    categories: CategoryCues
    cues: Cues
    intent: IntentCues
    demands: DemandCues
    grievances: GrievanceCues
    domains: DomainNouns
    grouping: GroupingRules
    t2s: T2S
    textmodel: TextModel

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        files = {name: getattr(self, name).version for name in FILES}
        stale = sorted(name for name, version in files.items() if version != self.version)
        if stale:
            raise ValueError(
                f"version differs from scoring.yaml's {self.version} in: {', '.join(stale)}"
            )
        # Terms are matched against normalised text: simplified characters, lower-case Latin.
        table = str.maketrans(self.t2s.chars)
        ungrams = sorted(
            g
            for g in self.textmodel.weights
            if g.translate(table) != g or any("A" <= c <= "Z" for c in g)
        )
        if ungrams:
            raise ValueError(
                f"textmodel grams must be simplified, Latin lower-case: {', '.join(ungrams[:10])}"
            )
        unnormal = sorted(
            term
            for term in self.all_terms()
            if term.translate(table) != term or term.lower() != term
        )
        if unnormal:
            raise ValueError(f"terms must be simplified and lower-case: {', '.join(unnormal[:10])}")
        return self

    def all_terms(self) -> set[str]:
        p, c = self.polarity, self.cues
        terms = {
            *p.negative,
            *p.positive,
            *p.neutral,
            *p.negators,
            *p.degree,
            *p.concession_markers,
        }
        terms |= {t for cues in self.emotions.emotions.values() for t in cues}
        terms |= {t for cues in self.categories.categories.values() for t in cues}
        terms |= set(self.domains.nouns())
        return terms | {*c.threats, *c.insults, *c.inquiry, *c.service_speech, *c.distancing}


FILES: dict[str, str] = {
    "scoring": "scoring.yaml",
    "polarity": "polarity.yaml",
    "emotions": "emotions.yaml",
    "categories": "categories.yaml",
    "cues": "cues.yaml",
    "intent": "intent.yaml",
    "demands": "demands.yaml",
    "grievances": "grievances.yaml",
    "domains": "domains.yaml",
    "grouping": "grouping.yaml",
    "t2s": "t2s.yaml",
    "textmodel": "textmodel.yaml",
}


class LexiconError(ValueError):
    """A lexicon that cannot be used; `problems` are 'file: field.path: message' lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _unique_mapping(
    loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    """A mapping, refusing a key written twice (YAML would silently keep the last)."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping."""

    construct_mapping = _unique_mapping


# The text model's file is one large block of lines: libyaml's parser reads it in milliseconds
# where the pure-Python one takes about half a second. Same constructor, same duplicate check.
_FAST_LOADER: type[Any] = _UniqueKeyLoader
if hasattr(yaml, "CSafeLoader"):  # PyYAML built with libyaml (the wheels are)

    class _FastUniqueKeyLoader(yaml.CSafeLoader):
        """CSafeLoader that refuses a key written twice in one mapping."""

        construct_mapping = _unique_mapping

    _FAST_LOADER = _FastUniqueKeyLoader


def parse_lexicon(texts: dict[str, str]) -> Lexicon:
    """A Lexicon from the YAML text of each file (keys of FILES), or LexiconError naming fields."""
    data: dict[str, Any] = {}
    problems: list[str] = []
    for name, filename in FILES.items():
        if name not in texts:
            problems.append(f"{filename}: missing")
            continue
        try:
            loader = _FAST_LOADER if name == "textmodel" else _UniqueKeyLoader
            data[name] = yaml.load(texts[name], Loader=loader)  # noqa: S506 - safe loader subclasses
        except yaml.YAMLError as exc:
            problems.append(f"{filename}: not valid YAML: {exc}")
    if problems:
        raise LexiconError(problems)
    scoring = data.get("scoring")
    version = scoring.get("version") if isinstance(scoring, dict) else None
    try:
        return Lexicon.model_validate({"version": version, **data})
    except ValidationError as exc:
        raise LexiconError([_describe(error) for error in exc.errors(include_url=False)]) from exc


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon in directory `path`, or the shipped default (read once)."""
    if path is None:
        return default_lexicon()
    return parse_lexicon(
        {
            name: (path / filename).read_text(encoding="utf-8")
            for name, filename in FILES.items()
            if (path / filename).is_file()
        }
    )


@cache
def default_lexicon() -> Lexicon:
    """The lexicon shipped in complaints/lexicons/ (read and validated once per process)."""
    return load_lexicon(DEFAULT_DIR)


def _describe(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0] in FILES:
        return f"{FILES[loc[0]]}: {'.'.join(loc[1:]) or '(file)'}: {error['msg']}"
    return f"{'.'.join(loc) or '(lexicon)'}: {error['msg']}"
