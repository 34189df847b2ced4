"""decide(): advance one case by one input — a contact, a person's action, or a clock tick.

Pure; composes the stages (tier -> incident -> clocks -> compensation -> lifecycle records).
Time is an argument and every id is derived, so processing the same input twice gives the
same records, and an input already handled gives none: that is what makes "no alert twice"
provable downstream (sinks de-duplicate on alert_id:version).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from complaints.calendar import calendar_named
from complaints.compensation import recommend_compensation
from complaints.incidents import (
    ACTIVE,
    CaseState,
    alert_id_for,
    earlier_complaints,
    find_incident,
    new_case,
    record_complaint,
)
from complaints.masking import mask_personal_data
from complaints.rules import RuleBook
from complaints.sla import ClockSignal, advance, next_instant, pause, resume, start_clock, stop
from complaints.tiers import TierDecision, assign_tier
from streams.records import (
    SOURCE_LABELS,
    TIER_LABELS,
    ActionKind,
    Alert,
    AlertAction,
    AlertEvent,
    AlertKind,
    AlertStatus,
    AssessedEvent,
    ClockKind,
    Compensation,
    Cue,
    FollowUp,
    GroupNotice,
    ParentOutcome,
    Signal,
    SignalChange,
    SlaClock,
    Tick,
    Transition,
)

Input = AssessedEvent | AlertAction | Tick | Signal | GroupNotice

REPEAT_RULE = "repeat-complainant"
CHURN_AFTER_COMPLAINT_RULE = "churn-after-complaint"
#: A proactive alert a customer complained about says so in its title.
COMPLAINED_PREFIX = "客户投诉 · "
_RUNGS = ("basic", "emotional", "relationship")
#: Deadlines in lifecycle details are shown in the operators' time zone.
_DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
_KEYWORDS_KEPT = 10


class Suppressed(StrEnum):
    """Why an input produced no lifecycle record (counted by the agent, never silent)."""

    DUPLICATE_INPUT = "DUPLICATE_INPUT"
    NO_RULE = "NO_RULE"
    UNKNOWN_ALERT = "UNKNOWN_ALERT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    NOTHING_DUE = "NOTHING_DUE"


class Decision(NamedTuple):
    state: CaseState | None  # None: nothing left to remember for this case
    outputs: tuple[AlertEvent, ...]  # lifecycle records to publish, in order
    suppressed: Suppressed | None = None
    #: For other cases: a parent incident ended, so its members there are resolved or handed
    #: back (sent keyed by each notice's case, after the lifecycle records).
    notices: tuple[GroupNotice, ...] = ()


def case_key_of(item: Input) -> str:
    return item.case_key


def decide(state: CaseState | None, item: Input, now: datetime, rules: RuleBook) -> Decision:
    """Advance the case of `item` by `item` at `now`."""
    case = state or new_case(item.case_key)
    timeline = _Timeline(rules)
    if isinstance(item, AssessedEvent):
        case, suppressed = _on_contact(case, item, now, rules, timeline)
    elif isinstance(item, AlertAction):
        case, suppressed = _on_action(case, item, rules, timeline)
    elif isinstance(item, Signal):
        case, suppressed = _on_signal(case, item, rules, timeline)
    elif isinstance(item, GroupNotice):
        case, suppressed = _on_notice(case, item, rules, timeline)
    else:
        case, suppressed = _on_tick(case, item.at, rules, timeline)
    case = case.model_copy(
        update={"alerts": tuple(a for a in case.alerts if a.status is not AlertStatus.CLOSED)}
    )
    case = case.model_copy(update={"next_due_at": next_due(case, rules)})
    keep = case.alerts or case.negative_contacts
    return Decision(
        case if keep else None,
        tuple(timeline.records),
        None if timeline.records else suppressed,
        tuple(timeline.notices),
    )


# -- the lifecycle record -------------------------------------------------------------------


class _Timeline:
    """Collects lifecycle records; each one bumps the alert's version and snapshots it."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules
        self.records: list[AlertEvent] = []
        self.notices: list[GroupNotice] = []

    def record(
        self,
        alert: Alert,
        transition: Transition,
        at: datetime,
        *,
        actor: str | None = None,
        rule_id: str | None = None,
        detail: str = "",
        first: bool = False,
    ) -> Alert:
        levels = self.rules.escalation.levels
        reached = min(max((c.escalations for c in alert.clocks), default=0), len(levels) - 1)
        level = max(alert.escalation_level, reached)
        alert = alert.model_copy(
            update={
                "version": alert.version if first else alert.version + 1,
                "updated_at": max(alert.updated_at, at),
                "escalation_level": level,
                "escalated_to": levels[level] if level else None,
            }
        )
        if alert.kind is AlertKind.COMPLAINT:  # a detected condition carries its own
            ladder = recommend_compensation(alert, self.rules)
            if alert.tracks is not None:  # a complaint joined a proactive alert: never less
                ladder = richer_compensation(ladder, alert.compensation)
            alert = alert.model_copy(update={"compensation": ladder})
        self.records.append(
            AlertEvent(
                record_id=f"{alert.alert_id}:{alert.version}",
                alert_id=alert.alert_id,
                version=alert.version,
                transition=transition,
                at=at,
                actor=actor,
                rule_id=rule_id,
                detail=detail,
                alert=alert,
            )
        )
        return alert


