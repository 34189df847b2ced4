"""The notification path as one pure state machine: records in, messages out, answers settled.

Pure. No I/O, no clock reads: every method takes `now`; randomness (retry jitter) is injected.
The notifier process (notify/notifier.py) feeds it and does the sending. Its stages, in order
(Alertmanager's inhibit → silence → group → wait → dedup → retry, plus a budget):

1. dedup: a record the delivery log already settled for the subscription is skipped;
2. route: the subscription's filters (notify/routing.py);
3. inhibit and silence (notify/inhibit.py, notify/silencing.py), checked when a record arrives
   and again when its message is formed (a surge may open, a silence start, meanwhile):
   suppressed alerts are recorded in the delivery log as `filtered` with the reason;
4. group and wait (notify/grouping.py) per the subscription's policy;
5. budget and fold (notify/budget.py, notify/planner.py): tier 1 first, then tier 2; when the
   budget is short the last message carries every group still waiting;
6. retry (notify/retry.py): a transient failure resends the same message later; a rate-limit
   answer blocks the budget and puts the message's alerts back to wait (never retried into
   the block); anything else, or the last attempt, is dead-lettered.

Unacknowledged open alerts a group announced are announced again after `repeat_interval`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from complaints.rules import RuleBook
from notify.budget import Budget
from notify.grouping import Entry, Group, GroupKey, group_key, key_text, urgency
from notify.inhibit import Inhibitor, is_open
from notify.labels import labels_of
from notify.models import (
    Delivery,
    DeliveryOutcome,
    Mention,
    Subscription,
    message_id_for,
)
from notify.oncall import mention_for, on_duty
from notify.outcomes import Answer
from notify.planner import Due, plan
from notify.retry import Next, RetryPolicy, next_step
from notify.routing import why_not
from notify.suppression import INHIBITED, SILENCED, Suppressed, suppression_of
from streams.records import Alert, AlertEvent, AlertStatus, Silence, Transition

__all__ = [
    "INHIBITED",
    "SILENCED",
    "Dropped",
    "Outgoing",
    "Pipeline",
    "Routed",
    "Settled",
    "Suppressed",
]


@dataclass(frozen=True)
class Routed:
    """What arriving at the pipeline did to one record for one subscription."""

    subscription: Subscription
    event: AlertEvent
    outcome: str  # queued, filtered, skipped (the delivery log had it)
    reason: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Dropped:
    """A waiting alert suppressed when its message was formed: its records are done."""

    subscription: Subscription
    entry: Entry
    suppressed: Suppressed


@dataclass(frozen=True)
class Outgoing:
    """One message to send now: what it carries, to whom, and which attempt this is."""

    delivery_id: str
    subscription: Subscription
    entries: tuple[Entry, ...]  # priority order
    groups: tuple[str, ...]  # key_text of each group carried
    folded: int  # alerts from groups folded in because the budget was short
    mention: Mention
    attempt: int
    created_at: datetime
    not_before: datetime

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for e in self.entries for r in e.record_ids))

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(e.alert_id for e in self.entries)

    @property
    def single(self) -> bool:
        """One new alert event: sent as that alert's own card."""
        return len(self.entries) == 1 and not self.entries[0].reminder


@dataclass(frozen=True)
class Settled:
    """The delivery-log entry of an answer, and the records it finished (release them)."""

    log: Delivery
    done: tuple[str, ...]


@dataclass
class _Lane:
    """One subscription's state: its groups, its budget and the messages waiting to retry."""

    subscription: Subscription
    budget: Budget
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    retries: list[Outgoing] = field(default_factory=list)
    #: A message is being sent: one at a time per subscription keeps one alert's records in
    #: order, and a hanging receiver holds only its own lane.
    busy: bool = False


