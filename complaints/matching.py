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
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from complaints.lexicon import PolarityTerms

try:  # the C kernel's term table: find_all's same list, several times faster
    from complaints.polarity._kernel import TermTable
except ImportError:  # kernel not built, or built before it had TermTable
    TermTable = None  # type: ignore[assignment,misc]

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
        self._table = (
            TermTable(sorted(self._terms), Match)
            if TermTable is not None and max(map(len, self._terms), default=0) <= 32
            else None
        )

    def find_all(self, text: str) -> list[Match]:
        """All occurrences, by start, longest first; Latin terms only as whole words (sb ≠ usb).

        In the polarity package's C kernel when it is built (TermTable: the same list, several
        times faster), else in the Python loop of `find_all_py`."""
        if self._table is not None:
            return self._table.find_all(text)
        return self.find_all_py(text)

    def find_all_py(self, text: str) -> list[Match]:
        """`find_all` in pure Python (the path without the kernel, and its tests' reference)."""
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
        self,
        text: str,
        rules: PolarityTerms,
        negation: re.Pattern[str],
        degree: re.Pattern[str],
        any_turn: re.Pattern[str] | Gated | None = None,
    ) -> None:
        """`any_turn`: `any_turn_pattern(rules)`, compiled once by the caller (optional): a text
        without any turn or concession marker skips the per-sentence search for one."""
        self.text = text
        self._rules = rules
        self._negation = negation
        self._degree = degree
        self._clause_starts: list[int] | None = None  # on the first modifiers asked for
        self._segments: list[tuple[int, int, float]] = []
        self.turns: list[str] = []
        if any_turn is None or any_turn.search(text):
            self._segments, self.turns = _contrast_segments(text, rules)
        self._quotes = _quote_pairs(rules.sarcasm_quotes)
        self._modifiers: dict[tuple[int, int], Modifiers] = {}

    def modifiers(self, m: Match) -> Modifiers:
        """What stands right before `m` in its clause, and where it sits in its sentence
        (computed once per span: the polarity, emotion and threat layers ask about the same
        words)."""
        key = (m.start, m.end)
        found = self._modifiers.get(key)
        if found is None:
            found = self._modifiers[key] = self._modifiers_of(m)
        return found

    def _modifiers_of(self, m: Match) -> Modifiers:
        text = self.text
        starts = self._clause_starts
        if starts is None:
            starts = self._clause_starts = [0, *(c.end() for c in _CLAUSE_END.finditer(text))]
        lo = starts[bisect_right(starts, m.start) - 1]
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


@cache
def _quote_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    """Opening quote -> its closing one (built once per rule set, not per text)."""
    return {pair[0]: pair[1] for pair in pairs}


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


def any_turn_pattern(rules: PolarityTerms) -> re.Pattern[str]:
    """A pattern found in a text wherever one of its sentences has a turn (contrast marker) or a
    concession (虽然): a marker's match inside a sentence is a match in the whole text (its
    lookbehinds see the same characters; a lookahead sees past the sentence only at its closing
    punctuation, where no marker ends)."""
    parts = [f"(?:{p.pattern})" for p in rules.contrast_markers]
    parts += [re.escape(c) for c in rules.concession_markers]
    return re.compile("|".join(parts))


#: Characters too common in Chinese text to make a good needle (a required 了 lets most in).
_COMMON = frozenset("了的是不一我你他她它们有在人这那个就也都还没很太么吗呢吧啊和与到说要会")
_NEEDLE_CLASS = 16  # a character class of more characters than this gives no needles


def gate(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """A search that finds something in every text where any of `patterns` may match: an
    alternation of plain strings (needles) one of which every match of every pattern contains,
    read off each pattern's syntax tree (Python's own parser): a literal run (扣费), a small
    class ([款钱] -> 款 钱), a group or a repeat that must occur, one needle per alternative.
    None when some pattern requires no such string (all optional, or wide classes): then no
    text can be skipped.

    A needle alternation is one of the fastest searches Python's engine does (it jumps to the
    needles' first characters), while the patterns themselves often start with an optional part
    or a lookaround that makes every position a start: a text the gate finds nothing in cannot
    match, so their searches are skipped. Exact: it only ever skips searches that find nothing.
    """
    needles: set[str] = set()
    for p in patterns:
        need = None if p.flags & re.IGNORECASE else _needles(_parse(p.pattern, p.flags))
        if need is None:
            return None
        needles |= need
    if not needles:
        return None
    body = "|".join(re.escape(n) for n in sorted(needles, key=lambda n: (-len(n), n)))
    return re.compile(body)


class Gated(NamedTuple):
    """A pattern and its gate: ``search`` finds what the pattern finds, and skips the pattern's
    own search where the gate (plain strings every match contains) finds nothing."""

    pattern: re.Pattern[str]
    needles: re.Pattern[str] | None

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> Gated:
        return cls(pattern, gate((pattern,)))

    def search(self, text: str) -> re.Match[str] | None:
        if self.needles is not None and self.needles.search(text) is None:
            return None
        return self.pattern.search(text)


def _parse(pattern: str, flags: int) -> Any:
    import re._parser as sre_parse  # CPython 3.11's regular-expression parser

    return sre_parse.parse(pattern, flags)


def _needles(seq: Any) -> frozenset[str] | None:
    """Strings one of which every match of the parsed sequence `seq` contains, or None."""
    import re._constants as c

    candidates: list[frozenset[str]] = []
    run: list[frozenset[str]] = []  # consecutive single characters or small classes

    def close_run() -> None:
        if run:
            strings = [""]
            for chars in run:
                strings = [s + ch for s in strings for ch in chars]
                if len(strings) > _NEEDLE_CLASS:
                    break
            else:
                candidates.append(frozenset(strings))
            # each position of the run alone is a candidate too
            candidates.extend(run)
            run.clear()

    for op, av in seq:
        if op is c.LITERAL:
            run.append(frozenset(chr(av)))
            continue
        if op is c.IN and (chars := _class_chars(av)) is not None:
            run.append(chars)
            continue
        close_run()
        need: frozenset[str] | None = None
        if op is c.SUBPATTERN:
            need = _needles(av[-1])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            need = _needles(av[2])
        elif op is c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                got = _needles(branch)
                if got is None:
                    break
                union |= got
            else:
                need = frozenset(union)
        if need:
            candidates.append(need)
    close_run()
    return min(candidates, key=_cost) if candidates else None


def _class_chars(items: Any) -> frozenset[str] | None:
    import re._constants as c

    out: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            out.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < _NEEDLE_CLASS:
            out.update(chr(x) for x in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY (\s, \d), a wide range
            return None
    return frozenset(out) if 0 < len(out) <= _NEEDLE_CLASS else None


def _cost(needles: frozenset[str]) -> int:
    """How many texts a set of needles lets through, roughly: a string of two or more
    characters 1, a character 4, a common character 20."""
    return sum(1 if len(n) > 1 else 20 if n in _COMMON else 4 for n in needles)
