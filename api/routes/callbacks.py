"""The action buttons of chat cards: a signed link becomes the same AlertAction the API publishes.

GET only shows a confirmation page (chat apps and link previewers fetch URLs on their own, so
a GET must never act) where the person types their name; POST publishes the action to the
actions topic, keyed by the case, with that name as the actor and an id derived from the
token (a double click is one action), and answers once Kafka has it. A group robot's button
is a plain link: the chat app does not tell us who clicked, so the page asks.
The token is the credential: no API key. Pages are small Chinese HTML; every error names its
reason code and never shows a stack trace.
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import NowDep, PublisherDep, SettingsDep, ViewDep
from api.publisher import KafkaUnavailable
from api.view import AlertView
from complaints.masking import mask_personal_data
from notify.callbacks import action_from_token
from notify.formats.text import mask_customer
from notify.links import ACTION_LABELS
from notify.signing import InvalidToken, TokenFailure
from streams.codec import encode_record
from streams.records import (
    ALERT_STATUS_LABELS,
    CATEGORY_LABELS,
    EMOTION_LABELS,
    TIER_LABELS,
    Alert,
    AlertAction,
    AlertStatus,
)
from streams.topics import ACTIONS

router = APIRouter(tags=["callbacks"])

_PAGES: dict[int | str, dict[str, object]] = {
    status: {"description": text, "content": {"text/html": {}}}
    for status, text in (
        (400, "The link is for another action."),
        (404, "Forged, malformed, or for an unknown alert."),
        (409, "The alert is closed."),
        (410, "The link has expired."),
        (503, "Still loading, or Kafka did not take the action; retry (it is applied once)."),
    )
}

#: The token sits in the URL: no referrer, no caching, no indexing; the page loads nothing.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}

#: Status and Chinese explanation of each refusal (notify/callbacks.py's mapping).
_REFUSALS: dict[TokenFailure, tuple[int, str]] = {
    TokenFailure.MALFORMED: (404, "链接无效。请从最新的告警消息中打开。"),
    TokenFailure.BAD_SIGNATURE: (404, "链接无效。请从最新的告警消息中打开。"),
    TokenFailure.UNKNOWN_ALERT: (404, "找不到这条告警。"),
    TokenFailure.EXPIRED: (410, "链接已过期，请在看板中处理这条告警。"),
    TokenFailure.WRONG_ACTION: (400, "这个链接不支持该操作。"),
}

#: The form field with the person's name, and its bounds (AlertAction.actor is ShortText).
_ACTOR_FIELD = "actor"
_ACTOR_MAX = 32
_FORM_MAX_BYTES = 4096

_STYLE = (
    "body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;"
    "max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1f2328}"
    "button{font-size:1.1rem;padding:.6rem 1.6rem;border:0;border-radius:6px;"
    "background:#1f6feb;color:#fff}.reason{color:#656d76;font-size:.85rem}"
    "input{font-size:1.05rem;padding:.5rem;margin:0 0 1rem;width:14rem}.error{color:#cf222e}"
)


def _page(status: int, title: str, paragraphs: list[str], markup: str = "") -> HTMLResponse:
    """A minimal page; paragraphs are plain text, escaped here; `markup` is ours, as is."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    document = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · 客诉</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{markup}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _refused(status: int, reason: str, message: str) -> HTMLResponse:
    return _page(
        status, "无法处理", [message], f'<p class="reason">原因代码：{html.escape(reason)}</p>'
    )


def _summary(alert: Alert) -> str:
    parts = [f"【{TIER_LABELS[alert.tier]}】"]
    customer = mask_customer(alert.customer_id)
    if customer:
        parts.append(f"客户 {customer}")
    if alert.category:
        parts.append(CATEGORY_LABELS[alert.category])
    if alert.emotion:
        parts.append(EMOTION_LABELS[alert.emotion])
    return " · ".join(parts)


