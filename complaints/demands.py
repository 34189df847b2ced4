"""Finds the demands a customer makes — refund, compensation, responsibility, an explanation, an
apology, a replacement, a cancellation (demands.yaml) — reported beside threats.

Pure. Per sentence: an object of a kind (退款, 赔偿…) with a forcing word shortly before it
(必须…退款, 要求…赔偿), or a form only a demand takes (退一赔三, 给个说法, 把差价退给我). A
question (…能退款吗？), a polite ask (麻烦帮我申请退款) and a negated object (不用道歉) are not
demands: an ask is a request, and the intent step treats it as one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from complaints.cuecache import cue
from complaints.lexicon import DemandCues
from complaints.matching import alternation, gate
from streams.records import Cue

_SENTENCE = re.compile(r"[^。！!？?；;\n]+[。！!？?；;\n]*")
_CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")
_QUESTION_END = re.compile(r"(?:[？?]|[吗呢嘛][。！!？?～~…\s]*)$")


class Demands(NamedTuple):
    names: tuple[
        str, ...
    ]  # kinds (demands.yaml keys), in the order their objects are said, each once
    cues: tuple[Cue, ...]  # kind "demand", term = what was said, label = the kind


class DemandFinder:
    """demands.yaml, compiled once."""

    def __init__(self, cues: DemandCues) -> None:
        self._window = cues.window
        self._forcing = re.compile(alternation(cues.forcing).pattern.removesuffix("$"))
        self._polite = re.compile(alternation(cues.polite).pattern.removesuffix("$"))
        self._negated = alternation(cues.negators)
        self._kinds = [
            (name, re.compile(alternation(kind.objects).pattern.removesuffix("$")), kind.forms)
            for name, kind in cues.kinds.items()
        ]
        # Any object or form anywhere: a demand needs one (its patterns have no anchors or
        # lookarounds, so what matches inside a sentence matches in the whole text).
        self._any = re.compile(
            "|".join(
                [objects.pattern for _, objects, _ in self._kinds]
                + [f"(?:{form.pattern})" for _, _, forms in self._kinds for form in forms]
            )
        )
        # ...and per kind, the plain strings one of which any of its matches contains
        # (complaints.matching.gate): a kind none of whose needles is in the text is skipped
        self._gates = {name: gate((objects, *forms)) for name, objects, forms in self._kinds}
        self._any_gate = gate((self._any,))

    def find(self, text: str) -> Demands:
        """The demands said in `text` (a normalised text)."""
        if (self._any_gate is not None and not self._any_gate.search(text)) or not self._any.search(
            text
        ):
            return Demands((), ())
        kinds = [
            kind
            for kind in self._kinds
            if (needles := self._gates[kind[0]]) is None or needles.search(text)
        ]
        found: dict[str, tuple[int, str]] = {}
        for sentence in _SENTENCE.finditer(text):
            s = sentence.group()
            if _QUESTION_END.search(s.rstrip()):
                continue
            for name, objects, forms in kinds:
                if name in found:
                    continue
                said = self._said(s, objects, forms)
                if said is not None:
                    found[name] = (sentence.start() + said[0], said[1])
        ordered = sorted(found.items(), key=lambda item: item[1][0])
        return Demands(
            tuple(name for name, _ in ordered),
            tuple(
                cue(kind="demand", term=said, label=name, weight=1.0) for name, (_, said) in ordered
            ),
        )

    def _said(
        self, s: str, objects: re.Pattern[str], forms: tuple[re.Pattern[str], ...]
    ) -> tuple[int, str] | None:
        """(where its object ends, words) of the first demand of one kind in sentence `s`."""
        for form in forms:
            if (m := form.search(s)) and not self._polite_at(s, m.start()):
                return m.end(), m.group()
        for m in objects.finditer(s):
            if self._negated.search(s, max(0, m.start() - 3), m.start()):
                continue
            forcing = self._forcing.search(s, max(0, m.start() - self._window), m.start())
            if forcing is not None and not self._polite_at(s, m.start()):
                return m.end(), s[forcing.start() : m.end()]
        return None

    def _polite_at(self, s: str, pos: int) -> bool:
        """Whether the clause around `pos` is a polite ask (请问 / 麻烦 / 能不能…)."""
        start = 0
        for end in _CLAUSE_END.finditer(s):
            if end.start() >= pos:
                return bool(self._polite.search(s, start, end.start()))
            start = end.end()
        return bool(self._polite.search(s, start))
