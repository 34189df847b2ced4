"""What a message about several alerts says (a group's message, or a digest of groups), before
any platform's layout: counts by tier, the most urgent alerts one line each, a link to the rest.

Pure. Every piece of text that comes from an alert goes through `escape` (masking, and for
markdown also neutralising markup) exactly once, here, as in card.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from notify.formats.card import title_for
from notify.formats.text import clip, markup_safe
from streams.records import TIER_LABELS, AlertEvent, AlertKind

__all__ = ["Digest", "Line", "build_digest"]

_EXCERPT_CHARS = 40  # a line is a headline; the dashboard has the rest
_GROUP_LABELS = {
    "tier": "级别",
    "kind": "类型",
    "region": "地区",
    "category": "类别",
    "carrier": "承运商",
}


@dataclass(frozen=True)
class Line:
    """One alert in the message: its tier, a one-line title, and where to open it."""

    alert_id: str
    tier: int
    text: str
    link: str | None
    reminder: bool


@dataclass(frozen=True)
class Digest:
    """The facts of one message about several alerts, escaped, ready for any layout."""

    title: str  # "【即时响应】5 条告警" or "【即时响应】告警汇总：12 条"
    top_tier: int
    counts: str  # "即时响应 3 · 深度响应 5 · 预防性响应 4"
    groups: str | None  # "级别=1 · 类型=complaint", when one group; None for a digest
    lines: tuple[Line, ...]
    more: int  # alerts not listed
    more_link: str | None  # the dashboard page listing every alert of the message
    reminders: int  # of the lines: unacknowledged alerts announced again


def _line_text(event: AlertEvent, escape: Callable[[str | None], str]) -> str:
    text = title_for(event, escape=escape)
    if event.alert.kind is AlertKind.COMPLAINT and event.alert.excerpt:
        text += f" —— {clip(escape(event.alert.excerpt), _EXCERPT_CHARS)}"
    return text


def build_digest(
    items: Sequence[tuple[AlertEvent, bool]],
    *,
    groups: Sequence[str],
    max_items: int,
    alert_link: Callable[[str], str | None],
    more_link: str | None,
    escape: Callable[[str | None], str] = markup_safe,
) -> Digest:
    """The message for `items` ((latest record, is a reminder) in priority order).

    Args:
        groups: the group keys carried ("tier=1,kind=complaint"); more than one is a digest.
        alert_link: the dashboard URL of one alert (by id), None without a public address.
    """
    tiers = Counter(event.alert.tier for event, _ in items)
    top = min(tiers, default=3)
    counts = " · ".join(f"{TIER_LABELS[t]} {tiers[t]}" for t in sorted(tiers))
    if len(groups) == 1:
        title = f"【{TIER_LABELS[top]}】{len(items)} 条告警"
        labels = [part.split("=", 1) for part in groups[0].split(",") if "=" in part]
        shown = [f"{_GROUP_LABELS.get(k, k)}={escape(v)}" for k, v in labels if v]
        group_text = " · ".join(shown) or None
    else:
        title = f"【{TIER_LABELS[top]}】告警汇总：{len(items)} 条"
        group_text = None
    lines = tuple(
        Line(
            alert_id=event.alert_id,
            tier=event.alert.tier,
            text=_line_text(event, escape),
            link=alert_link(event.alert_id),
            reminder=reminder,
        )
        for event, reminder in items[:max_items]
    )
    return Digest(
        title=title,
        top_tier=top,
        counts=counts,
        groups=group_text,
        lines=lines,
        more=max(len(items) - max_items, 0),
        more_link=more_link,
        reminders=sum(1 for line in lines if line.reminder),
    )