# -- contacts -------------------------------------------------------------------------------


def _on_contact(
    case: CaseState, event: AssessedEvent, now: datetime, rules: RuleBook, timeline: _Timeline
) -> tuple[CaseState, Suppressed | None]:
    if case.handled(event.assessment_id):
        return case, Suppressed.DUPLICATE_INPUT
    case = case.remember(event.assessment_id)
    at = min(event.occurred_at, now)
    for waiting in [a for a in case.alerts if a.status is AlertStatus.WAITING]:
        case = case.replace(
            _resume(waiting, at, rules, timeline, actor=None, detail="客户已回复，恢复计时")
        )
    decision = assign_tier(event, rules)
    if decision is None:
        return case, Suppressed.NO_RULE
    earlier = earlier_complaints(case, at, rules)
    case = record_complaint(case, at, rules)
    incident = find_incident(case, event, rules)
    if incident is None:
        alert = _open(case.case_key, event, decision, earlier, at, rules, timeline)
    else:
        alert = _attach(incident, event, decision, earlier, at, rules, timeline)
    case = case.replace(alert)
    for churning in [
        a for a in case.alerts if a.status in ACTIVE and tracked_kind(a) is AlertKind.CHURN
    ]:
        raised = _raise_churn_after_complaint(churning, at, rules, timeline)
        if raised is not churning:
            case = case.replace(raised)
    return case, None


def tracked_kind(alert: Alert) -> AlertKind | None:
    """The detected condition an alert follows (None for a plain complaint)."""
    if alert.tracks is not None:
        return alert.tracks
    return None if alert.kind is AlertKind.COMPLAINT else alert.kind


def _churn_after_complaint_cue(count: int, rules: RuleBook) -> Cue:
    days = rules.incidents.repeat_window.days or 1
    return Cue(
        kind="recent_complaint",
        term=f"流失预警前后{days}天内投诉{count}次",
        label=CHURN_AFTER_COMPLAINT_RULE,
        weight=1.0,
    )


def _raise_churn_after_complaint(
    alert: Alert, at: datetime, rules: RuleBook, timeline: _Timeline
) -> Alert:
    """A churning customer who complains is raised one tier above churn's own (either order)."""
    target = max(1, rules.churn.tier - 1)
    if alert.tier <= target:
        return alert
    old = alert.tier
    why = (*alert.why, _churn_after_complaint_cue(1, rules))
    alert = alert.model_copy(
        update={"tier": target, "rule_id": CHURN_AFTER_COMPLAINT_RULE, "why": why}
    )
    alert = alert.model_copy(update={"clocks": _clocks_for(alert, target, at, rules)})
    detail = f"{TIER_LABELS[old]} → {TIER_LABELS[target]} · 流失预警期间客户投诉"
    return timeline.record(
        alert, Transition.TIER_RAISED, at, rule_id=CHURN_AFTER_COMPLAINT_RULE, detail=detail
    )


def _repeat_cue(earlier: int, rules: RuleBook) -> Cue:
    days = rules.incidents.repeat_window.days or 1
    return Cue(
        kind="repeat_complainant",
        term=f"{days}天内第{earlier + 1}次投诉",
        label=REPEAT_RULE,
        weight=1.0,
    )


