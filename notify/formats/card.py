"""What every chat message says about one alert event, before any platform's layout.

Pure. Every piece of text that comes from an alert goes through `escape` (masking, and for
markdown also neutralising markup) exactly once, here; layouts add only our own labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from notify.formats.text import beijing_time, clip, human_duration, markup_safe, mask_customer
from streams.records import (
    ALERT_KIND_LABELS,
    ALERT_STATUS_LABELS,
    CATEGORY_LABELS,
    EMOTION_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    TRANSITION_LABELS,
    AlertEvent,
    AlertKind,
    SlaClock,
)

__all__ = ["Card", "Deadline", "build_card", "title_for"]

_CUES_SHOWN = 3
_KEYWORDS_SHOWN = 5
_EXCERPT_CHARS = 300  # the engine shortens excerpts already; this bounds a chat bubble
_EXAMPLES_SHOWN = 3
_EXAMPLE_CHARS = 80


@dataclass(frozen=True)
class Deadline:
    """The most urgent running SLA clock, as text: "剩余 1小时25分" or "已超时 35分"."""

    text: str
    due: str  # Beijing time, "11-23 12:00"
    overdue: bool


@dataclass(frozen=True)
class Card:
    """The facts of one alert event, already masked and escaped, ready for any layout."""

    tier: int
    title: str  # "【即时响应】SLA 超时 · 客户 c***1 · 物流 · 愤怒型"
    tier_label: str
    transition_label: str
    status_label: str
    deadline: Deadline | None
    paused: bool  # every running clock is paused (waiting on the customer)
    reason: str | None  # "规则 anger · 态度差、投诉"
    keywords: str | None
    excerpt: str | None
    compensation: str | None
    needs_approval: bool
    escalated_to: str | None
    detail: str | None
    facts: tuple[tuple[str, str], ...]  # (label, value): 来源, 地区, 物流, 商品, 批次, 强度, 联系
    examples: tuple[str, ...] = ()  # a parent incident's members, in their own (masked) words


def _deadline(clocks: tuple[SlaClock, ...], now: datetime) -> Deadline | None:
    running = [c for c in clocks if c.stopped_at is None and c.due_at is not None]
    if not running:
        return None
    due_at = min(c.due_at for c in running if c.due_at is not None)
    left = due_at - now
    overdue = left.total_seconds() <= 0
    text = f"已超时 {human_duration(left)}" if overdue else f"剩余 {human_duration(left)}"
    return Deadline(text=text, due=beijing_time(due_at), overdue=overdue)


def title_for(event: AlertEvent, *, escape: Callable[[str | None], str] = markup_safe) -> str:
    """The one-line summary: "【即时响应】SLA 超时 · 客户 c***1 · 物流 · 愤怒型"; a detected
    condition says what it is: "【深度响应】新建告警 · 集中投诉：批次 B2511-07 负面反馈激增"."""
    alert = event.alert
    heading = [f"【{TIER_LABELS[alert.tier]}】{TRANSITION_LABELS[event.transition]}"]
    if alert.kind is not AlertKind.COMPLAINT:
        what = ALERT_KIND_LABELS[alert.kind]
        heading.append(f"{what}：{escape(alert.title)}" if alert.title else what)
    customer = mask_customer(alert.customer_id)
    if customer:
        heading.append(f"客户 {escape(customer)}")
    if alert.category and alert.kind is AlertKind.COMPLAINT:
        heading.append(CATEGORY_LABELS[alert.category])
    if alert.emotion:
        heading.append(EMOTION_LABELS[alert.emotion])
    return " · ".join(heading)


def build_card(
    event: AlertEvent, now: datetime, *, escape: Callable[[str | None], str] = markup_safe
) -> Card:
    """The card for `event` as seen at `now` (the countdown is relative to the send time)."""
    alert = event.alert

    cues = list(dict.fromkeys([*alert.threats, *(c.term for c in alert.why)]))[:_CUES_SHOWN]
    reason = f"规则 {escape(alert.rule_id)}"
    if cues:
        reason += " · " + "、".join(escape(c) for c in cues)

    compensation = None
    if alert.compensation:
        comp = alert.compensation
        actions = "、".join(escape(a) for a in comp.actions)
        compensation = f"{escape(comp.label)}：{actions}" if actions else escape(comp.label)
        if comp.amount_yuan:
            compensation += f"（{comp.amount_yuan} 元）"

    facts: list[tuple[str, str]] = []
    if alert.sources:
        facts.append(("来源", "、".join(SOURCE_LABELS[s] for s in alert.sources)))
    for label, value in (
        ("地区", alert.region),
        ("承运商", alert.carrier),
        ("商品", alert.product),
        ("SKU", alert.sku),
        ("批次", alert.batch),
        ("负责人", alert.assignee),
    ):
        if value:
            facts.append((label, escape(value)))
    # A detected condition has no feelings and no contacts of its own: say what it counts.
    if alert.kind is AlertKind.COMPLAINT or alert.intensity:
        facts.append(("情绪强度", f"{alert.intensity}/100"))
    if alert.kind is AlertKind.COMPLAINT or alert.contacts:
        facts.append(("联系次数", str(alert.contacts)))
    if alert.group is not None:
        facts.append(("涉及客户", f"{alert.group.member_count} 位"))
    if alert.surge is not None:
        surge = alert.surge
        facts.append(
            (
                "激增",
                f"{surge.count} 条负面（{surge.window_minutes} 分钟，约 {surge.ratio:.0f} 倍）",
            )
        )
    examples = alert.group.examples if alert.group is not None and alert.group.examples else ()
    if not examples and alert.surge is not None:
        examples = alert.surge.examples

    paused = any(c.stopped_at is None and c.running_since is None for c in alert.clocks)
    return Card(
        tier=alert.tier,
        title=title_for(event, escape=escape),
        tier_label=TIER_LABELS[alert.tier],
        transition_label=TRANSITION_LABELS[event.transition],
        status_label=ALERT_STATUS_LABELS[alert.status],
        deadline=_deadline(alert.clocks, now),
        paused=paused,
        reason=reason,
        keywords="、".join(escape(k) for k in alert.keywords[:_KEYWORDS_SHOWN]) or None,
        # 客户原话 is a customer's words: a detected condition's excerpt is our own description.
        excerpt=(clip(escape(alert.excerpt), _EXCERPT_CHARS) or None)  # mask, then cut
        if alert.kind is AlertKind.COMPLAINT
        else None,
        compensation=compensation,
        needs_approval=bool(alert.compensation and alert.compensation.needs_approval),
        escalated_to=escape(alert.escalated_to) or None,
        detail=escape(event.detail) or None,
        facts=tuple(facts),
        examples=tuple(clip(escape(x), _EXAMPLE_CHARS) for x in examples[:_EXAMPLES_SHOWN]),
    )
