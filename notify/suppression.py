"""Why an alert's pushes are held (inhibited or silenced), and how to say it to people.

Pure. No I/O. Used by the pipeline (to hold pushes) and by the API (to show "被 … 抑制" on
the alert): the same answer in both places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from notify.formats.text import beijing_time, mask, mask_customer
from notify.inhibit import Inhibitor
from notify.silencing import silenced_by
from streams.records import ALERT_KIND_LABELS, Alert, AlertKind, Silence

__all__ = ["INHIBITED", "SILENCED", "Suppressed", "describe", "suppression_of"]

INHIBITED = "INHIBITED"
SILENCED = "SILENCED"


@dataclass(frozen=True)
class Suppressed:
    """An alert held back: INHIBITED (by the alert `by`, rule `rule_id`) or SILENCED (by the
    silence `by`)."""

    reason: str
    by: str
    rule_id: str | None = None


def suppression_of(
    alert: Alert, inhibitor: Inhibitor, silences: Iterable[Silence], now: datetime
) -> Suppressed | None:
    """Inhibition first (as Alertmanager), then silences; None when pushes go out."""
    inhibition = inhibitor.why(alert)
    if inhibition is not None:
        return Suppressed(INHIBITED, inhibition.source.alert_id, inhibition.rule_id)
    silence = silenced_by(alert, silences, now)
    if silence is not None:
        return Suppressed(SILENCED, silence.silence_id)
    return None


def _alert_name(alert: Alert) -> str:
    if alert.kind is not AlertKind.COMPLAINT:
        label = ALERT_KIND_LABELS[alert.kind]
        return f"{label}：{mask(alert.title)}" if alert.title else label
    customer = mask_customer(alert.customer_id)
    return f"客户 {customer} 的投诉" if customer else "一条投诉"


def describe(
    suppressed: Suppressed, alerts: Mapping[str, Alert], silences: Mapping[str, Silence]
) -> str:
    """The reason in Chinese, e.g. "被「集中投诉：批次 B2511-07」抑制（规则 incident-members）"."""
    if suppressed.reason == INHIBITED:
        source = alerts.get(suppressed.by)
        name = _alert_name(source) if source is not None else suppressed.by
        return f"被「{name}」抑制（规则 {suppressed.rule_id}）：暂不推送，告警照常记录"
    silence = silences.get(suppressed.by)
    if silence is None:
        return f"静默中（{suppressed.by}）：暂不推送，告警照常记录"
    return (
        f"静默中：{mask(silence.comment)}（{mask(silence.created_by)} 设置，"
        f"至 {beijing_time(silence.ends_at)} 北京时间）：暂不推送，告警照常记录"
    )