def _open(
    case_key: str,
    event: AssessedEvent,
    decision: TierDecision,
    earlier: int,
    at: datetime,
    rules: RuleBook,
    timeline: _Timeline,
) -> Alert:
    tier, rule_id, why = decision.tier, decision.rule_id, decision.why
    if earlier and tier > 1:  # seed 002: a customer complaining again is raised one tier
        tier, rule_id, why = tier - 1, REPEAT_RULE, (*why, _repeat_cue(earlier, rules))
    score = event.assessment
    alert = Alert(
        alert_id=alert_id_for(decision.rule_id, case_key, at),
        version=1,
        case_key=case_key,
        customer_id=event.customer_id,
        order_id=event.order_id,
        tier=tier,  # type: ignore[arg-type]
        status=AlertStatus.OPEN,
        rule_id=rule_id,
        rules_version=rules.version,
        why=why,
        opened_at=at,
        updated_at=at,
        contacts=1,
        sources=(event.source,),
        event_ids=(event.event_id,),
        category=score.category if score else None,
        emotion=score.emotion if score else None,
        intensity=score.intensity if score else 0,
        threats=score.threats if score else (),
        keywords=score.keywords[:_KEYWORDS_KEPT] if score else (),
        excerpt=_excerpt(event, rules),
        product=event.product,
        sku=event.sku,
        batch=event.batch,
        region=event.region,
        carrier=event.carrier,
        reach=event.reach,
    )
    alert = alert.model_copy(update={"clocks": _clocks_for(alert, tier, at, rules)})
    detail = f"{TIER_LABELS[tier]} · {SOURCE_LABELS[event.source]}"
    return timeline.record(alert, Transition.OPENED, at, rule_id=rule_id, detail=detail, first=True)


def _attach(
    alert: Alert,
    event: AssessedEvent,
    decision: TierDecision,
    earlier: int,
    at: datetime,
    rules: RuleBook,
    timeline: _Timeline,
) -> Alert:
    score = event.assessment
    keep = rules.incidents.keep_event_ids
    if alert.kind is not AlertKind.COMPLAINT:
        # A customer complained about what a proactive alert tracks: it is a complaint now
        # (the kind filter finds it; compensation follows its tier), still following its signal.
        alert = alert.model_copy(
            update={
                "kind": AlertKind.COMPLAINT,
                "tracks": tracked_kind(alert),
                "title": _complained_title(alert.title),
            }
        )
    alert = alert.model_copy(
        update={
            "contacts": alert.contacts + 1,
            "event_ids": (*alert.event_ids, event.event_id)[-keep:],
            "sources": alert.sources
            if event.source in alert.sources
            else (*alert.sources, event.source),
            "order_id": alert.order_id or event.order_id,
            "customer_id": alert.customer_id or event.customer_id,
            "intensity": max(alert.intensity, score.intensity if score else 0),
            "threats": tuple(dict.fromkeys((*alert.threats, *(score.threats if score else ())))),
            "keywords": tuple(dict.fromkeys((*(score.keywords if score else ()), *alert.keywords)))[
                :_KEYWORDS_KEPT
            ],
            "emotion": score.emotion if score else alert.emotion,
            "category": score.category if score else alert.category,
            "excerpt": _excerpt(event, rules) or alert.excerpt,
            "reach": max(alert.reach, event.reach),
            "product": alert.product or event.product,
            "sku": alert.sku or event.sku,
            "batch": alert.batch or event.batch,
            "region": alert.region or event.region,
            "carrier": alert.carrier or event.carrier,
        }
    )
    detail = f"第{alert.contacts}次联系 · {SOURCE_LABELS[event.source]}"
    alert = timeline.record(
        alert, Transition.CONTACT_ADDED, at, rule_id=decision.rule_id, detail=detail
    )
    target: int = alert.tier
    rule_id, why = decision.rule_id, decision.why
    if decision.tier < target:
        target = decision.tier
    if earlier and alert.tier > 1 and target >= alert.tier:
        target, rule_id, why = (
            alert.tier - 1,
            REPEAT_RULE,
            (*decision.why, _repeat_cue(earlier, rules)),
        )
    if target < alert.tier:
        old = alert.tier
        alert = alert.model_copy(update={"tier": target, "rule_id": rule_id, "why": why})
        alert = alert.model_copy(update={"clocks": _clocks_for(alert, target, at, rules)})
        detail = f"{TIER_LABELS[old]} → {TIER_LABELS[target]}"
        alert = timeline.record(alert, Transition.TIER_RAISED, at, rule_id=rule_id, detail=detail)
    return alert


