"""DingTalk (钉钉) custom robot: an `actionCard` with one button per action, and @mentions.

Pure. Buttons (`btns`) open the signed callback URLs. DingTalk lights up a mention only when
"@<phone>" / "@<userid>" also appears in the text, so the @ line is written into the markdown
as well as into `at`. The signed URL (加签) is added by the sender, per attempt.

Uncertain: DingTalk's documentation lists `at` under the text and markdown types; whether an
actionCard honours it is not stated. We send it (harmless if ignored); if mentions do not ring,
switch such subscriptions to a markdown message with links.
"""

from __future__ import annotations

import json
from typing import Any

from notify.formats.card import Card
from notify.links import ACTION_LABELS, Links
from notify.models import Mention

__all__ = ["dingtalk_body", "dingtalk_markdown", "mention_line"]


def mention_line(mention: Mention) -> str:
    names = [f"@{m}" for m in mention.mobiles] + [f"@{u}" for u in mention.user_ids]
    if mention.everyone:
        names.append("@所有人")
    return " ".join(names)


def dingtalk_markdown(card: Card, mention: Mention) -> str:
    """The actionCard's markdown text, ending with the @ line when someone is mentioned."""
    lines = [f"### {card.title}", "", f"- 级别：**{card.tier_label}**　状态：{card.status_label}"]
    if card.deadline:
        mark = "**" if card.deadline.overdue else ""
        lines.append(
            f"- 时限：{mark}{card.deadline.text}{mark}（截止 {card.deadline.due} 北京时间）"
        )
    elif card.paused:
        lines.append("- 时限：计时暂停（等待客户）")
    if card.reason:
        lines.append(f"- 原因：{card.reason}")
    if card.keywords:
        lines.append(f"- 关键词：{card.keywords}")
    if card.compensation:
        lines.append(
            f"- 补偿建议：{card.compensation}" + ("　**需审批**" if card.needs_approval else "")
        )
    if card.escalated_to:
        lines.append(f"- 已上报：**{card.escalated_to}**")
    if card.detail:
        lines.append(f"- 说明：{card.detail}")
    lines.append("- " + " · ".join(f"{label}：{value}" for label, value in card.facts))
    lines += [f"- 成员示例：{example}" for example in card.examples]
    if card.excerpt:
        lines += ["", f"> 客户原话：{card.excerpt}"]
    lines += ["", "客诉监控 · 点击按钮后在页面确认操作"]
    at = mention_line(mention)
    if at:
        lines += ["", at]
    return "\n".join(lines)


def dingtalk_body(card: Card, links: Links, mention: Mention) -> bytes:
    buttons = [{"title": ACTION_LABELS[k], "actionURL": url} for k, url in links.actions.items()]
    if links.alert:
        buttons.append({"title": "查看详情", "actionURL": links.alert})
    action_card: dict[str, Any] = {"title": card.title, "text": dingtalk_markdown(card, mention)}
    if buttons:
        action_card |= {"btnOrientation": "1", "btns": buttons}
    message: dict[str, Any] = {"msgtype": "actionCard", "actionCard": action_card}
    if not mention.empty:
        message["at"] = {
            "atMobiles": list(mention.mobiles),
            "atUserIds": list(mention.user_ids),
            "isAtAll": mention.everyone,
        }
    return json.dumps(message, ensure_ascii=False).encode("utf-8")
