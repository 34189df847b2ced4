"""Churn from customer activity: silence and falling feature use -> one signal per episode.

Pure. The state per customer is six small ints (a million customers fit in a few dozen MB):
the last login, the newest feature-use week and its counts for that week and the two before,
and when the open episode was announced. `observe` folds one activity in (event time; older
weeks than the three kept are ignored); `check` judges the customer at `now` and says RAISED
once when a rule starts to hold, CLEARED once when none holds any more (the customer came
back). `next_check` is the only moment time alone can change the verdict, which is what lets
the worker's timer look at due customers only.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import NamedTuple

from complaints.rules import ChurnPolicy
from streams.records import (
    ActivityKind,
    AlertKind,
    ChurnDetail,
    Cue,
    CustomerActivity,
    Signal,
    SignalChange,
)

#: Weeks start on Monday 00:00 Beijing time (1970-01-05 00:00 +08:00 = 1970-01-04 16:00 UTC).
WEEK_ANCHOR = 4 * 86400 - 8 * 3600
SILENT_RULE = "churn-silent"
DROP_RULE = "churn-feature-drop"


class ChurnState(NamedTuple):
    """One customer's activity summary; epoch seconds and week numbers, 0 meaning 'never'."""

    last_login: int = 0
    week: int = 0  # the newest week with feature use (its number since WEEK_ANCHOR)
    uses: int = 0  # feature uses in `week`
    uses_1: int = 0  # … in week - 1
    uses_2: int = 0  # … in week - 2
    announced: int = 0  # when the open episode's signal was raised; 0: none open

    def pack(self) -> str:
        """The table value: six integers, comma-separated (about 40 bytes)."""
        return ",".join(str(v) for v in self)

    @classmethod
    def unpack(cls, text: str) -> ChurnState:
        return cls(*(int(v) for v in text.split(",")))

    def uses_in(self, week: int) -> int:
        back = self.week - week
        return (self.uses, self.uses_1, self.uses_2)[back] if 0 <= back <= 2 else 0


class Checked(NamedTuple):
    state: ChurnState
    signal: Signal | None


class Verdict(NamedTuple):
    silent_days: float | None  # days since the last login, when that is a signal
    change: float | None  # week-over-week change of feature use (-0.6 = down 60 %), when a signal
    since: int  # epoch seconds from which the firing rules hold

    @property
    def rules(self) -> tuple[tuple[str, str], ...]:
        """(rule id, reason in Chinese) for each rule that fires."""
        out: list[tuple[str, str]] = []
        if self.silent_days is not None:
            out.append((SILENT_RULE, f"{self.silent_days:.0f} 天未登录"))
        if self.change is not None:
            out.append((DROP_RULE, f"功能使用量环比下降 {-self.change:.0%}"))
        return tuple(out)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(reason for _, reason in self.rules)


def week_of(moment: int, policy: ChurnPolicy) -> int:
    return (moment - WEEK_ANCHOR) // int(policy.week.total_seconds())


def week_start(week: int, policy: ChurnPolicy) -> int:
    return WEEK_ANCHOR + week * int(policy.week.total_seconds())


def observe(
    state: ChurnState | None, activity: CustomerActivity, policy: ChurnPolicy
) -> ChurnState:
    """Fold one activity into the summary (by its event time)."""
    state = state or ChurnState()
    moment = int(activity.occurred_at.timestamp())
    if activity.kind is ActivityKind.LOGIN:
        return state._replace(last_login=max(state.last_login, moment))
    week = week_of(moment, policy)
    if not (state.uses or state.uses_1 or state.uses_2) or week > state.week + 2:
        return state._replace(week=week, uses=activity.count, uses_1=0, uses_2=0)
    if week > state.week:
        ring = [state.uses, state.uses_1, state.uses_2]
        ring = [0] * (week - state.week) + ring
        return state._replace(week=week, uses=activity.count, uses_1=ring[1], uses_2=ring[2])
    back = state.week - week
    if back > 2:
        return state  # older than the weeks kept
    field = ("uses", "uses_1", "uses_2")[back]
    return state._replace(**{field: getattr(state, field) + activity.count})