def _complained_title(title: str) -> str:
    if not title or title.startswith(COMPLAINED_PREFIX):
        return title
    return (COMPLAINED_PREFIX + title)[:200]


def richer_compensation(
    first: Compensation | None, second: Compensation | None
) -> Compensation | None:
    """The more generous of two recommendations (amount, then rung); the first on a tie."""
    if first is None or second is None:
        return first or second

    def worth(c: Compensation) -> tuple[int, int]:
        return (c.amount_yuan, _RUNGS.index(c.rung))

    return second if worth(second) > worth(first) else first


def _excerpt(event: AssessedEvent, rules: RuleBook) -> str:
    if event.assessment is None:
        return ""
    text = " ".join(event.assessment.masked_text.split())
    limit = rules.incidents.excerpt_chars
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clocks_for(alert: Alert, tier: int, at: datetime, rules: RuleBook) -> tuple[SlaClock, ...]:
    """The alert's clocks plus any its (new) tier needs that are not running yet.

    A first-action clock is not started for an alert somebody already acknowledged.
    """
    clocks = list(alert.clocks)
    present = {c.kind for c in clocks}
    acted = alert.status in (AlertStatus.ACKNOWLEDGED, AlertStatus.WAITING)
    for kind, rule in rules.tiers[tier].clocks.items():  # type: ignore[index]
        if kind in present or (kind is ClockKind.FIRST_ACTION and acted):
            continue
        clocks.append(start_clock(kind, rule, at, calendar_named(rules, rule.calendar)))
    return tuple(clocks)


# -- actions by people ----------------------------------------------------------------------


def _on_action(
    case: CaseState, action: AlertAction, rules: RuleBook, timeline: _Timeline
) -> tuple[CaseState, Suppressed | None]:
    alert = case.alert(action.alert_id)
    if alert is None:
        return case, Suppressed.UNKNOWN_ALERT
    if case.handled(action.action_id):
        return case, Suppressed.DUPLICATE_INPUT
    case = case.remember(action.action_id)
    updated = _apply(alert, action, rules, timeline)
    if updated is None:
        return case, Suppressed.NOT_APPLICABLE
    return case.replace(updated), None


def _apply(alert: Alert, action: AlertAction, rules: RuleBook, timeline: _Timeline) -> Alert | None:
    """The alert after `action`, or None when the action does not apply in its status."""
    at, actor, kind = action.at, action.actor, action.kind
    if alert.status is AlertStatus.CLOSED:
        return None
    if kind is ActionKind.COMMENT:
        comment = mask_personal_data(action.comment or "").text
        return timeline.record(alert, Transition.COMMENTED, at, actor=actor, detail=comment)
    if kind is ActionKind.ASSIGN:
        if not action.assignee:
            return None
        alert = alert.model_copy(update={"assignee": action.assignee})
        return timeline.record(alert, Transition.ASSIGNED, at, actor=actor, detail=action.assignee)
    if kind is ActionKind.CLOSE:
        if alert.status is not AlertStatus.RESOLVED:
            _notify_members(alert, ParentOutcome.HAND_BACK, at, actor, timeline)
        return _close(alert, at, rules, timeline, actor=actor, detail=action.comment or "人工关闭")
    if kind is ActionKind.FOLLOW_UP:
        return _record_follow_up(alert, action, rules, timeline)
    if alert.status is AlertStatus.RESOLVED:
        return None
    if kind is ActionKind.ACKNOWLEDGE:
        if alert.status is not AlertStatus.OPEN:
            return None
        clocks = _stop_clocks(alert, {ClockKind.FIRST_ACTION}, at, rules)
        alert = alert.model_copy(update={"status": AlertStatus.ACKNOWLEDGED, "clocks": clocks})
        return timeline.record(alert, Transition.ACKNOWLEDGED, at, actor=actor)
    if kind is ActionKind.WAIT_ON_CUSTOMER:
        if alert.status is AlertStatus.WAITING:
            return None
        clocks = tuple(pause(c, at, calendar_named(rules, c.calendar)) for c in alert.clocks)
        alert = alert.model_copy(update={"status": AlertStatus.WAITING, "clocks": clocks})
        return timeline.record(
            alert, Transition.PAUSED, at, actor=actor, detail=action.comment or ""
        )
    if kind is ActionKind.RESUME:
        if alert.status is not AlertStatus.WAITING:
            return None
        return _resume(alert, at, rules, timeline, actor=actor, detail="")
    if kind is ActionKind.RESOLVE:
        if alert.group is not None:
            _notify_members(alert, alert.group.on_resolve, at, actor, timeline)
        return _resolve(alert, at, action.actor, action.comment or "", rules, timeline)
    return None


