"""Which rung of the compensation ladder an alert calls for, and whether it needs approval.

Pure. Seed 003's ladder — basic (refund, redo, repair) → emotional (dedicated agent, VIP
channel, gift) → relationship (beta / experience-officer programme) — with the amounts and
the front-line authority (500 元) taken from the rule book.
"""

from __future__ import annotations

from complaints.rules import CompensationCondition, RuleBook
from streams.records import Alert, Compensation


def _holds(condition: CompensationCondition, alert: Alert) -> bool:
    return (
        (condition.tier is None or alert.tier in condition.tier)
        and (condition.min_contacts is None or alert.contacts >= condition.min_contacts)
        and (condition.min_reach is None or alert.reach >= condition.min_reach)
        and (condition.category is None or alert.category in condition.category)
    )


def recommend_compensation(alert: Alert, rules: RuleBook) -> Compensation | None:
    """The first matching compensation rule's rung and amount, or None if none matches."""
    policy = rules.compensation
    for rule in policy.rules:
        if _holds(rule.when, alert):
            rung = policy.rungs[rule.rung]
            return Compensation(
                rung=rule.rung,
                label=rung.label,
                actions=rung.actions,
                amount_yuan=rule.amount_yuan,
                needs_approval=rule.amount_yuan > policy.front_line_limit_yuan,
                rule_id=rule.id,
            )
    return None
