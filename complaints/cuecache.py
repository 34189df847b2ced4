"""Builds the scorer's cues: ``cue(kind=, term=, label=, weight=)`` is ``Cue(...)``, shared;
and `per_model`, what the scorer reads out of a model once per model instead of once per text.

Pure in effect. A `Cue` is an immutable, validated record, and validating one costs about
1.6 µs; the scorer builds some forty per text (every emotion, polarity and category word it
meets, most of them dropped again), and the same words recur from text to text. Equal fields
give an equal, hashable, frozen record, so one instance per distinct set of fields is kept and
handed out again (a dictionary look-up instead of a validation). The memo holds at most
`MAX_CUES` records and starts afresh when full; what it returns never depends on it.
"""

from __future__ import annotations

from collections.abc import Callable
from math import copysign
from typing import TypeVar

from streams.records import Cue

MAX_CUES = 50_000
_M = TypeVar("_M")
_T = TypeVar("_T")
_CUES: dict[tuple[str, str, str | None, float, float], Cue] = {}


def cue(*, kind: str, term: str, label: str | None, weight: float) -> Cue:
    """The Cue of these fields (weight's sign kept apart: -0.0 and 0.0 print differently)."""
    key = (kind, term, label, weight, copysign(1.0, weight))
    found = _CUES.get(key)
    if found is None:
        if len(_CUES) >= MAX_CUES:
            _CUES.clear()
        found = _CUES[key] = Cue(kind=kind, term=term, label=label, weight=weight)
    return found


def per_model(build: Callable[[_M], _T]) -> Callable[[_M], _T]:
    """`build(model)`, computed once per model object (models are read-only and unhashable in
    practice: keyed by identity, checked against reuse of an id; at most 8 kept)."""
    memo: dict[int, tuple[_M, _T]] = {}

    def get(model: _M) -> _T:
        entry = memo.get(id(model))
        if entry is None or entry[0] is not model:
            if len(memo) >= 8:
                memo.clear()
            entry = memo[id(model)] = (model, build(model))
        return entry[1]

    return get