def _stop_clocks(
    alert: Alert, kinds: set[ClockKind], at: datetime, rules: RuleBook
) -> tuple[SlaClock, ...]:
    return tuple(
        stop(c, at, calendar_named(rules, c.calendar)) if c.kind in kinds else c
        for c in alert.clocks
    )


def _resume(
    alert: Alert,
    at: datetime,
    rules: RuleBook,
    timeline: _Timeline,
    *,
    actor: str | None,
    detail: str,
) -> Alert:
    clocks = tuple(resume(c, at, calendar_named(rules, c.calendar)) for c in alert.clocks)
    acted = any(c.kind is ClockKind.FIRST_ACTION and c.stopped_at for c in clocks) or not any(
        c.kind is ClockKind.FIRST_ACTION for c in clocks
    )
    status = AlertStatus.ACKNOWLEDGED if acted else AlertStatus.OPEN
    alert = alert.model_copy(update={"status": status, "clocks": clocks})
    return timeline.record(alert, Transition.RESUMED, at, actor=actor, detail=detail)


def _resolve(
    alert: Alert,
    at: datetime,
    actor: str | None,
    detail: str,
    rules: RuleBook,
    timeline: _Timeline,
) -> Alert:
    clocks = _stop_clocks(alert, set(ClockKind), at, rules)
    policy = rules.follow_up
    follow_up = FollowUp(due_at=at + policy.delay) if alert.tier in policy.tiers else None
    alert = alert.model_copy(
        update={"status": AlertStatus.RESOLVED, "clocks": clocks, "follow_up": follow_up}
    )
    alert = timeline.record(alert, Transition.RESOLVED, at, actor=actor, detail=detail)
    if follow_up is None:
        alert = _close(alert, at, rules, timeline, actor=actor, detail="预防性响应无需回访")
    return alert


# -- parent incidents and their members (issue #16) -----------------------------------------


def notice_id_for(parent_alert_id: str, case_key: str, outcome: ParentOutcome) -> str:
    """Deterministic: the same parent ending is one notice per member case."""
    digest = hashlib.sha256(f"{parent_alert_id}|{case_key}|{outcome.value}".encode()).hexdigest()
    return f"gn-{digest[:24]}"


def _notify_members(
    alert: Alert,
    outcome: ParentOutcome,
    at: datetime,
    actor: str | None,
    timeline: _Timeline,
) -> None:
    """A parent ends: tell each member case (other partitions) to resolve or hand back."""
    group = alert.group
    if group is None:
        return
    for case_key in group.member_case_keys:
        timeline.notices.append(
            GroupNotice(
                notice_id=notice_id_for(alert.alert_id, case_key, outcome),
                case_key=case_key,
                parent_alert_id=alert.alert_id,
                parent_title=alert.title[:200],
                member_kind=group.member_kind,
                outcome=outcome,
                event_ids=group.member_event_ids,
                order_ids=group.member_order_ids,
                at=at,
                actor=actor,
            )
        )


def _is_member(alert: Alert, notice: GroupNotice) -> bool:
    if alert.status not in ACTIVE:
        return False
    if notice.order_ids and tracked_kind(alert) is AlertKind.LOGISTICS_DELAY:
        return alert.subject in notice.order_ids or alert.order_id in notice.order_ids
    return bool(set(alert.event_ids) & set(notice.event_ids))


