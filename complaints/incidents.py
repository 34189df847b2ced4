"""A customer's case: their open incidents, recent complaints and the inputs already handled.

Pure. Grouping follows Alertmanager's groups and PagerDuty's dedup key: contacts from the
same customer about the same matter within a window are one incident, whatever channel they
came by. Identity is derived, never random, so a retried input yields the same alert.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from complaints.rules import RuleBook
from streams.records import Alert, AlertStatus, AssessedEvent

#: Statuses in which new contacts attach to the incident.
ACTIVE = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.WAITING})
#: How many handled input ids a case remembers (contacts and actions), newest last.
REMEMBERED_INPUTS = 200


class CaseState(BaseModel):
    """Everything the engine keeps per case key (one Faust table entry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_key: str
    alerts: tuple[Alert, ...] = ()
    negative_contacts: tuple[datetime, ...] = ()
    recent_inputs: tuple[str, ...] = ()
    next_due_at: datetime | None = None

    def stored(self) -> str:
        """The table entry: fields at their defaults left out, read back as the same state
        (a quarter less JSON to write, recover, hold and parse per case: issue #17)."""
        return self.model_dump_json(exclude_defaults=True)

    def alert(self, alert_id: str) -> Alert | None:
        return next((a for a in self.alerts if a.alert_id == alert_id), None)

    def replace(self, alert: Alert) -> CaseState:
        others = [a for a in self.alerts if a.alert_id != alert.alert_id]
        return self.model_copy(update={"alerts": (*others, alert)})

    def handled(self, input_id: str) -> bool:
        return input_id in self.recent_inputs

    def remember(self, input_id: str) -> CaseState:
        return self.model_copy(
            update={"recent_inputs": (*self.recent_inputs, input_id)[-REMEMBERED_INPUTS:]}
        )


def new_case(case_key: str) -> CaseState:
    return CaseState(case_key=case_key)


def alert_id_for(rule_id: str, case_key: str, opened_at: datetime) -> str:
    """Deterministic alert id: the same cause at the same moment is the same alert."""
    digest = hashlib.sha256(f"{rule_id}|{case_key}|{opened_at.isoformat()}".encode()).hexdigest()
    return f"al-{digest[:20]}"


def find_incident(state: CaseState, event: AssessedEvent, rules: RuleBook) -> Alert | None:
    """The active incident this contact belongs to: same order, else the latest recent one."""
    active = [a for a in state.alerts if a.status in ACTIVE]
    if event.order_id is not None:
        same_order = [a for a in active if a.order_id == event.order_id]
        if same_order:
            return max(same_order, key=lambda a: a.updated_at)
    window = rules.incidents.group_window
    recent = [
        a
        for a in active
        if event.occurred_at - a.updated_at <= window
        and (event.order_id is None or a.order_id is None or a.order_id == event.order_id)
    ]
    return max(recent, key=lambda a: a.updated_at) if recent else None


def earlier_complaints(state: CaseState, at: datetime, rules: RuleBook) -> int:
    """How many negative contacts this customer made within the repeat window before `at`."""
    window = rules.incidents.repeat_window
    return sum(1 for t in state.negative_contacts if t < at and at - t <= window)


def record_complaint(state: CaseState, at: datetime, rules: RuleBook) -> CaseState:
    """Remember a negative contact's time, forgetting those older than the repeat window."""
    window = rules.incidents.repeat_window
    kept = tuple(sorted(t for t in (*state.negative_contacts, at) if at - t <= window))
    return state.model_copy(update={"negative_contacts": kept})
