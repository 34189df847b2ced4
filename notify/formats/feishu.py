"""Feishu / Lark (飞书) custom bot: an interactive card with buttons.

Pure. `msg_type: interactive`; the header's colour follows the tier (red, orange, blue); the
buttons open the signed callback URLs (custom bots cannot receive card callbacks, only apps
can, so a URL button is the way). Mentions use `<at id=…></at>` in lark_md: open_id or
user_id; Feishu custom bots cannot @ by phone. `timestamp`/`sign` (签名校验) are added by the
sender, per attempt.
"""

from __future__ import annotations

from typing import Any

from notify.formats.card import Card
from notify.links import ACTION_LABELS, Links
from notify.models import Mention
from streams.records import ActionKind

__all__ = ["TIER_TEMPLATES", "feishu_message"]

TIER_TEMPLATES = {1: "red", 2: "orange", 3: "blue"}
_BUTTON_TYPES = {ActionKind.ACKNOWLEDGE: "primary", ActionKind.RESOLVE: "danger"}


def _md(content: str) -> dict[str, Any]:
    return {"tag": "lark_md", "content": content}


def _field(label: str, value: str) -> dict[str, Any]:
    return {"is_short": True, "text": _md(f"**{label}**\n{value}")}


def feishu_message(card: Card, links: Links, mention: Mention) -> dict[str, Any]:
    """The bot message as a dict (the sender adds timestamp and sign when a secret is set)."""
    fields = [_field("级别", card.tier_label), _field("状态", card.status_label)]
    if card.deadline:
        due = f"{card.deadline.text}\n截止 {card.deadline.due}（北京时间）"
        fields.append(_field("时限", f"**{due}**" if card.deadline.overdue else due))
    elif card.paused:
        fields.append(_field("时限", "计时暂停（等待客户）"))
    fields += [_field(label, value) for label, value in card.facts]

    notes = []
    if card.reason:
        notes.append(f"**原因**：{card.reason}")
    if card.keywords:
        notes.append(f"**关键词**：{card.keywords}")
    if card.compensation:
        notes.append(
            f"**补偿建议**：{card.compensation}" + ("（**需审批**）" if card.needs_approval else "")
        )
    if card.escalated_to:
        notes.append(f"**已上报**：{card.escalated_to}")
    if card.detail:
        notes.append(f"**说明**：{card.detail}")

    elements: list[dict[str, Any]] = [{"tag": "div", "fields": fields}]
    if notes:
        elements.append({"tag": "div", "text": _md("\n".join(notes))})
    if card.excerpt:
        elements.append({"tag": "div", "text": _md(f"**客户原话**：{card.excerpt}")})
    if card.examples:
        shown = "\n".join(f"- {example}" for example in card.examples)
        elements.append({"tag": "div", "text": _md(f"**成员示例**\n{shown}")})
    ats = [f"<at id={uid}></at>" for uid in mention.user_ids]
    if mention.everyone:
        ats.append("<at id=all></at>")
    if ats:
        elements.append({"tag": "div", "text": _md(" ".join(ats))})
    buttons = [
        {
            "tag": "button",
            "text": {"tag": "plain_text", "content": ACTION_LABELS[kind]},
            "type": _BUTTON_TYPES[kind],
            "url": url,
        }
        for kind, url in links.actions.items()
    ]
    if links.alert:
        buttons.append(
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": "查看详情"},
                "type": "default",
                "url": links.alert,
            }
        )
    if buttons:
        elements += [{"tag": "hr"}, {"tag": "action", "actions": buttons}]
    elements.append(
        {
            "tag": "note",
            "elements": [{"tag": "plain_text", "content": "客诉监控 · 点击按钮后在页面确认操作"}],
        }
    )
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "template": TIER_TEMPLATES[card.tier],
                "title": {"tag": "plain_text", "content": card.title},
            },
            "elements": elements,
        },
    }