def _on_notice(
    case: CaseState, notice: GroupNotice, rules: RuleBook, timeline: _Timeline
) -> tuple[CaseState, Suppressed | None]:
    """A parent this case's alerts belonged to ended: resolve them with it, or hand them back."""
    if case.handled(notice.notice_id):
        return case, Suppressed.DUPLICATE_INPUT
    case = case.remember(notice.notice_id)
    members = [a for a in case.alerts if _is_member(a, notice)]
    if not members:
        return case, Suppressed.NOT_APPLICABLE
    title = notice.parent_title or notice.parent_alert_id
    for alert in members:
        # A member a customer complained about needs its own closed loop: handed back.
        resolve = notice.outcome is ParentOutcome.RESOLVE and alert.kind is notice.member_kind
        if resolve:
            detail = f"随「{title}」一并解决"
            updated = _resolve(alert, notice.at, notice.actor, detail, rules, timeline)
        else:
            detail = f"「{title}」已结束，转回单独处理"
            updated = timeline.record(
                alert, Transition.HANDED_BACK, max(notice.at, alert.updated_at), detail=detail
            )
        case = case.replace(updated)
    return case, None


def _record_follow_up(
    alert: Alert, action: AlertAction, rules: RuleBook, timeline: _Timeline
) -> Alert | None:
    if (
        alert.status is not AlertStatus.RESOLVED
        or alert.follow_up is None
        or alert.follow_up.recorded_at
    ):
        return None
    if action.satisfied is None and action.score is None:
        return None
    at = action.at
    unhappy = action.satisfied is False or (
        action.score is not None and action.score < rules.follow_up.reopen_below_score
    )
    follow_up = alert.follow_up.model_copy(
        update={"recorded_at": at, "satisfied": not unhappy, "score": action.score}
    )
    alert = alert.model_copy(update={"follow_up": follow_up})
    detail = f"满意度 {action.score}/5" if action.score else ("满意" if not unhappy else "不满意")
    alert = timeline.record(
        alert, Transition.FOLLOW_UP_RECORDED, at, actor=action.actor, detail=detail
    )
    if not unhappy:
        return _close(alert, at, rules, timeline, actor=action.actor, detail="回访满意")
    # An unsatisfied customer reopens the case with fresh clocks for its tier.
    reopened = alert.model_copy(
        update={"status": AlertStatus.OPEN, "clocks": (), "follow_up": None}
    )
    reopened = reopened.model_copy(
        update={"clocks": _clocks_for(reopened, reopened.tier, at, rules)}
    )
    return timeline.record(
        reopened, Transition.REOPENED, at, actor=action.actor, detail="回访不满意，重新处理"
    )


def _close(
    alert: Alert,
    at: datetime,
    rules: RuleBook,
    timeline: _Timeline,
    *,
    actor: str | None,
    detail: str,
) -> Alert:
    clocks = _stop_clocks(alert, set(ClockKind), at, rules)
    alert = alert.model_copy(update={"status": AlertStatus.CLOSED, "clocks": clocks})
    return timeline.record(alert, Transition.CLOSED, at, actor=actor, detail=detail)


# -- detected conditions (surges, logistics delays, churn) ----------------------------------


def _on_signal(
    case: CaseState, signal: Signal, rules: RuleBook, timeline: _Timeline
) -> tuple[CaseState, Suppressed | None]:
    """Open, update or close the alert tracking (`kind`, `subject`) of this case."""
    if case.handled(signal.signal_id):
        return case, Suppressed.DUPLICATE_INPUT
    case = case.remember(signal.signal_id)
    tracking = [
        a
        for a in case.alerts
        if tracked_kind(a) is signal.kind
        and a.subject == signal.subject
        and a.status is not AlertStatus.CLOSED
    ]
    alert = max(tracking, key=lambda a: a.opened_at) if tracking else None
    if signal.change is SignalChange.CLEARED:
        if alert is None or signal.at < alert.opened_at:
            return case, Suppressed.NOT_APPLICABLE
        if alert.kind is AlertKind.COMPLAINT:
            # The condition ended (delivered, active again), the customer's complaint did not.
            updated = _update_signal(alert, signal, rules, timeline)
            return (case, Suppressed.NOT_APPLICABLE) if updated is None else (case.replace(updated), None)  # fmt: skip
        if signal.group is not None:  # a parent merged into another lists no members
            alert = alert.model_copy(update={"group": signal.group})
        if alert.status is not AlertStatus.RESOLVED:
            _notify_members(alert, ParentOutcome.HAND_BACK, signal.at, None, timeline)
        closed = _close(alert, signal.at, rules, timeline, actor=None, detail=signal.title)
        return case.replace(closed), None
    if alert is None:
        return case.replace(_open_signal(case, signal, rules, timeline)), None
    if signal.at < alert.updated_at and signal.tier >= alert.tier:
        return case, Suppressed.NOT_APPLICABLE  # older news than what the alert shows
    updated = _update_signal(alert, signal, rules, timeline)
    return (case, Suppressed.NOT_APPLICABLE) if updated is None else (case.replace(updated), None)


