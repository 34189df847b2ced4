"""WeCom (企业微信) group robot: one `markdown` message.

Pure. The robot's markdown subset: headings, bold, links, `>` quotes and
`<font color="info|comment|warning">`. Group robots cannot show buttons, so actions are plain
links to the signed callback URLs, which open a confirmation page. Content is limited to 4096
bytes of UTF-8: the excerpt gives way first, then the message is cut at a character boundary.
Mentions: only `<@userid>` works in markdown (`mentioned_mobile_list` is for `text` messages).
"""

from __future__ import annotations

import json

from notify.formats.card import Card
from notify.formats.text import fit_utf8
from notify.links import ACTION_LABELS, Links
from notify.models import Mention

__all__ = ["MAX_MARKDOWN_BYTES", "wecom_body", "wecom_markdown"]

MAX_MARKDOWN_BYTES = 4096  # WeCom: markdown.content 最长不超过 4096 个字节, UTF-8
_TIER_COLOUR = {1: "warning", 2: "warning", 3: "comment"}


def _lines_before_excerpt(card: Card) -> list[str]:
    colour = _TIER_COLOUR[card.tier]
    lines = [f'## <font color="{colour}">{card.title}</font>']
    lines.append(
        f'> 级别：<font color="{colour}">{card.tier_label}</font>　状态：{card.status_label}'
    )
    if card.deadline:
        tone = "warning" if card.deadline.overdue else "info"
        lines.append(
            f'> 时限：<font color="{tone}">{card.deadline.text}</font>'
            f"（截止 {card.deadline.due} 北京时间）"
        )
    elif card.paused:
        lines.append('> 时限：<font color="comment">计时暂停（等待客户）</font>')
    if card.reason:
        lines.append(f"> 原因：{card.reason}")
    if card.keywords:
        lines.append(f"> 关键词：{card.keywords}")
    if card.compensation:
        approval = '　<font color="warning">需审批</font>' if card.needs_approval else ""
        lines.append(f"> 补偿建议：{card.compensation}{approval}")
    if card.escalated_to:
        lines.append(f'> 已上报：<font color="warning">{card.escalated_to}</font>')
    if card.detail:
        lines.append(f"> 说明：{card.detail}")
    lines.append("> " + " · ".join(f"{label}：{value}" for label, value in card.facts))
    lines += [f'> 成员示例：<font color="comment">{example}</font>' for example in card.examples]
    return lines


def _lines_after_excerpt(links: Links, mention: Mention) -> list[str]:
    link_parts = [f"[{ACTION_LABELS[k]}]({url})" for k, url in links.actions.items()]
    if links.alert:
        link_parts.append(f"[查看详情]({links.alert})")
    lines = ["　".join(link_parts)] if link_parts else []
    lines.append('<font color="comment">客诉监控 · 点击链接后在页面确认操作</font>')
    if mention.user_ids:
        lines.append(" ".join(f"<@{uid}>" for uid in mention.user_ids))
    return lines


def wecom_markdown(card: Card, links: Links, mention: Mention) -> str:
    """The markdown content, at most 4096 UTF-8 bytes."""
    head = "\n".join(_lines_before_excerpt(card))
    tail = "\n".join(_lines_after_excerpt(links, mention))
    if card.excerpt:
        frame = '\n客户原话：<font color="comment">{}</font>\n'
        room = MAX_MARKDOWN_BYTES - len((head + frame.format("") + tail).encode("utf-8"))
        excerpt = fit_utf8(card.excerpt, room) if room > 0 else ""
        middle = frame.format(excerpt) if excerpt else "\n"
    else:
        middle = "\n"
    content = head + middle + tail
    # Only with absurdly long labels or links: cut the whole message, never mid-character.
    return fit_utf8(content, MAX_MARKDOWN_BYTES)


def wecom_body(card: Card, links: Links, mention: Mention) -> bytes:
    message = {"msgtype": "markdown", "markdown": {"content": wecom_markdown(card, links, mention)}}
    return json.dumps(message, ensure_ascii=False).encode("utf-8")
