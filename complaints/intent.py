"""Decides what a text is doing — enquiry, request, complaint, praise or other (intent.yaml) —
before its emotion type is decided.

Pure. An ask (an enquiry or a request) without negative content is not a complaint, whatever the
polarity models read into its wording ("我的电话是…，麻烦回电。" read 0.92): its negativity is
capped below the threshold, so it opens no alert and gets no negative emotion. Content is a
grievance, a demand, a strong signal (threat, insult, waiting, repeat contact, ！！…), a rhetorical
question (凭什么…？; a plain 为什么 only beside other content), the rest of the text read as negative by the character model (what is said
beside the ask: 墙皮都掉了，能修吗？), or enough negative polarity or emotion words beyond the
words of the ask itself (麻烦回电) and outside hypothetical clauses (会不会起球？). An ask with content is what the
negativity combination says (an earlier draft raised it to the threshold when the content was a
grievance, a demand or a strong signal: it cost 0.0015 of online_shopping accuracy and gained
nothing on the held-out split).
A text every clause of which acknowledges, thanks, closes or tells what the customer did (收到,
好的，那我等你们消息。, 钥匙已经放在物业前台了。) is intent other without negative content, its
negativity capped like an ask's (issue #16 noise: it must open no alert, however short).
A text that asks nothing is a complaint when negative, praise when its positive words are enough
and its negativity low, otherwise other.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from complaints.cuecache import cue as make_cue
from complaints.emotion import EmotionEvidence
from complaints.lexicon import EmotionModel, IntentCues
from complaints.matching import Gated, alternation, gate
from complaints.signals import Signals
from complaints.terms import TermEvidence
from streams.records import Cue, Intent

_CLAUSE = re.compile(r"[^，,。！!？?；;\n]+")
_CLAUSE_END = re.compile(r"[，,。！!？?；;\n\s]")
_QUESTION = re.compile(r"[？?]|[吗呢嘛]\s*$")


class Ask(NamedTuple):
    intent: Intent  # ENQUIRY, REQUEST, or OTHER when the text asks nothing
    cue: Cue | None  # kind "ask": the words that made it an ask; kind "ack": the text only
    # acknowledges, thanks, closes or tells what the customer did (intent OTHER, rest "")
    question: bool  # the text asks a question (？, 吗)
    rest: str  # the text without the clause of the ask: what else the customer says


class IntentVerdict(NamedTuple):
    intent: Intent
    negativity: float  # the combination's, or capped for an ask without content
    content: tuple[Cue, ...]  # the negative content found (what makes an ask a complaint)


class AskFinder:
    """intent.yaml's patterns, compiled once."""

    def __init__(self, cues: IntentCues) -> None:
        self._greetings = cues.greetings
        self._any_greeting = _one(cues.greetings)
        self._greeting_gate = gate(cues.greetings)
        self._forms = (
            (Intent.ENQUIRY, cues.lookup),
            (Intent.ENQUIRY, cues.asked),
            (Intent.ENQUIRY, cues.howto),
            (Intent.REQUEST, cues.request),
            (Intent.ENQUIRY, cues.enquiry),
        )
        # each form's patterns are searched only where their gate finds something
        self._form_gates = [gate(patterns) for _, patterns in self._forms]
        self._gated_forms = [
            (intent, tuple(Gated.of(p) for p in patterns)) for intent, patterns in self._forms
        ]
        self._hypothetical = re.compile(alternation(cues.hypothetical).pattern.removesuffix("$"))
        self._mishap = _one(cues.mishap)
        self._mishap_gate = gate(cues.mishap)
        self._fault = _one(cues.fault)
        self._fault_gate = gate(cues.fault)
        self._ack = _one(cues.ack)

    def find(self, text: str) -> Ask:
        """The ask of `text` (normalised): a look-up or how-to, then a request, then a question."""
        if (
            self._any_greeting is not None
            and (self._greeting_gate is None or self._greeting_gate.search(text))
            and self._any_greeting.search(text)
        ):
            for greeting in self._greetings:
                text = greeting.sub(" ", text)
        question = bool(_QUESTION.search(text))
        for (intent, patterns), needles in zip(self._gated_forms, self._form_gates, strict=True):
            if needles is not None and not needles.search(text):
                continue
            for pattern in patterns:  # each behind its own gate (Gated)
                if m := pattern.search(text):
                    cue = make_cue(kind="ask", term=m.group()[-16:], label=intent.value, weight=1.0)
                    end = max(m.start(), m.end() - 1)
                    while end > m.start() and _CLAUSE_END.match(text, end):
                        end -= 1  # the ask's own clause, not the ？ that closes it
                    clause = next(
                        (c for c in _CLAUSE.finditer(text) if c.start() <= end < c.end()), None
                    )
                    rest = text if clause is None else text[: clause.start()] + text[clause.end() :]
                    return Ask(intent, cue, question, rest)
        ack = self._acknowledgement(text)
        if ack is not None:
            return Ask(Intent.OTHER, ack, question, "")
        return Ask(Intent.OTHER, None, question, text)

    def _acknowledgement(self, text: str) -> Cue | None:
        """A cue (kind "ack") when every clause of `text` is an acknowledgement, thanks, a
        closing or a notice (intent.yaml `ack`), else None."""
        if self._ack is None:
            return None
        clauses: list[str] = []
        for found in _CLAUSE.finditer(text):  # the first clause that is none ends the search
            clause = found.group().strip()
            if clause:
                if not self._ack.fullmatch(clause):
                    return None
                clauses.append(clause)
        if not clauses:
            return None
        return make_cue(
            kind="ack", term="，".join(clauses)[:16], label=Intent.OTHER.value, weight=1.0
        )

    def aside_clauses(self, text: str) -> list[str]:
        """The clauses of `text` that only suppose a problem (会不会起球, 有问题的话) or tell the
        customer's own mishap (卡丢了, 孩子生病了): what they say is not negative content."""
        if not self._hypothetical.search(text) and not (
            self._mishap is not None
            and (self._mishap_gate is None or self._mishap_gate.search(text))
            and self._mishap.search(text)
        ):
            return []
        return [
            c.group()
            for c in _CLAUSE.finditer(text)
            if self._hypothetical.search(c.group())
            or (self._mishap is not None and self._mishap.search(c.group()))
        ]

    def faults(self, text: str, aside: list[str]) -> tuple[Cue, ...]:
        """The faults, harms, losses and service failures `text` reports (intent.yaml `fault`),
        outside the `aside` clauses."""
        if self._fault is None or (
            self._fault_gate is not None and not self._fault_gate.search(text)
        ):
            return ()
        kept = text
        for clause in aside:
            kept = kept.replace(clause, "，")
        return tuple(
            make_cue(kind="fault", term=m.group(), label=None, weight=1.0)
            for m in self._fault.finditer(kept)
        )

    def plain_faults(self, text: str, negation: re.Pattern[str]) -> tuple[Cue, ...]:
        """The faults of a text that asks nothing but is addressed to the business (a greeting:
        你好，奶粉全是结块), outside hypothetical and mishap clauses and not negated (没有异味:
        `negation` ends right before). A review is addressed to nobody: its fault words can be
        a comparison or a praise (以前的手机老死机，这个不会), and reading them as a complaint cost
        online_shopping 0.016."""
        if (
            self._fault is None
            or self._any_greeting is None
            or (self._fault_gate is not None and not self._fault_gate.search(text))
            or (self._greeting_gate is not None and not self._greeting_gate.search(text))
            or not self._any_greeting.search(text)
        ):
            return ()
        kept = text
        for clause in self.aside_clauses(text):
            kept = kept.replace(clause, "，" * len(clause))  # positions kept
        return tuple(
            make_cue(kind="fault", term=m.group(), label=None, weight=1.0)
            for m in self._fault.finditer(kept)
            if not negation.search(kept, max(0, m.start() - 4), m.start())
        )


