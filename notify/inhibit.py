"""Stage 1, inhibit: which open alert holds back the pushes of which other alert, and why.

Pure. No I/O. The rules are rules.yaml's `inhibit_rules` (complaints/rules.py). An alert is
inhibited when some *open* alert (not resolved or closed) other than itself matches a rule's
source matchers while it matches the target matchers, shares every `equal` label (present and
equal on both: unlike Alertmanager, two missing labels are not "equal", or any surge without a
product would silence every complaint without one), and, for `members: true`, its case is
listed among the source incident's members. Inhibited alerts are still recorded and shown;
only their pushes are held (notify/pipeline.py), and the API says "inhibited by".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from complaints.rules import InhibitRule
from notify.labels import labels_of
from notify.matchers import matches
from streams.records import Alert, AlertStatus

__all__ = ["Inhibition", "Inhibitor", "inhibited_by", "is_open"]

_ENDED = (AlertStatus.RESOLVED, AlertStatus.CLOSED)


def is_open(alert: Alert) -> bool:
    """Open, acknowledged or waiting: it still stands for something happening now."""
    return alert.status not in _ENDED


@dataclass(frozen=True)
class Inhibition:
    """Why an alert is not pushed: `rule_id` matched with the open alert `source`."""

    rule_id: str
    source: Alert


@dataclass
class _RuleIndex:
    rule: InhibitRule
    sources: list[Alert] = field(default_factory=list)
    by_equal: dict[tuple[str, ...], list[Alert]] = field(default_factory=dict)
    by_member: dict[str, list[Alert]] = field(default_factory=dict)


class Inhibitor:
    """The open source alerts of every rule, indexed once; then asked about each target."""

    def __init__(self, alerts: Iterable[Alert], rules: Sequence[InhibitRule]) -> None:
        self._indexes = [_RuleIndex(rule) for rule in rules]
        # The earliest opened source explains an inhibition first (stable across replicas).
        for alert in sorted(alerts, key=lambda a: (a.opened_at, a.alert_id)):
            if not is_open(alert):
                continue
            labels = labels_of(alert)
            for index in self._indexes:
                if matches(index.rule.source_matchers, labels):
                    self._add(index, alert, labels)

    @staticmethod
    def _add(index: _RuleIndex, alert: Alert, labels: dict[str, str]) -> None:
        index.sources.append(alert)
        rule = index.rule
        if rule.equal:
            if all(name in labels for name in rule.equal):
                key = tuple(labels[name] for name in rule.equal)
                index.by_equal.setdefault(key, []).append(alert)
        if rule.members and alert.group is not None:
            for case_key in alert.group.member_case_keys:
                index.by_member.setdefault(case_key, []).append(alert)

    def why(self, alert: Alert) -> Inhibition | None:
        """The first rule (in file order) and source alert that inhibit `alert`, or None."""
        labels: dict[str, str] | None = None
        for index in self._indexes:
            if not index.sources:
                continue
            rule = index.rule
            labels = labels if labels is not None else labels_of(alert)
            if not matches(rule.target_matchers, labels):
                continue
            candidates = index.sources
            if rule.equal:
                if not all(name in labels for name in rule.equal):
                    continue
                candidates = index.by_equal.get(tuple(labels[n] for n in rule.equal), [])
            if rule.members:
                members = {id(a) for a in index.by_member.get(alert.case_key, [])}
                candidates = [a for a in candidates if id(a) in members]
            for source in candidates:
                if source.alert_id != alert.alert_id:
                    return Inhibition(rule.id, source)
        return None


def inhibited_by(
    alert: Alert, alerts: Iterable[Alert], rules: Sequence[InhibitRule]
) -> Inhibition | None:
    """Why `alert` is inhibited among `alerts` (only the open ones count), or None."""
    return Inhibitor(alerts, rules).why(alert)