def _verify(token: str, view: AlertView, secret: bytes, now: datetime) -> tuple[AlertAction, Alert]:
    """The action a genuine token stands for and its alert; raises InvalidToken."""

    def case_key_of(alert_id: str) -> str | None:
        alert = view.alerts.get(alert_id)
        return alert.case_key if alert else None

    action = action_from_token(token, secret=secret, case_key_of=case_key_of, now=now)
    return action, view.alerts[action.alert_id]


def _check(
    token: str, request: Request, view: AlertView, now: datetime
) -> tuple[AlertAction, Alert] | HTMLResponse:
    if not view.ready:
        return _refused(503, "NOT_READY", "服务正在启动，请稍后刷新。")
    try:
        action, alert = _verify(token, view, request.app.state.callback_secret, now)
    except InvalidToken as exc:
        status, message = _REFUSALS[exc.reason]
        return _refused(status, exc.reason.value, message)
    if alert.status is AlertStatus.CLOSED:
        return _refused(409, "ALERT_CLOSED", "这条告警已关闭。")
    return action, alert


def _form(label: str, error: str | None = None) -> str:
    """The confirmation form: the person's name (required), then the action's button."""
    problem = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return (
        f'<form method="post">{problem}<label>处理人（您的姓名）<br>'
        f'<input name="{_ACTOR_FIELD}" required maxlength="{_ACTOR_MAX}" autocomplete="name">'
        f'</label><br><button type="submit">{html.escape(label)}</button></form>'
    )


def _confirm(action: AlertAction, alert: Alert, error: str | None = None) -> HTMLResponse:
    label = ACTION_LABELS.get(action.kind, action.kind.value)
    return _page(
        422 if error else 200,
        f"{label}这条告警？",
        [
            f"告警：{_summary(alert)}",
            f"当前状态：{ALERT_STATUS_LABELS[alert.status]}",
            f"操作：{label}（记录为您填写的姓名）",
        ],
        _form(label, error),
    )


def _actor(form: bytes) -> str | None:
    """The name typed on the page: trimmed, control characters out, personal data masked."""
    if len(form) > _FORM_MAX_BYTES:
        return None
    values = parse_qs(form.decode("utf-8", "replace")).get(_ACTOR_FIELD, [])
    name = "".join(c for c in (values[0] if values else "") if c.isprintable()).strip()
    if not name or len(name) > _ACTOR_MAX:
        return None
    return mask_personal_data(name).text[:_ACTOR_MAX]


@router.get(
    "/v1/callbacks/actions/{token}",
    response_class=HTMLResponse,
    responses=_PAGES,
    summary="Confirmation page of a card's action button (does not act)",
)
async def confirm_page(token: str, request: Request, view: ViewDep, now: NowDep) -> HTMLResponse:
    checked = _check(token, request, view, now)
    if isinstance(checked, HTMLResponse):
        return checked
    action, alert = checked
    return _confirm(action, alert)


@router.post(
    "/v1/callbacks/actions/{token}",
    response_class=HTMLResponse,
    responses={
        **_PAGES,
        422: {
            "description": "No name was given: the page asks again.",
            "content": {"text/html": {}},
        },
    },
    summary="Carry out a card's action button (the same action as the API's), as the named person",
)
async def act_from_card(
    token: str,
    request: Request,
    view: ViewDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    now: NowDep,
) -> HTMLResponse:
    checked = _check(token, request, view, now)
    if isinstance(checked, HTMLResponse):
        return checked
    action, alert = checked
    actor = _actor(await request.body())
    if actor is None:
        return _confirm(action, alert, f"请填写处理人姓名（最多 {_ACTOR_MAX} 个字）。")
    action = action.model_copy(update={"actor": actor})
    try:
        await publisher.publish(
            ACTIONS.name(settings.namespace), [(alert.case_key.encode(), encode_record(action))]
        )
    except KafkaUnavailable:
        return _refused(503, "KAFKA_UNAVAILABLE", "暂时无法提交，请稍后重试（不会重复执行）。")
    label = ACTION_LABELS.get(action.kind, action.kind.value)
    return _page(
        200,
        f"已{label}",
        [
            f"告警：{_summary(alert)}",
            f"已由 {actor} 提交“{label}”，看板和告警时间线稍后会显示。",
        ],
    )