def _waited(signals: Signals, rest: str | None) -> bool:
    """Whether a waiting time of `signals` is said in `rest` (anywhere when `rest` is None)."""
    return rest is None or any(c.term in rest for c in signals.cues if c.kind == "waiting")


def _one(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One regular expression matching any of `patterns` (None when there are none)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))


def negative_content(
    text: str,
    rest_logit: float,
    terms: TermEvidence,
    emotions: EmotionEvidence,
    signals: Signals,
    grievance_cues: tuple[Cue, ...],
    demand_cues: tuple[Cue, ...],
    aside: list[str],
    cues: IntentCues,
    faults: tuple[Cue, ...] = (),
    rest: str | None = None,
) -> tuple[Cue, ...]:
    """The evidence that a text complains (empty when there is none).

    Args:
        rest_logit: the character model's logit of the text without the ask's clause and the
            `aside` clauses.
        aside: hypothetical and mishap clauses (AskFinder.aside_clauses): their words do not count.
        faults: the faults the text reports (AskFinder.faults): content, and they make an ask a
            complaint (decide_intent).
        rest: the text without the ask's clause (Ask.rest; None: the whole text): a waiting time
            counts only there (能用一晚上吗？ asks about a time; 都一周了还没到，请问怎么回事？ waited).
    """
    rule = cues.content
    out = [*faults, *grievance_cues, *demand_cues]
    if rest_logit >= rule.text_model:
        out.append(
            make_cue(
                kind="text_model", term="ask-free part", label=None, weight=round(rest_logit, 3)
            )
        )
    out += [
        make_cue(kind="rhetorical", term=t, label=None, weight=1.0)
        for t in cues.rhetorical
        if t in text
    ]
    why = [
        make_cue(kind="rhetorical", term=t, label=None, weight=1.0) for t in cues.why if t in text
    ]
    out += [
        make_cue(kind="strong_signal", term=name, label=None, weight=signals.counts[name])
        for name in rule.signals
        if signals.has(name) and (name != "waiting" or _waited(signals, rest))
    ]
    ignored = frozenset(rule.ignore_terms)

    def said(term: str) -> bool:  # said outside the aside clauses
        return text.count(term) > sum(clause.count(term) for clause in aside)

    words = [c for c in terms.cues if c.weight < 0 and c.term not in ignored and said(c.term)]
    if sum(-c.weight for c in words) >= rule.negative_terms:
        out += words
    felt = [c for c in emotions.cues if c.term not in ignored and said(c.term)]
    if sum(c.weight for c in felt) >= rule.emotion_terms:
        out += felt
    return tuple(out + why) if out else ()