class Pipeline:
    """Every subscription's groups and budgets, and the alerts and silences they are judged by."""

    def __init__(self, rules: RuleBook, retry: RetryPolicy, rng: random.Random) -> None:
        self._rules = rules
        self._retry = retry
        self._rng = rng
        self._lanes: dict[str, _Lane] = {}
        self.alerts: dict[str, Alert] = {}
        self._latest: dict[str, AlertEvent] = {}
        self.silences: dict[str, Silence] = {}
        self._inhibitor: Inhibitor | None = None

    # -- what the pipeline knows ----------------------------------------------------------

    def note_alert(self, alert: Alert) -> None:
        """The latest state of an alert (from the state topic or a lifecycle record)."""
        known = self.alerts.get(alert.alert_id)
        if known is not None and known.version >= alert.version:
            return
        if alert.status is AlertStatus.CLOSED:
            self.alerts.pop(alert.alert_id, None)
        else:
            self.alerts[alert.alert_id] = alert
        self._inhibitor = None

    def note_silence(self, silence: Silence) -> None:
        self.silences[silence.silence_id] = silence

    def forget_silence(self, silence_id: str) -> None:
        self.silences.pop(silence_id, None)

    def suppression(self, alert: Alert, now: datetime) -> Suppressed | None:
        """Why `alert`'s pushes are held at `now` (inhibition first), or None."""
        if self._inhibitor is None:
            self._inhibitor = Inhibitor(self.alerts.values(), self._rules.inhibit_rules)
        return suppression_of(alert, self._inhibitor, self.silences.values(), now)

    def sync(self, subscriptions: Iterable[Subscription]) -> list[tuple[Subscription, Entry]]:
        """Follow the subscriptions as they are now: a changed one keeps what waits (under its
        new policy and budget); the entries of a removed one are returned, their records done."""
        current = {s.id: s for s in subscriptions}
        gone: list[tuple[Subscription, Entry]] = []
        for sub_id, lane in list(self._lanes.items()):
            subscription = current.get(sub_id)
            if subscription is None:
                del self._lanes[sub_id]
                for group in lane.groups.values():
                    gone += [(lane.subscription, e) for e in group.take()]
                for message in lane.retries:
                    gone += [(lane.subscription, e) for e in message.entries]
            elif subscription != lane.subscription:
                limit = subscription.policy.limit(subscription.format.value)
                lane.subscription = subscription
                lane.budget = replace(lane.budget, limit=limit)
        return gone

    def _lane(self, subscription: Subscription) -> _Lane:
        lane = self._lanes.get(subscription.id)
        if lane is None:
            limit = subscription.policy.limit(subscription.format.value)
            lane = _Lane(subscription, Budget(limit))
            self._lanes[subscription.id] = lane
        return lane

    # -- records in -----------------------------------------------------------------------

    def observe(
        self,
        event: AlertEvent,
        subscriptions: Sequence[Subscription],
        now: datetime,
        *,
        covered: Callable[[str, str], bool] = lambda sub_id, record_id: False,
    ) -> list[Routed]:
        """One lifecycle record for the given subscriptions; what happened for each."""
        self.note_alert(event.alert)
        latest = self._latest.get(event.alert_id)
        if latest is None or latest.version <= event.version:
            self._latest[event.alert_id] = event
        if event.alert.status is AlertStatus.CLOSED:
            self._latest.pop(event.alert_id, None)
        routed: list[Routed] = []
        suppressed: Suppressed | None = None
        checked = False
        for subscription in subscriptions:
            if covered(subscription.id, event.record_id):
                routed.append(Routed(subscription, event, "skipped"))
                continue
            reason = why_not(subscription, event)
            if reason is not None:
                routed.append(Routed(subscription, event, "filtered", reason.value))
                continue
            if not checked:
                suppressed, checked = self.suppression(event.alert, now), True
            if suppressed is not None:
                routed.append(
                    Routed(subscription, event, "filtered", suppressed.reason, suppressed.by)
                )
                continue
            lane = self._lane(subscription)
            policy = subscription.policy
            key = group_key(labels_of(event.alert), policy.group_by)
            group = lane.groups.setdefault(key, Group(key))
            group.add(event, now, urgent=urgency(event, policy))
            routed.append(Routed(subscription, event, "queued"))
        return routed

    # -- messages out ---------------------------------------------------------------------

    def take(self, now: datetime) -> tuple[list[Outgoing], list[Dropped]]:
        """The messages every subscription may send now (their budget is spent), and the
        waiting alerts that turned out suppressed."""
        messages: list[Outgoing] = []
        dropped: list[Dropped] = []
        for lane in self._lanes.values():
            dropped += self._drop_suppressed(lane, now)
            if lane.busy:
                continue
            self._remind(lane, now)
            taken = self._take(lane, now)
            lane.busy = bool(taken)
            messages += taken
        return messages, dropped

    def _drop_suppressed(self, lane: _Lane, now: datetime) -> list[Dropped]:
        dropped: list[Dropped] = []
        for group in lane.groups.values():
            for alert_id, entry in list(group.pending.items()):
                alert = self.alerts.get(alert_id, entry.event.alert)
                suppressed = self.suppression(alert, now)
                if suppressed is not None:
                    del group.pending[alert_id]
                    dropped.append(Dropped(lane.subscription, entry, suppressed))
        return dropped

    def _remind(self, lane: _Lane, now: datetime) -> None:
        """Groups quiet for repeat_interval announce their unacknowledged open alerts again."""
        repeat = lane.subscription.policy.repeat_interval
        for group in lane.groups.values():
            if group.pending or group.last_sent_at is None or now < group.last_sent_at + repeat:
                continue
            for alert_id in list(group.announced):
                alert = self.alerts.get(alert_id)
                event = self._latest.get(alert_id)
                if alert is None or event is None or not is_open(alert):
                    del group.announced[alert_id]
                    continue
                if alert.status is AlertStatus.OPEN and self.suppression(alert, now) is None:
                    group.pending[alert_id] = Entry(group.key, event, (), now, reminder=True)
            if not group.pending:
                group.last_sent_at = now  # nothing to remind of: look again in repeat_interval

    def _take(self, lane: _Lane, now: datetime) -> list[Outgoing]:
        budget = lane.budget
        out: list[Outgoing] = []
        for message in sorted(lane.retries, key=lambda m: m.entries[0].priority()):
            if message.not_before <= now and budget.available(now) > 0:
                lane.retries.remove(message)
                lane.budget = budget.spend(now)
                return [replace(message, not_before=now)]  # one message at a time
        policy = lane.subscription.policy
        due: list[Due[GroupKey]] = []
        for key, group in lane.groups.items():
            due_at = group.due_at(policy)
            if due_at is not None and due_at <= now:
                urgent = any(e.urgent for e in group.pending.values())
                due.append(Due(key, group.best_tier, due_at, urgent))
        for keys in plan(due, budget.available(now), digest_tiers=policy.digest_tiers)[:1]:
            entries: list[Entry] = []
            folded = 0
            for index, key in enumerate(keys):
                taken = lane.groups[key].take()
                folded += len(taken) if index else 0
                entries += taken
            entries.sort(key=Entry.priority)
            budget = budget.spend(now)
            out.append(self._message(lane.subscription, entries, keys, folded, now))
        lane.budget = budget
        return out

    def _message(
        self,
        subscription: Subscription,
        entries: list[Entry],
        keys: Sequence[GroupKey],
        folded: int,
        now: datetime,
    ) -> Outgoing:
        record_ids = [r for e in entries for r in e.record_ids]
        extra = ""
        if any(e.reminder for e in entries):  # reminders carry no new record: stamp the time
            extra = "reminder:" + ",".join(e.alert_id for e in entries) + now.isoformat()
        return Outgoing(
            delivery_id=message_id_for(subscription.id, record_ids, extra),
            subscription=subscription,
            entries=tuple(entries),
            groups=tuple(key_text(k) for k in keys),
            folded=folded,
            mention=self._mention(subscription, entries, now),
            attempt=1,
            created_at=now,
            not_before=now,
        )

    def _mention(
        self, subscription: Subscription, entries: Sequence[Entry], now: datetime
    ) -> Mention:
        """The subscription's own mentions plus whoever is on duty where the message calls:
        the alert's new level for an escalation, the front line for an urgent tier-1 alert."""
        levels: set[int] = set()
        for entry in entries:
            if entry.event.transition is Transition.ESCALATED:
                levels.add(entry.event.alert.escalation_level)
            elif entry.urgent and entry.tier == 1:
                levels.add(0)
        people = [p for lvl in sorted(levels) if (p := on_duty(self._rules.on_call, lvl, now))]
        if not people:
            return subscription.mention
        duty = mention_for([person for _, person in people], subscription.format)
        own = subscription.mention
        return Mention(
            mobiles=tuple(dict.fromkeys((*own.mobiles, *duty.mobiles))),
            user_ids=tuple(dict.fromkeys((*own.user_ids, *duty.user_ids))),
            everyone=own.everyone,
        )

    # -- answers in -----------------------------------------------------------------------

    def settle(self, message: Outgoing, answer: Answer, now: datetime) -> Settled:
        """What `answer` to `message` means: the log entry, and the records now done."""
        lane = self._lanes.get(message.subscription.id)
        if lane is not None:
            lane.busy = False
            lane.budget = lane.budget.answered(now)
        limit = message.subscription.policy.limit(message.subscription.format.value)
        step = next_step(answer, message.attempt, now, self._retry, self._rng, block=limit.block)
        outcome = {
            Next.DELIVERED: DeliveryOutcome.DELIVERED,
            Next.RETRY: DeliveryOutcome.RETRYING,
            Next.DEFER: DeliveryOutcome.DEFERRED,
            Next.GIVE_UP: DeliveryOutcome.DEAD_LETTERED,
        }[step.next]
        done: tuple[str, ...] = ()
        if step.next in (Next.DELIVERED, Next.GIVE_UP):
            done = message.record_ids
            if lane is not None:
                for entry in message.entries:
                    group = lane.groups.setdefault(entry.key, Group(entry.key))
                    group.sent([entry], now)
        elif lane is not None and step.at is not None and step.next is Next.RETRY:
            lane.retries.append(replace(message, attempt=message.attempt + 1, not_before=step.at))
        elif lane is not None and step.at is not None:  # DEFER: the robot's budget is gone
            lane.budget = lane.budget.block(step.at)
            for entry in message.entries:
                if not entry.reminder:
                    lane.groups.setdefault(entry.key, Group(entry.key)).put_back([entry])
        else:  # the subscription went away meanwhile: nothing waits for it any more
            done = message.record_ids
        return Settled(self._log(message, answer, outcome, now, step.at), done)

    def _log(
        self,
        message: Outgoing,
        answer: Answer,
        outcome: DeliveryOutcome,
        now: datetime,
        next_at: datetime | None,
    ) -> Delivery:
        lead = message.entries[0].event
        verdict = answer.verdict
        return Delivery(
            delivery_id=message.delivery_id,
            subscription_id=message.subscription.id,
            format=message.subscription.format,
            record_id=lead.record_id,
            alert_id=lead.alert_id,
            transition=lead.transition,
            outcome=outcome,
            attempts=message.attempt,
            last_status=answer.status,
            last_error=verdict.error,
            failure=verdict.failure,
            robot_code=verdict.robot_code,
            created_at=message.created_at,
            updated_at=now,
            next_attempt_at=next_at if outcome in _WAITING else None,
            record_ids=message.record_ids,
            alert_ids=message.alert_ids,
            groups=message.groups,
            folded=message.folded,
            listed=min(len(message.entries), message.subscription.policy.max_items),
        )

    # -- time -----------------------------------------------------------------------------

    def next_wakeup(self, now: datetime) -> datetime | None:
        """When `take` may next have something to send (None: nothing waits)."""
        times: list[datetime] = []
        for lane in self._lanes.values():
            if lane.busy:
                continue  # its answer comes first
            policy = lane.subscription.policy
            free = lane.budget.next_free(now)
            for message in lane.retries:
                times.append(max(message.not_before, free))
            for group in lane.groups.values():
                due = group.due_at(policy)
                if due is not None:
                    times.append(max(due, free))
                elif group.announced and group.last_sent_at is not None:
                    times.append(group.last_sent_at + policy.repeat_interval)
        return min(times, default=None)

    def waiting(self) -> int:
        """Alerts waiting in groups and retries, over every subscription."""
        return sum(
            len(g.pending) for lane in self._lanes.values() for g in lane.groups.values()
        ) + sum(len(m.entries) for lane in self._lanes.values() for m in lane.retries)

    def budget_used(self, subscription_id: str, now: datetime) -> int:
        """Messages the subscription sent in the last minute (for the budget gauge)."""
        lane = self._lanes.get(subscription_id)
        if lane is None:
            return 0
        return sum(1 for t in lane.budget.recent if (now - t).total_seconds() < 60)


_WAITING = frozenset({DeliveryOutcome.RETRYING, DeliveryOutcome.DEFERRED})
