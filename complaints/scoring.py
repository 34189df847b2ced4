"""Scores one customer text: ``score_text(text, channel, speech_rate) -> Assessment``.

Pure: no I/O while scoring (the lexicon and snownlp's model are loaded once, on first use or
by ``preload()``), no clock, no randomness; the same input gives the same assessment, and no
``str`` makes it raise. The stages, each in its own module:

1. normalize  — clean, fold widths, mask personal data (what may be shown), simplify (what is read);
2. chunking   — the customer's turns of a transcript, bounded length, ≤ chunk_chars per polarity call;
3. polarity   — snownlp sentiments (complaints.polarity, identical values), per chunk, and the
                character n-gram model's logit (complaints.textmodel) of the whole text;
4. matching   — every lexicon term once; negation, degree, contrast and quotes around each;
5. terms, signals, emotion, grievances, demands — the evidence; negativity — one probability
                from all of it;
6. intent     — enquiry / request / complaint / praise / other: an ask without negative content
                is capped below the threshold (it opens no alert);
7. category, emotion, intensity — the verdicts, each with the cues that decided it.
"""

from __future__ import annotations

import re
from functools import cache
from math import exp, log

from complaints import polarity
from complaints.category import CategoryVerdict, decide_category
from complaints.chunking import bounded, chunks, customer_turns
from complaints.demands import DemandFinder
from complaints.emotion import decide_emotion, weigh_emotions
from complaints.explain import Scope, explain
from complaints.grievances import GrievanceFinder
from complaints.intensity import intensity_of
from complaints.intent import AskFinder, decide_intent, negative_content
from complaints.lexicon import Lexicon, default_lexicon
from complaints.matching import (
    Context,
    Gated,
    TermIndex,
    alternation,
    any_turn_pattern,
    gate,
)
from complaints.negativity import features_of, negativity_of
from complaints.normalize import normalize, reading_table, table_chars
from complaints.signals import find_signals
from complaints.terms import weigh_terms
from complaints.textmodel import text_logit
from streams.records import Assessment, Category, Cue, Emotion, Intent, Source

__all__ = ["SCORER_VERSION", "Scorer", "default_scorer", "preload", "score_text"]


