"""Finds lexicon terms in a normalised text, and what modifies each one.

Pure. One pass finds every occurrence of every term (`TermIndex.find_all`); each lexicon layer
then keeps its own leftmost-longest, non-overlapping matches (`longest`), so 态度差 can be an
anger cue while 差 still counts for polarity. `Context` answers, for a match, the questions
that change its meaning: is it negated (不是不满意), intensified (太慢), before or after a turn
of the sentence (虽然…但是…), or in sarcasm quotes (‘好’到家了).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable
from itertools import pairwise
from typing import NamedTuple

from complaints.lexicon import PolarityTerms

_CLAUSE_END = re.compile(r"[，,。！!？?；;、:：\n…~～()（）\[\]【】「」『』“”\"《》\s]")
_SENTENCE_END = re.compile(r"[。！!？?；;\n]")


class Match(NamedTuple):
    start: int
    end: int
    term: str


class TermIndex:
    """Every term of every layer, looked up by first character and length."""

    def __init__(self, terms: Iterable[str]) -> None:
        self._terms = frozenset(terms)
        lengths: dict[str, set[int]] = {}
        for term in self._terms:
            lengths.setdefault(term[0], set()).add(len(term))
        self._lengths = {first: sorted(ls, reverse=True) for first, ls in lengths.items()}
        self._latin = frozenset(t for t in self._terms if t.isascii())

    def find_all(self, text: str) -> list[Match]:
        """All occurrences, by start, longest first; Latin terms only as whole words (sb ≠ usb)."""
        out: list[Match] = []
        lengths, terms, latin = self._lengths, self._terms, self._latin
        for i, ch in enumerate(text):
            for n in lengths.get(ch, ()):
                term = text[i : i + n]
                if term in terms and (term not in latin or _whole_word(text, i, i + n)):
                    out.append(Match(i, i + n, term))
        return out


def longest(matches: Iterable[Match], layer: Collection[str]) -> list[Match]:
    """The leftmost-longest, non-overlapping matches of one layer's terms."""
    out: list[Match] = []
    end = 0
    for m in matches:  # sorted by start, longest first
        if m.start >= end and m.term in layer:
            out.append(m)
            end = m.end
    return out


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


class Modifiers(NamedTuple):
    negator: str | None  # the negation right before the term, if any
    degree: str | None  # the degree word right before the term, if any
    contrast: float  # weight of the term's place in its sentence (1 without a turn)
    quoted: bool  # the term alone inside quotes


class Context:
    """Clause and sentence structure of one text, for the modifiers of its matches."""

    def __init__(
        self, text: str, rules: PolarityTerms, negation: re.Pattern[str], degree: re.Pattern[str]
    ) -> None:
        self.text = text
        self._rules = rules
        self._negation = negation
        self._degree = degree
        self._clause_starts = [0, *(m.end() for m in _CLAUSE_END.finditer(text))]
        self._segments, self.turns = _contrast_segments(text, rules)
        self._quotes = {pair[0]: pair[1] for pair in rules.sarcasm_quotes}

    def modifiers(self, m: Match) -> Modifiers:
        """What stands right before `m` in its clause, and where it sits in its sentence."""
        text = self.text
        lo = self._clause_starts[bisect_right(self._clause_starts, m.start) - 1]
        degree = self._degree.search(text, max(lo, m.start - 3), m.start)
        head = degree.start() if degree else m.start
        negator = self._negation.search(text, max(lo, head - 4), head)
        close = self._quotes.get(text[m.start - 1]) if m.start > 0 else None
        return Modifiers(
            negator=negator.group() if negator else None,
            degree=degree.group() if degree else None,
            contrast=self.contrast_at(m.start),
            quoted=close is not None and text[m.end : m.end + 1] == close,
        )

    def after_turns(self) -> str:
        """What follows the turns of the text (但是…), or "" when it has none."""
        return "".join(self.text[a:b] for a, b, factor in self._segments if factor > 1.0)

    def contrast_at(self, pos: int) -> float:
        """The weight of position `pos`: below 1 before a turn, above 1 after it."""
        for start, end, factor in self._segments:
            if start <= pos < end:
                return factor
        return 1.0


def _contrast_segments(
    text: str, rules: PolarityTerms
) -> tuple[list[tuple[int, int, float]], list[str]]:
    """(start, end, factor) spans: before a turn (但是…) weigh less, after it more; and the
    markers that made them.

    A turn inside a sentence splits that sentence; a sentence that opens with a turn also
    discounts the sentence before it. 虽然… without a turn discounts its own clause.
    """
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    sentences = [(a, b) for a, b in pairwise(bounds) if b > a]
    segments: list[tuple[int, int, float]] = []
    markers: list[str] = []
    before, after = rules.before_contrast_factor, rules.after_contrast_factor
    for k, (a, b) in enumerate(sentences):
        turn = _first_turn(text, a, b, rules.contrast_markers)
        if turn is None:
            concession = next(
                (text.find(c, a, b) for c in rules.concession_markers if text.find(c, a, b) >= 0),
                -1,
            )
            if concession >= 0:
                clause_end = _CLAUSE_END.search(text, concession + 1, b)
                segments.append((concession, clause_end.start() if clause_end else b, before))
                markers.append(text[concession : concession + 2])
            continue
        markers.append(text[turn[0] : turn[1]])
        if turn[0] - a <= 1 and k > 0:  # "……。但是……": the previous sentence is the concession
            prev_a, prev_b = sentences[k - 1]
            segments.append((prev_a, prev_b, before))
        else:
            segments.append((a, turn[0], before))
        segments.append((turn[0], b, after))
    return segments, markers


def _first_turn(
    text: str, start: int, end: int, markers: Iterable[re.Pattern[str]]
) -> tuple[int, int] | None:
    found = [m.span() for p in markers if (m := p.search(text, start, end))]
    return min(found, key=lambda span: (span[0], -span[1])) if found else None


def alternation(words: Iterable[str], suffix: str = "") -> re.Pattern[str]:
    """A pattern matching any of `words` (longest first) right at the end of the searched span."""
    body = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(f"(?:{body}){suffix}$")