def judge(state: ChurnState, now: int, policy: ChurnPolicy) -> Verdict | None:
    """Which churn rules hold at `now`, or None when the customer looks fine."""
    silence = int(policy.silence.total_seconds())
    silent = state.last_login > 0 and now - state.last_login >= silence
    last_week = week_of(now, policy) - 1  # the last complete week against the one before
    recent, before = state.uses_in(last_week), state.uses_in(last_week - 1)
    dropped = before >= policy.min_baseline_uses and recent <= before * (1 - policy.feature_drop)
    fires = (silent or dropped) if policy.require == "any" else (silent and dropped)
    if not fires:
        return None
    starts = []
    if silent:
        starts.append(state.last_login + silence)
    if dropped:
        starts.append(week_start(last_week + 1, policy))
    since = min(starts) if policy.require == "any" else max(starts)
    return Verdict(
        (now - state.last_login) / 86400 if silent else None,
        (recent - before) / before if dropped else None,
        min(since, now),
    )


def check(customer_id: str, state: ChurnState, now: datetime, policy: ChurnPolicy) -> Checked:
    """Judge the customer at `now`: RAISED when an episode starts, CLEARED when it ends."""
    moment = int(now.timestamp())
    verdict = judge(state, moment, policy)
    if verdict is not None and not state.announced:
        at = max(verdict.since, 1)
        signal = _signal(customer_id, SignalChange.RAISED, at, verdict, policy)
        return Checked(state._replace(announced=at), signal)
    if verdict is None and state.announced:
        at = max(moment, state.announced)
        signal = _signal(customer_id, SignalChange.CLEARED, at, None, policy)
        return Checked(state._replace(announced=0), signal)
    return Checked(state, None)


def next_check(state: ChurnState, after: int, policy: ChurnPolicy) -> int | None:
    """The first moment later than `after` at which time alone can change `judge()`."""
    moments = []
    if state.last_login:
        moments.append(state.last_login + int(policy.silence.total_seconds()))
    if state.uses or state.uses_1 or state.uses_2:
        # the last complete week moves on at each week start; beyond week+3 all counts are gone
        moments += [week_start(state.week + k, policy) for k in (1, 2, 3)]
    return min((m for m in moments if m > after), default=None)


def due_at(state: ChurnState, now: int, policy: ChurnPolicy) -> int | None:
    """When the customer should be checked, judged at `now`: now if the verdict disagrees with
    what was announced, else the next moment it could change."""
    if (judge(state, now, policy) is not None) != bool(state.announced):
        return now
    return next_check(state, now, policy)


def signal_id_for(customer_id: str, change: SignalChange, at: int) -> str:
    """Deterministic: the same episode edge of the same customer is the same signal."""
    digest = hashlib.sha256(f"churn|{customer_id}|{change.value}|{at}".encode()).hexdigest()
    return f"ch-{digest[:24]}"


def _signal(
    customer_id: str,
    change: SignalChange,
    at: int,
    verdict: Verdict | None,
    policy: ChurnPolicy,
) -> Signal:
    why: tuple[Cue, ...] = ()
    detail: ChurnDetail | None = None
    if verdict is None:
        title, rule_id = f"客户 {customer_id} 已恢复活跃", SILENT_RULE
    else:
        rule_id = verdict.rules[0][0]
        title = f"客户 {customer_id} 流失风险：{'，'.join(verdict.reasons)}"
        why = tuple(
            Cue(kind="churn", term=text, label=rule, weight=1.0) for rule, text in verdict.rules
        )
        detail = ChurnDetail(
            days_since_login=round(verdict.silent_days, 2)
            if verdict.silent_days is not None
            else None,
            feature_use_change=round(verdict.change, 4) if verdict.change is not None else None,
            reasons=verdict.reasons,
        )
    return Signal(
        signal_id=signal_id_for(customer_id, change, at),
        case_key=f"customer:{customer_id}",
        kind=AlertKind.CHURN,
        subject="churn",
        change=change,
        at=datetime.fromtimestamp(at, UTC),
        tier=policy.tier,
        rule_id=rule_id,
        title=title,
        why=why,
        customer_id=customer_id,
        churn=detail,
    )