def _signal_fields(signal: Signal, alert: Alert | None = None) -> dict[str, object]:
    """What a signal says about the alert it opens or updates."""
    fields: dict[str, object] = {
        "title": signal.title,
        "surge": signal.surge,
        "delay": signal.delay,
        "churn": signal.churn,
        "compensation": signal.compensation,
        "group": signal.group,
    }
    if signal.group is not None:  # a parent: its size is its members
        fields["contacts"] = signal.group.member_count
        fields["intensity"] = signal.group.intensity
    if alert is not None and alert.kind is AlertKind.COMPLAINT:
        # A customer complained: the title says so and compensation never shrinks.
        fields["title"] = _complained_title(signal.title)
        fields["compensation"] = richer_compensation(alert.compensation, signal.compensation)
        del fields["group"]
    return fields


def _open_signal(case: CaseState, signal: Signal, rules: RuleBook, timeline: _Timeline) -> Alert:
    at = signal.at
    tier: int = signal.tier
    rule_id, why = signal.rule_id, signal.why
    window = rules.incidents.repeat_window
    # Complaints within the repeat window before the silence began, or since (the signal may
    # be judged after a complaint that followed the silence): either order counts.
    around = sum(1 for t in case.negative_contacts if at - t <= window)
    if signal.kind is AlertKind.CHURN and around and tier > 1:
        # A customer who complained recently and now goes quiet is raised in priority.
        cue = _churn_after_complaint_cue(around, rules)
        tier, rule_id, why = tier - 1, CHURN_AFTER_COMPLAINT_RULE, (*why, cue)
    alert = Alert(
        # The subject is part of the cause: two orders of one customer delayed at the same
        # instant are two alerts, not one id overwriting the other.
        alert_id=alert_id_for(signal.rule_id, f"{case.case_key}|{signal.subject}", at),
        version=1,
        case_key=case.case_key,
        kind=signal.kind,
        subject=signal.subject,
        customer_id=signal.customer_id,
        order_id=signal.order_id,
        tier=tier,  # type: ignore[arg-type]
        status=AlertStatus.OPEN,
        rule_id=rule_id,
        rules_version=rules.version,
        why=why,
        opened_at=at,
        updated_at=at,
        category=signal.category,
        keywords=signal.surge.keywords[:_KEYWORDS_KEPT] if signal.surge else (),
        excerpt="",  # no customer said it: the card shows the title, not 客户原话
        product=signal.product,
        sku=signal.sku,
        batch=signal.batch,
        region=signal.region,
        carrier=signal.carrier,
        tracks=signal.kind,
        **{"contacts": 0, **_signal_fields(signal)},  # type: ignore[arg-type]
    )
    alert = alert.model_copy(update={"clocks": _clocks_for(alert, tier, at, rules)})
    detail = f"{TIER_LABELS[tier]} · {signal.title}"
    return timeline.record(alert, Transition.OPENED, at, rule_id=rule_id, detail=detail, first=True)


def _update_signal(
    alert: Alert, signal: Signal, rules: RuleBook, timeline: _Timeline
) -> Alert | None:
    """The alert with the signal's new details (its tier only ever rises); None if unchanged."""
    changes = {k: v for k, v in _signal_fields(signal, alert).items() if getattr(alert, k) != v}
    if signal.surge and signal.surge.keywords:
        changes["keywords"] = signal.surge.keywords[:_KEYWORDS_KEPT]
    if not changes and signal.tier >= alert.tier:
        return None
    at = max(signal.at, alert.updated_at)
    if changes:
        alert = alert.model_copy(update=changes)
        alert = timeline.record(
            alert, Transition.UPDATED, at, rule_id=signal.rule_id, detail=signal.title
        )
    if signal.tier < alert.tier:
        old = alert.tier
        alert = alert.model_copy(
            update={
                "tier": signal.tier,
                "rule_id": signal.rule_id,
                "why": (*alert.why, *signal.why),
            }
        )
        alert = alert.model_copy(update={"clocks": _clocks_for(alert, signal.tier, at, rules)})
        detail = f"{TIER_LABELS[old]} → {TIER_LABELS[signal.tier]}"
        alert = timeline.record(
            alert, Transition.TIER_RAISED, at, rule_id=signal.rule_id, detail=detail
        )
    return alert


