"""Finds the grievances of a text: money taken, a promise broken, being lied to or signed up
without consent, being sent from desk to desk, going unanswered, being harmed, a hazard
(grievances.yaml).

Pure. Each group counts once, with the first of its patterns that matches; what it found is a
cue a person can read (kind "grievance", label = the group), and its emotion and category
weights join those of the cue words.
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.cuecache import cue
from complaints.lexicon import GrievanceCues
from complaints.matching import Gated, gate
from streams.records import Cue, Emotion


class Grievances(NamedTuple):
    groups: tuple[str, ...]  # group names, in the order of grievances.yaml
    cues: tuple[Cue, ...]
    emotions: dict[Emotion, float]


class GrievanceFinder:
    """grievances.yaml, compiled once; each group's patterns are searched only in a text where
    its gate (complaints.matching.gate: the plain strings one of which every match contains)
    finds something — most texts have no grievance."""

    def __init__(self, cues: GrievanceCues) -> None:
        self._groups = [
            (name, group, gate(group.patterns), tuple(Gated.of(p) for p in group.patterns))
            for name, group in cues.groups.items()
        ]

    def find(self, text: str) -> Grievances:
        """The grievances said in `text` (a normalised text)."""
        groups: list[str] = []
        found: list[Cue] = []
        emotions: dict[Emotion, float] = {}
        for name, group, needles, patterns in self._groups:
            if needles is not None and not needles.search(text):
                continue
            said = next((m.group() for p in patterns if (m := p.search(text))), None)
            if said is None:
                continue
            groups.append(name)
            found.append(cue(kind="grievance", term=said, label=name, weight=1.0))
            for emotion, weight in group.emotions.items():
                emotions[emotion] = emotions.get(emotion, 0.0) + weight
        return Grievances(tuple(groups), tuple(found), emotions)


def find_grievances(text: str, cues: GrievanceCues) -> Grievances:
    """The grievances said in `text` (a normalised text); compiles `cues` each call (tests,
    one-off use: the scorer keeps a GrievanceFinder)."""
    return GrievanceFinder(cues).find(text)
