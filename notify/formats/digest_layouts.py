"""A Digest laid out for each chat robot: WeCom markdown, DingTalk markdown, Feishu card.

Pure. The text was escaped by digest.py; only our own labels and links are added here.
Each layout stays within its platform's size limit by listing fewer alerts (the rest stay
reachable through the "全部告警" link): WeCom 4096 bytes of markdown, Feishu 20 KB of body.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from notify.formats.digest import Digest
from notify.formats.dingtalk import mention_line
from notify.formats.feishu import TIER_TEMPLATES
from notify.formats.text import fit_utf8
from notify.formats.wecom import MAX_MARKDOWN_BYTES
from notify.models import Mention

__all__ = ["dingtalk_digest_body", "feishu_digest_body", "wecom_digest_body"]

_FOOTER = "客诉监控 · 一条消息汇总多条告警，点击查看详情"
#: Feishu: "发送消息时，请求体的数据大小不能超过 20 KB" (自定义机器人使用指南); room for the signature.
_FEISHU_MAX_BYTES = 19 * 1024
_SHORT_TIER = {1: "即时", 2: "深度", 3: "预防"}


def _shrunk(digest: Digest) -> Digest:
    """The digest with one listed line fewer (it moves behind the link)."""
    return replace(digest, lines=digest.lines[:-1], more=digest.more + 1)


def _line(digest_line_text: str, tier: int, link: str | None, reminder: bool) -> str:
    mark = "（仍未处理）" if reminder else ""
    text = f"[{_SHORT_TIER[tier]}] {digest_line_text}{mark}"
    return f"{text} [查看]({link})" if link else text


def _markdown(digest: Digest, *, quote: str, heading: str) -> list[str]:
    lines = [f"{heading} {digest.title}", f"{quote}{digest.counts}"]
    if digest.groups:
        lines.append(f"{quote}分组：{digest.groups}")
    lines += [f"{quote}{_line(x.text, x.tier, x.link, x.reminder)}" for x in digest.lines]
    if digest.more:
        more = f"还有 {digest.more} 条"
        lines.append(f"[{more}，查看全部告警]({digest.more_link})" if digest.more_link else more)
    elif digest.more_link:
        lines.append(f"[查看全部告警]({digest.more_link})")
    return lines


def wecom_digest_markdown(digest: Digest, mention: Mention) -> str:
    while True:
        lines = _markdown(digest, quote="> ", heading="##")
        lines.append(f'<font color="comment">{_FOOTER}</font>')
        if mention.user_ids:
            lines.append(" ".join(f"<@{uid}>" for uid in mention.user_ids))
        content = "\n".join(lines)
        if len(content.encode("utf-8")) <= MAX_MARKDOWN_BYTES or not digest.lines:
            return fit_utf8(content, MAX_MARKDOWN_BYTES)
        digest = _shrunk(digest)


def wecom_digest_body(digest: Digest, mention: Mention) -> bytes:
    content = wecom_digest_markdown(digest, mention)
    return json.dumps(
        {"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False
    ).encode("utf-8")


def dingtalk_digest_body(digest: Digest, mention: Mention) -> bytes:
    """A markdown message (DingTalk lights up @ only in text/markdown messages)."""
    lines = _markdown(digest, quote="- ", heading="###")
    lines += ["", _FOOTER]
    at = mention_line(mention)
    if at:
        lines += ["", at]
    message: dict[str, Any] = {
        "msgtype": "markdown",
        "markdown": {"title": digest.title, "text": "\n".join(lines)},
    }
    if not mention.empty:
        message["at"] = {
            "atMobiles": list(mention.mobiles),
            "atUserIds": list(mention.user_ids),
            "isAtAll": mention.everyone,
        }
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def feishu_digest_body(digest: Digest, mention: Mention) -> dict[str, Any]:
    """The bot message as a dict (the sender adds timestamp and sign when a secret is set)."""
    while True:
        body = _feishu(digest, mention)
        size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        if size <= _FEISHU_MAX_BYTES or not digest.lines:
            return body
        digest = _shrunk(digest)


def _feishu(digest: Digest, mention: Mention) -> dict[str, Any]:
    def md(content: str) -> dict[str, Any]:
        return {"tag": "div", "text": {"tag": "lark_md", "content": content}}

    header = [f"**{digest.counts}**"] + ([f"分组：{digest.groups}"] if digest.groups else [])
    elements: list[dict[str, Any]] = [md("\n".join(header))]
    listed = [_line(x.text, x.tier, x.link, x.reminder) for x in digest.lines]
    if listed:
        elements.append(md("\n".join(f"- {x}" for x in listed)))
    ats = [f"<at id={uid}></at>" for uid in mention.user_ids]
    if mention.everyone:
        ats.append("<at id=all></at>")
    if ats:
        elements.append(md(" ".join(ats)))
    if digest.more_link:
        label = f"还有 {digest.more} 条，查看全部" if digest.more else "查看全部告警"
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": label},
            "type": "primary",
            "url": digest.more_link,
        }
        elements += [{"tag": "hr"}, {"tag": "action", "actions": [button]}]
    elif digest.more:
        elements.append(md(f"还有 {digest.more} 条"))
    elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": _FOOTER}]})
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "template": TIER_TEMPLATES[digest.top_tier],
                "title": {"tag": "plain_text", "content": digest.title},
            },
            "elements": elements,
        },
    }
