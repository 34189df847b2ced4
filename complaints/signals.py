"""Finds the non-lexical signals of a text: threats, insults, repeat contact, waiting time,
distancing, punctuation runs, emoji and speech rate.

Pure. Each signal is evidence a person can read (a `Cue`) and a number that the negativity,
emotion and intensity blocks weigh (scoring.yaml names the signals).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from complaints.cuecache import cue
from complaints.lexicon import Cues, SpeechRate
from complaints.matching import Context, Gated, Match, longest
from streams.records import Cue, Source


class Signals(NamedTuple):
    threats: tuple[str, ...]  # canonical names, in order of appearance, each once
    cues: tuple[Cue, ...]
    counts: dict[str, float]  # signal name (lexicon.Signal) -> how many

    def has(self, signal: str) -> bool:
        return self.counts.get(signal, 0.0) > 0


class _Found:
    """Collects cues and per-signal counts."""

    def __init__(self) -> None:
        self.cues: list[Cue] = []
        self.counts: dict[str, float] = {}

    def add(
        self, signal: str, kind: str, term: str, n: float = 1.0, label: str | None = None
    ) -> None:
        self.counts[signal] = self.counts.get(signal, 0.0) + n
        self.cues.append(cue(kind=kind, term=term, label=label, weight=n))

    def count(self, signal: str, n: float = 1.0) -> None:
        self.counts[signal] = self.counts.get(signal, 0.0) + n


def find_signals(
    ctx: Context,
    matches: list[Match],
    cues: Cues,
    layers: dict[str, frozenset[str]],
    channel: Source,
    distancing_channels: tuple[Source, ...],
    speech_rate: float | None,
    speech: SpeechRate,
    any_of: dict[str, re.Pattern[str]] | None = None,
    gated: dict[str, tuple[Gated, ...]] | None = None,
) -> Signals:
    """Every signal of `ctx.text` (`matches`: all term occurrences, from TermIndex.find_all).

    Args:
        any_of: per pattern signal (repeat_contact, waiting) and for the emoji, the gate of
            its patterns (complaints.matching.gate, built once by the caller): a text the gate
            finds nothing in skips their searches; `gated`: the same signals' patterns each
            behind its own gate (complaints.matching.Gated), searched in the same order.
    """
    text = ctx.text
    found = _Found()
    threats: dict[str, None] = {}
    for m in longest(matches, layers["threats"]):
        if m.term in cues.threats and ctx.modifiers(m).negator is None:  # 不是来投诉的: no threat
            name = cues.threats[m.term]
            if name not in threats:
                threats[name] = None
                found.add("threat", "threat", m.term, label=name)
    for m in longest(matches, layers["insults"]):
        if m.term in layers["insult_terms"]:
            found.add("insult", "insult", m.term)
    for signal in ("inquiry", "service_speech"):
        first = next(iter(longest(matches, layers[signal])), None)
        if first is not None:
            found.add(signal, signal, first.term)
    for signal, patterns in (("repeat_contact", cues.repeat_contact), ("waiting", cues.waiting)):
        prefilter = any_of.get(signal) if any_of else None
        if prefilter is not None and not prefilter.search(text):
            continue
        searched: Sequence[re.Pattern[str] | Gated] = (
            gated[signal] if gated and signal in gated else patterns
        )
        said = next((r.group() for p in searched if (r := p.search(text))), None)
        if said is not None:
            found.add(signal, signal, said)
    # other-directed speech: anger blames someone, sadness speaks of oneself; a greeting (你好)
    # addresses, it does not blame ("你好，蓝牙耳机左耳突然没声了" is no anger: round 6)
    if "你" in text and ("你好" not in text or "你" in text.replace("你好", "")):
        found.count("second_person")
    if channel in distancing_channels and "您" not in text:  # 你们 where 您 is usual (seed 003)
        for term in cues.distancing:
            if n := text.count(term):
                found.add("distancing", "distancing", term, float(n))
    _punctuation(text, cues, found, gated)
    emoji_gate = any_of.get("emoji") if any_of else None
    if emoji_gate is None or emoji_gate.search(text):
        _emoji(text, cues, found)
    if speech_rate is not None and speech_rate >= speech.fast:
        signal = "speech_very_fast" if speech_rate >= speech.very_fast else "speech_fast"
        found.add(signal, "speech_rate", f"{speech_rate:g} 字/秒")
    return Signals(tuple(threats), tuple(found.cues), found.counts)


def _punctuation(
    text: str, cues: Cues, found: _Found, gated: dict[str, tuple[Gated, ...]] | None = None
) -> None:
    if n := min(text.count("！") + text.count("!"), 10):
        found.count("exclamation", float(n))
    if "？" in text or "?" in text:
        found.count("question")
    for signal, pattern in (
        ("exclamation_run", cues.exclamation_run),
        ("question_run", cues.question_run),
        ("ellipsis_run", cues.ellipsis_run),
    ):
        # behind its gate when the caller built one (most texts have no run's characters)
        searched = gated[signal][0] if gated and signal in gated else pattern
        if m := searched.search(text):
            found.add(signal, "punctuation", m.group())


def _emoji(text: str, cues: Cues, found: _Found) -> None:
    sets = cues.emoji
    for signal, symbols in (
        ("emoji_anger", sets.anger),
        ("emoji_sadness", sets.sadness),
        ("emoji_fear", sets.fear),
        ("emoji_sarcasm", sets.sarcasm),
        ("emoji_positive", sets.positive),
    ):
        symbol = next((s for s in symbols if s in text), None)
        if symbol is not None:
            found.add(signal, "emoji", symbol, label=signal.removeprefix("emoji_"))
            if signal != "emoji_positive":
                found.count("emoji")  # intensity weighs every negative emoji kind