class Scorer:
    """A lexicon prepared for scoring: its term index, patterns and lookup tables."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        p, c = lexicon.polarity, lexicon.cues
        self._t2s = str.maketrans(lexicon.t2s.chars)
        self._reading = reading_table(self._t2s)  # t2s and lower-casing in one pass
        self._reading_changes = table_chars(self._reading) if self._reading is not None else None
        self._index = TermIndex(lexicon.all_terms())
        neutral = frozenset(p.neutral)
        self._emotion_terms: dict[str, dict[Emotion, float]] = {}
        for emotion, terms in lexicon.emotions.emotions.items():
            for term, weight in terms.items():
                self._emotion_terms.setdefault(term, {})[emotion] = weight
        self._category_terms: dict[str, dict[Category, float]] = {}
        for category, terms in lexicon.categories.categories.items():
            for term, weight in terms.items():
                self._category_terms.setdefault(term, {})[category] = weight
        # A noun that is also a category word (电池) counts as the category word only.
        self._nouns = {
            t: d for t, d in lexicon.domains.nouns().items() if t not in self._category_terms
        }
        self._asks = AskFinder(lexicon.intent)
        self._demands = DemandFinder(lexicon.demands)
        self._grievances = GrievanceFinder(lexicon.grievances)
        self._layers = {
            "polarity": frozenset({*p.negative, *p.positive}) | neutral,
            # A polarity word covering an emotion cue means the cue is not what was said
            # (麻烦 is not 烦), so polarity words block the emotion layer too.
            "emotions": frozenset(self._emotion_terms)
            | frozenset({*p.negative, *p.positive})
            | neutral,
            "categories": frozenset(self._category_terms) | frozenset(self._nouns) | neutral,
            "threats": frozenset(c.threats) | neutral,
            "insults": frozenset(c.insults) | neutral,
            "insult_terms": frozenset(c.insults),
            "inquiry": frozenset(c.inquiry),
            "service_speech": frozenset(c.service_speech),
        }
        self._any_turn = Gated.of(any_turn_pattern(p))  # most texts have no marker's needle
        self._signal_patterns = {
            name: found
            for name, patterns in (("repeat_contact", c.repeat_contact), ("waiting", c.waiting))
            if (found := gate(patterns)) is not None
        }
        self._signal_gated = {
            "repeat_contact": tuple(Gated.of(p) for p in c.repeat_contact),
            "waiting": tuple(Gated.of(p) for p in c.waiting),
            "exclamation_run": (Gated.of(c.exclamation_run),),
            "question_run": (Gated.of(c.question_run),),
            "ellipsis_run": (Gated.of(c.ellipsis_run),),
        }
        e = c.emoji
        symbols = (*e.anger, *e.sadness, *e.fear, *e.sarcasm, *e.positive)
        if (found := gate(re.compile(re.escape(s)) for s in symbols)) is not None:
            self._signal_patterns["emoji"] = found
        self._negation = alternation(p.negators)
        self._degree = alternation(p.degree)

    def score(self, text: str, channel: Source, speech_rate: float | None = None) -> Assessment:
        """The assessment of `text` (see the module docstring for the stages)."""
        lx = self.lexicon
        model, cues_data = lx.scoring, lx.cues
        limits = model.limits
        norm = (
            normalize(text, self._reading, lowers=True, changes=self._reading_changes)
            if self._reading is not None
            else normalize(text, self._t2s)
        )
        scored, transcript = customer_turns(
            norm.text, cues_data.customer_labels, cues_data.agent_labels
        )
        scored, cut = bounded(scored, limits.max_chars)
        pieces = chunks(scored, limits.chunk_chars)[: limits.max_chunks]
        pol = _combined_polarity(pieces, model.negativity.snownlp_clip)

        ctx = Context(scored, lx.polarity, self._negation, self._degree, self._any_turn)
        matches = self._index.find_all(scored)
        terms = weigh_terms(
            ctx, matches, lx.polarity, self._layers["polarity"], model.intensity.strong_term_min
        )
        signals = find_signals(
            ctx,
            matches,
            cues_data,
            self._layers,
            channel,
            model.distancing_channels,
            speech_rate,
            model.speech_rate,
            self._signal_patterns,
            self._signal_gated,
        )
        if terms.sarcasm:
            signals.counts["sarcasm"] = float(terms.sarcasm)
        grievances = self._grievances.find(scored)
        demands = self._demands.find(scored)
        if grievances.groups:
            signals.counts["grievance"] = float(len(grievances.groups))
        if demands.names:
            signals.counts["demand"] = float(len(demands.names))
        emotions = weigh_emotions(
            ctx,
            matches,
            self._emotion_terms,
            self._layers["emotions"],
            lx.polarity.degree,
            signals,
            model.emotion,
        )
        emotion_words = sum(c.weight for c in emotions.cues)
        # After a turn (虽然…但是…) snownlp reads what the customer means, not the concession;
        # the text model reads both, and the combination weighs the difference.
        after = ctx.after_turns()
        has_turn = bool(after.strip())
        meant = polarity.sentiment(after[: limits.chunk_chars]) if has_turn else pol
        features = features_of(
            meant,
            text_logit(scored, lx.textmodel),
            text_logit(after, lx.textmodel) if has_turn else None,
            terms.negative,
            terms.positive,
            emotion_words,
            signals,
            model.negativity.snownlp_clip,
        )
        ask = self._asks.find(scored)
        content: tuple[Cue, ...] = ()
        if ask.cue is not None:  # what the customer says beside the ask decides its intent
            aside = self._asks.aside_clauses(scored)
            # an acknowledgement's own words (不用了, 没事了) are not content: only what it
            # reports (a fault, a grievance, a demand, a strong signal) is
            said_aside = [scored] if ask.cue.kind == "ack" else aside
            rest = ask.rest
            for clause in aside:
                rest = rest.replace(clause, "")
            content = negative_content(
                scored,
                text_logit(rest, lx.textmodel)
                if _letters(rest) >= lx.intent.content.rest_chars
                else 0.0,
                terms,
                emotions,
                signals,
                grievances.cues,
                demands.cues,
                said_aside,
                lx.intent,
                faults=self._asks.faults(scored, aside),
                rest=ask.rest,
            )
        raw_negativity = negativity_of(features, model.negativity)
        plain_faults: tuple[Cue, ...] = ()
        if ask.cue is None and raw_negativity < model.negativity.threshold:
            plain_faults = self._asks.plain_faults(scored, self._negation)
        verdict = decide_intent(
            ask,
            content,
            raw_negativity,
            model.negativity.threshold,
            terms.positive,
            model.emotion,
            lx.intent,
            plain_faults,
        )
        negativity = verdict.negativity
        negative = negativity >= model.negativity.threshold

        category = (
            CategoryVerdict(Category.OTHER, 0.0, ())
            if any(c.kind == "ack" for c in verdict.content)  # about nothing: 收到, 好的谢谢
            else decide_category(
                ctx,
                matches,
                self._category_terms,
                self._layers["categories"],
                lx.categories,
                self._nouns,
                lx.domains,
                tuple((c, lx.grievances.groups[str(c.label)].categories) for c in grievances.cues),
                complaint=verdict.intent is not Intent.REQUEST,
            )
        )
        for emotion_type, weight in grievances.emotions.items():
            emotions.scores[emotion_type] += weight
        if signals.has("question") and any(c.kind == "fault" for c in verdict.content):
            # A fault reported with a polite question (能换吗？) asks; it does not blame: the
            # question's anger bonus is for complaints that ask nothing (round 4).
            for emotion_type, bonus in model.emotion.bonus.get("question", {}).items():
                emotions.scores[emotion_type] -= bonus
        emotion = decide_emotion(emotions, verdict.intent, category.category, model.emotion)
        counts = dict(signals.counts)
        counts["intensifier"] = float(terms.intensified)
        counts["strong_term"] = float(terms.strong)
        intensity = intensity_of(negativity, counts, model.intensity)

        cues, keywords = explain(
            emotion,
            negative,
            pol,
            emotions,
            terms,
            signals,
            ctx.turns,
            lx.polarity.after_contrast_factor,
            category,
            Scope(transcript, limits.max_chars if cut else None),
            verdict,
            grievances.cues,
            demands.cues,
        )
        return Assessment(
            scorer_version=lx.version,
            polarity=pol,
            negativity=negativity,
            negative=negative,
            intensity=intensity,
            emotion=emotion,
            category=category.category,
            threats=signals.threats,
            repeat_contact=signals.has("repeat_contact"),
            intent=verdict.intent,
            demands=demands.names,
            keywords=keywords[: limits.max_keywords],
            cues=cues[: limits.max_cues],
            masked_text=norm.shown,
            pii_found=norm.pii_found,
        )


def _letters(text: str) -> int:
    """How many letters (CJK or Latin) `text` has: a fragment like "，户号是0。" says nothing."""
    return sum(1 for ch in text if ch.isalpha())


def _combined_polarity(pieces: list[str], clip: float) -> float:
    """snownlp polarity of the text: of its one chunk, or the length-weighted mean logit of many."""
    if len(pieces) == 1:
        return polarity.sentiment(pieces[0])
    total = sum(len(p) for p in pieces) or 1
    z = 0.0
    for piece in pieces:
        p = min(max(polarity.sentiment(piece), 1e-12), 1 - 1e-12)
        z += max(-clip, min(clip, log(p / (1 - p)))) * len(piece) / total
    return 1.0 / (1.0 + exp(-z))


@cache
def default_scorer() -> Scorer:
    """The scorer over the shipped lexicon (prepared once per process)."""
    return Scorer(default_lexicon())


def score_text(text: str, channel: Source, speech_rate: float | None = None) -> Assessment:
    """Assess one customer text (a call utterance or transcript, a social post).

    Args:
        speech_rate: characters per second of a call, when the ASR measured it.
    """
    return default_scorer().score(text, channel, speech_rate)


def preload() -> None:
    """Load the lexicon and snownlp's model now (worker start), not on the first text."""
    default_scorer()
    polarity.preload()


SCORER_VERSION: str = default_lexicon().version