# -- clock ticks ----------------------------------------------------------------------------


def _on_tick(
    case: CaseState, at: datetime, rules: RuleBook, timeline: _Timeline
) -> tuple[CaseState, Suppressed | None]:
    for alert in list(case.alerts):
        updated = _tick_clocks(alert, at, rules, timeline)
        updated = _tick_follow_up(updated, at, rules, timeline)
        if updated is not alert:
            case = case.replace(updated)
    return case, Suppressed.NOTHING_DUE


def _tick_clocks(alert: Alert, at: datetime, rules: RuleBook, timeline: _Timeline) -> Alert:
    max_escalations = len(rules.escalation.levels) - 1
    for index, clock in enumerate(alert.clocks):
        advanced, events = advance(
            clock, at, calendar_named(rules, clock.calendar), max_escalations
        )
        if not events:
            continue
        clocks = list(alert.clocks)
        clocks[index] = advanced
        alert = alert.model_copy(update={"clocks": tuple(clocks)})
        for event in events:
            if event.signal is ClockSignal.WARNED:
                detail = f"{_clock_label(clock.kind)}已用 {event.fraction:.0%}，截止 {_local(event.due_at)}"
                alert = timeline.record(alert, Transition.WARNED, at, detail=detail)
            elif event.signal is ClockSignal.BREACHED:
                detail = f"{_clock_label(clock.kind)}已于 {_local(event.due_at)} 超时"
                alert = timeline.record(alert, Transition.BREACHED, at, detail=detail)
            else:
                level = min(event.escalations, max_escalations)
                alert = timeline.record(
                    alert,
                    Transition.ESCALATED,
                    at,
                    detail=f"上报至 {rules.escalation.levels[level]}",
                )
    return alert


def _tick_follow_up(alert: Alert, at: datetime, rules: RuleBook, timeline: _Timeline) -> Alert:
    follow_up = alert.follow_up
    if (
        alert.status is not AlertStatus.RESOLVED
        or follow_up is None
        or follow_up.recorded_at is not None
    ):
        return alert
    if not follow_up.announced and follow_up.due_at <= at:
        alert = alert.model_copy(
            update={"follow_up": follow_up.model_copy(update={"announced": True})}
        )
        return timeline.record(
            alert, Transition.FOLLOW_UP_DUE, at, detail="请回访客户，确认是否满意"
        )
    if follow_up.announced and at >= follow_up.due_at + rules.follow_up.expire_after:
        return _close(alert, at, rules, timeline, actor=None, detail="回访未记录，自动关闭")
    return alert


def next_due(case: CaseState, rules: RuleBook) -> datetime | None:
    """The next moment a tick could change this case (the timer only looks at this)."""
    max_escalations = len(rules.escalation.levels) - 1
    moments: list[datetime] = []
    for alert in case.alerts:
        if alert.status in ACTIVE:
            for clock in alert.clocks:
                moment = next_instant(clock, calendar_named(rules, clock.calendar), max_escalations)
                if moment is not None:
                    moments.append(moment)
        follow_up = alert.follow_up
        if (
            alert.status is AlertStatus.RESOLVED
            and follow_up is not None
            and follow_up.recorded_at is None
        ):
            moments.append(
                follow_up.due_at + rules.follow_up.expire_after
                if follow_up.announced
                else follow_up.due_at
            )
    return min(moments) if moments else None


def _clock_label(kind: ClockKind) -> str:
    return "首次响应时限" if kind is ClockKind.FIRST_ACTION else "闭环时限"


def _local(moment: datetime) -> str:
    """A deadline as operators read it: Beijing time, to the minute."""
    return moment.astimezone(_DISPLAY_ZONE).strftime("%m-%d %H:%M")