def decide_intent(
    ask: Ask,
    content: tuple[Cue, ...],
    negativity: float,
    threshold: float,
    positive_terms: float,
    emotion: EmotionModel,
    cues: IntentCues,
    plain_faults: tuple[Cue, ...] = (),
) -> IntentVerdict:
    """The intent of a text, and its negativity after the ask rules.

    Args:
        plain_faults: the faults of a text that asks nothing (AskFinder.plain_faults): they make
            it a complaint at least at the threshold.
    """
    praise = positive_terms >= emotion.positive_min_terms and (
        negativity <= emotion.positive_max_negativity
    )
    if ask.intent is not Intent.OTHER and not content:
        capped = min(negativity, cues.ask_max_negativity)
        if positive_terms >= cues.praise_over_ask and not ask.question:
            return IntentVerdict(Intent.PRAISE, capped, ())
        return IntentVerdict(ask.intent, capped, ())
    if ask.cue is not None and ask.intent is Intent.OTHER and not content:
        # an acknowledgement, thanks or closing without negative content (收到, 好的，那我等你们消息)
        return IntentVerdict(Intent.OTHER, min(negativity, cues.ask_max_negativity), (ask.cue,))
    if ask.intent is not Intent.OTHER and any(c.kind == "fault" for c in content):
        return IntentVerdict(Intent.COMPLAINT, max(negativity, threshold), content)
    if negativity >= threshold:
        return IntentVerdict(Intent.COMPLAINT, negativity, content)
    if ask.cue is None and plain_faults:
        # a fault of what the business provides, said plainly (你好，耳机左边没声了): a complaint
        # whatever the polarity models read into a greeting or a short text (round 5)
        return IntentVerdict(Intent.COMPLAINT, threshold, plain_faults)
    if praise:
        return IntentVerdict(Intent.PRAISE, negativity, ())
    return IntentVerdict(ask.intent, negativity, ())
