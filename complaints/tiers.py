"""Which response tier a contact needs, by which rule, and the cues that made it so.

Pure. The rules are data (rules.yaml `tier_rules`); this module only evaluates them: every
matching rule is a candidate, the most urgent tier wins, and among equals the first listed.
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.rules import Condition, RuleBook, TierRule
from streams.records import AssessedEvent, Cue

#: Which assessment cues explain which condition (what a person should see as "why").
_CUE_KINDS_FOR: dict[str, frozenset[str]] = {
    "emotion": frozenset({"emotion"}),
    "category": frozenset({"category"}),
    "min_intensity": frozenset(
        {"intensifier", "punctuation", "emoji", "speech_rate", "insult", "waiting", "distancing"}
    ),
    "threats": frozenset({"threat"}),
    "repeat_contact": frozenset({"repeat_contact"}),
    "demands": frozenset({"demand"}),
    "intent": frozenset({"intent"}),
    "negative": frozenset({"negative_term"}),
}
_MAX_WHY = 8


class TierDecision(NamedTuple):
    tier: int
    rule_id: str
    matched: tuple[str, ...]
    why: tuple[Cue, ...]


def condition_holds(condition: Condition, event: AssessedEvent) -> bool:
    """True when every test the condition names holds for the event."""
    score = event.assessment
    checks: list[bool] = []
    if condition.shipment_status is not None:
        checks.append(event.shipment_status in condition.shipment_status)
    if condition.source is not None:
        checks.append(event.source in condition.source)
    if condition.min_reach is not None:
        checks.append(event.reach >= condition.min_reach)
    text_tests = (
        condition.emotion,
        condition.category,
        condition.min_intensity,
        condition.threats,
        condition.repeat_contact,
        condition.demands,
        condition.intent,
        condition.negative,
    )
    if any(test is not None for test in text_tests):
        if score is None:
            return False
        if condition.emotion is not None:
            checks.append(score.emotion in condition.emotion)
        if condition.category is not None:
            checks.append(score.category in condition.category)
        if condition.min_intensity is not None:
            checks.append(score.intensity >= condition.min_intensity)
        if condition.threats is not None:
            checks.append(bool(score.threats) == condition.threats)
        if condition.repeat_contact is not None:
            checks.append(score.repeat_contact == condition.repeat_contact)
        if condition.demands is not None:
            checks.append(bool(score.demands) == condition.demands)
        if condition.intent is not None:
            checks.append(score.intent in condition.intent)
        if condition.negative is not None:
            checks.append(score.negative == condition.negative)
    return all(checks)


def assign_tier(event: AssessedEvent, rules: RuleBook) -> TierDecision | None:
    """The tier of the most urgent matching rule, or None when no rule asks for a response."""
    matching = [rule for rule in rules.tier_rules if condition_holds(rule.when, event)]
    if not matching:
        return None
    winner = min(matching, key=lambda rule: rule.tier)  # min() keeps the first of equals
    return TierDecision(
        winner.tier, winner.id, tuple(rule.id for rule in matching), _why(winner, event)
    )


def _why(rule: TierRule, event: AssessedEvent) -> tuple[Cue, ...]:
    tested = {name for name, value in rule.when.__dict__.items() if value is not None}
    if "shipment_status" in tested and event.shipment_status is not None:
        return (Cue(kind="shipment", term=event.shipment_status.value, label=rule.id, weight=1.0),)
    if event.assessment is None:
        return ()
    kinds = frozenset().union(*(_CUE_KINDS_FOR.get(name, frozenset()) for name in tested))
    relevant = [cue for cue in event.assessment.cues if cue.kind in kinds]
    chosen = sorted(relevant or list(event.assessment.cues), key=lambda cue: -abs(cue.weight))
    unique = {(cue.kind, cue.term): cue for cue in reversed(chosen)}  # strongest of each term wins
    return tuple(sorted(unique.values(), key=lambda cue: -abs(cue.weight))[:_MAX_WHY])
