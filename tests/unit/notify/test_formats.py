"""Formats: each platform's body shape, Chinese labels, limits, links, and no personal data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from complaints.masking import mask_personal_data
from notify import (
    InvalidToken,
    Links,
    Mention,
    OutgoingRequest,
    PushFormat,
    Subscription,
    TokenFailure,
    make_links,
    render,
    verify_action_token,
    verify_webhook,
)
from notify.formats import SCHEMA, build_card
from notify.formats.text import fit_utf8, human_duration, mask_customer
from notify.formats.wecom import MAX_MARKDOWN_BYTES
from streams.records import ActionKind, AlertEvent, AlertStatus, Compensation, Transition
from tests.unit.notify.samples import (
    CALLBACK_SECRET,
    DINGTALK_SECRET,
    FEISHU_SECRET,
    JSON_SECRET,
    PLANTED,
    T0,
    make_alert_event,
    subscription,
    with_pii,
)

NOW = T0 + timedelta(hours=1, minutes=30)  # 30 minutes before the first-action deadline
BASE = "https://kesu.example.com"


def _links(event: AlertEvent, sub: Subscription) -> Links:
    return make_links(event, sub, base_url=BASE, callback_secret=CALLBACK_SECRET, issued_at=NOW)


def _render(
    fmt: PushFormat, event: AlertEvent | None = None, *, now: datetime = NOW, **overrides: Any
) -> tuple[OutgoingRequest, dict[str, Any]]:
    """The request `fmt` renders for `event` at `now`, and its body parsed as JSON."""
    event = event or make_alert_event()
    sub = subscription(fmt, **overrides)
    request = render(sub, event, _links(event, sub), now=now)
    return request, json.loads(request.body)


def _text(fmt: PushFormat, body: dict[str, Any]) -> str:
    """The human-readable text of a robot message."""
    if fmt is PushFormat.WECOM:
        return str(body["markdown"]["content"])
    if fmt is PushFormat.DINGTALK:
        return str(body["actionCard"]["title"] + "\n" + body["actionCard"]["text"])
    return json.dumps(body["card"], ensure_ascii=False)


ROBOTS = [PushFormat.WECOM, PushFormat.DINGTALK, PushFormat.FEISHU]


class TestJson:
    def test_envelope_shape(self) -> None:
        """A stable, versioned envelope: ids, transition with its label, alert summary, links."""
        request, body = _render(PushFormat.JSON)
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        assert body["schema"] == SCHEMA
        assert body["type"] == "alert.breached"
        assert body["record_id"] == "al-7f3a9c:4"
        assert body["delivery_id"] == request.headers["webhook-id"]
        assert body["transition_label"] == "SLA 超时"
        alert = body["alert"]
        assert (alert["tier"], alert["tier_label"], alert["status_label"]) == (
            1,
            "即时响应",
            "待处理",
        )
        assert (alert["category_label"], alert["emotion_label"]) == ("物流", "愤怒型")
        assert alert["customer"] == "c***1"
        assert alert["due_at"] == "2026-11-23T04:00:00+00:00"
        assert set(body["links"]["actions"]) == {"acknowledge", "resolve"}
        assert body["summary"] == "【即时响应】SLA 超时 · 客户 c***1 · 物流 · 愤怒型"
        assert "即时响应" in request.body.decode("utf-8")  # UTF-8, not \\u escapes

    def test_body_is_identical_across_attempts(self) -> None:
        """Retries re-sign with a new timestamp but send the same bytes under the same id."""
        first, _ = _render(PushFormat.JSON, now=NOW)
        later, _ = _render(PushFormat.JSON, now=NOW + timedelta(minutes=7))
        assert first.body == later.body
        assert first.headers["webhook-id"] == later.headers["webhook-id"]
        assert first.headers["webhook-timestamp"] != later.headers["webhook-timestamp"]

    def test_signature_verifies_with_the_subscription_secret(self) -> None:
        """A receiver holding the secret verifies the request with verify_webhook."""
        request, _ = _render(PushFormat.JSON)
        msg_id = verify_webhook(request.headers, request.body, JSON_SECRET, now=NOW.timestamp())
        assert msg_id == request.headers["webhook-id"]


class TestWeCom:
    def test_markdown_message_with_labels_and_links(self) -> None:
        """A markdown message in Chinese with tier, status, countdown, reason and action links."""
        request, body = _render(PushFormat.WECOM)
        assert body["msgtype"] == "markdown"
        content = body["markdown"]["content"]
        assert content.startswith(
            '## <font color="warning">【即时响应】SLA 超时 · 客户 c＊＊＊1 · 物流 · 愤怒型'
        )
        for expected in (
            "待处理",
            "剩余 30分",
            "截止 11-23 12:00 北京时间",
            "规则 anger",
            "投诉",
            "态度差",
            "情感补偿",
            "50 元",
            "客户原话",
            "华南-广州",
        ):
            assert expected in content
        assert f"[确认]({BASE}/v1/callbacks/actions/v1." in content
        assert f"[解决]({BASE}/v1/callbacks/actions/v1." in content
        assert f"[查看详情]({BASE}/#alert=al-7f3a9c)" in content
        assert "webhook-signature" not in request.headers

    def test_needs_approval_and_escalation_are_marked(self) -> None:
        """A compensation above front-line authority says 需审批; an escalation names the target."""
        comp = Compensation(
            rung="relationship",
            label="关系补偿",
            actions=("体验官",),
            amount_yuan=800,
            needs_approval=True,
            rule_id="r",
        )
        event = make_alert_event(
            Transition.ESCALATED, compensation=comp, escalated_to="客服经理", escalation_level=1
        )
        _, body = _render(PushFormat.WECOM, event)
        content = body["markdown"]["content"]
        assert "需审批" in content and "800 元" in content
        assert '已上报：<font color="warning">客服经理</font>' in content
        assert "【即时响应】逐级上报" in content

    @pytest.mark.parametrize("filler", ["投", "a", "😡", "é"])
    def test_long_excerpt_is_cut_to_4096_bytes_at_a_character_boundary(self, filler: str) -> None:
        """The excerpt gives way so the message fits WeCom's 4096 bytes and keeps its links."""
        event = make_alert_event(excerpt=filler * 5000)
        _, body = _render(PushFormat.WECOM, event)
        content = body["markdown"]["content"]
        raw = content.encode("utf-8")
        assert len(raw) <= MAX_MARKDOWN_BYTES
        raw.decode("utf-8")  # never a broken character
        assert "…" in content and "[确认](" in content and "[查看详情](" in content

    def test_message_fits_even_when_everything_is_long(self) -> None:
        """With long keywords, cues and detail too, the whole message is cut safely to the limit."""
        event = make_alert_event(
            keywords=tuple("关键词" * 30 for _ in range(5)), excerpt="长" * 3000
        )
        event = event.model_copy(update={"detail": "说明" * 2000})
        _, body = _render(PushFormat.WECOM, event)
        assert len(body["markdown"]["content"].encode("utf-8")) <= MAX_MARKDOWN_BYTES

    def test_mentions_by_userid_only(self) -> None:
        """WeCom markdown can @ only by userid; mobiles are not written into the message."""
        _, body = _render(
            PushFormat.WECOM, mention=Mention(mobiles=("13900001111",), user_ids=("zhangsan",))
        )
        content = body["markdown"]["content"]
        assert "<@zhangsan>" in content and "13900001111" not in content


class TestDingTalk:
    def test_action_card_with_buttons_and_signed_url(self) -> None:
        """An actionCard whose buttons are the signed callbacks, posted to a 加签 URL."""
        request, body = _render(PushFormat.DINGTALK)
        assert body["msgtype"] == "actionCard"
        card = body["actionCard"]
        assert card["title"].startswith("【即时响应】SLA 超时")
        assert [b["title"] for b in card["btns"]] == ["确认", "解决", "查看详情"]
        assert card["btns"][0]["actionURL"].startswith(f"{BASE}/v1/callbacks/actions/v1.")
        assert "### 【即时响应】SLA 超时" in card["text"] and "北京时间" in card["text"]
        query = parse_qs(urlsplit(request.url).query)
        timestamp = int(query["timestamp"][0])
        assert timestamp == int(NOW.timestamp() * 1000)
        mac = hmac.new(
            DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
        )
        assert query["sign"] == [base64.b64encode(mac.digest()).decode()]
        assert query["key"] == ["ROBOT-KEY-123456"]

    def test_mentions_appear_in_at_and_in_the_text(self) -> None:
        """DingTalk only rings a mention whose @phone or @userid is also in the text."""
        mention = Mention(mobiles=("13900001111",), user_ids=("manager01",))
        _, body = _render(PushFormat.DINGTALK, mention=mention)
        assert body["at"] == {
            "atMobiles": ["13900001111"],
            "atUserIds": ["manager01"],
            "isAtAll": False,
        }
        assert body["actionCard"]["text"].endswith("@13900001111 @manager01")

    def test_no_mention_no_at(self) -> None:
        """Without mentions the message has no `at` block and no @ line."""
        _, body = _render(PushFormat.DINGTALK)
        assert "at" not in body and "@" not in body["actionCard"]["text"]

    def test_unsigned_robot_url_is_left_alone(self) -> None:
        """A robot secured by keyword or IP (no 加签 secret) gets its URL unchanged."""
        request, _ = _render(PushFormat.DINGTALK, secret=None)
        assert request.url == "https://hooks.example.com/robot/send?key=ROBOT-KEY-123456"


class TestFeishu:
    @pytest.mark.parametrize(("tier", "colour"), [(1, "red"), (2, "orange"), (3, "blue")])
    def test_interactive_card_coloured_by_tier(self, tier: int, colour: str) -> None:
        """msg_type interactive, header template red/orange/blue by tier, tier label in the title."""
        _, body = _render(PushFormat.FEISHU, make_alert_event(tier=tier))
        assert body["msg_type"] == "interactive"
        header = body["card"]["header"]
        assert header["template"] == colour
        assert header["title"]["tag"] == "plain_text"
        assert header["title"]["content"].startswith(
            f"【{['即时响应', '深度响应', '预防性响应'][tier - 1]}】"
        )

    def test_buttons_open_signed_callbacks(self) -> None:
        """The action element has 确认/解决 buttons with callback URLs and a details button."""
        _, body = _render(PushFormat.FEISHU)
        actions = next(e for e in body["card"]["elements"] if e["tag"] == "action")["actions"]
        assert [(b["text"]["content"], b["type"]) for b in actions] == [
            ("确认", "primary"),
            ("解决", "danger"),
            ("查看详情", "default"),
        ]
        assert actions[1]["url"].startswith(f"{BASE}/v1/callbacks/actions/v1.")

    def test_timestamp_and_sign_in_body(self) -> None:
        """With a secret, timestamp (seconds, string) and sign are in the body, per Feishu's recipe."""
        _, body = _render(PushFormat.FEISHU)
        assert body["timestamp"] == str(int(NOW.timestamp()))
        key = f"{body['timestamp']}\n{FEISHU_SECRET}".encode()
        assert (
            body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        )

    def test_no_secret_no_sign(self) -> None:
        """Without a secret there is nothing to sign."""
        _, body = _render(PushFormat.FEISHU, secret=None)
        assert "sign" not in body and "timestamp" not in body

    def test_mentions_by_id(self) -> None:
        """Feishu cards mention by open_id/user_id with <at id=…>."""
        _, body = _render(PushFormat.FEISHU, mention=Mention(user_ids=("ou_abc",), everyone=True))
        assert "<at id=ou_abc></at> <at id=all></at>" in json.dumps(body, ensure_ascii=False)


class TestPersonalData:
    @pytest.mark.parametrize("fmt", list(PushFormat))
    def test_nothing_planted_reaches_a_receiver(self, fmt: PushFormat) -> None:
        """Phone, ID, card and e-mail planted in detail, excerpt, keywords, cues and fields never appear."""
        request, _body = _render(fmt, with_pii(make_alert_event()))
        raw = request.body.decode("utf-8")
        for value in PLANTED:
            assert value not in raw and value not in request.url
        assert mask_personal_data(raw).count == 0
        assert "138" in raw  # masked forms are there: 138****5678

    @pytest.mark.parametrize("fmt", list(PushFormat))
    def test_no_secret_in_body(self, fmt: PushFormat) -> None:
        """The subscription secret and the callback secret are never in a body."""
        request, _ = _render(fmt)
        raw = request.body.decode("utf-8")
        for secret in (JSON_SECRET, DINGTALK_SECRET, FEISHU_SECRET, CALLBACK_SECRET.decode()):
            assert secret not in raw

    @pytest.mark.parametrize("fmt", ROBOTS)
    def test_customer_text_cannot_inject_markup(self, fmt: PushFormat) -> None:
        """A link, an @all, a font tag or a heading in customer text stay inert characters."""
        excerpt = '[点此退款](http://evil.example/x) <at id=all></at> <font color="info">x</font>\n## 标题'
        _, body = _render(fmt, make_alert_event(excerpt=excerpt, keywords=("**粗**",)))
        text = _text(fmt, body)
        assert "](http://evil" not in text
        assert (
            "<at id=all>" not in text
            and '<font color=\\"info\\">x' not in text
            and '<font color="info">x' not in text
        )
        assert "\n## 标题" not in text and "**粗**" not in text
        assert "点此退款" in text  # the words are still shown


class TestCardContent:
    def test_countdown_before_and_after_the_deadline(self) -> None:
        """The running clock shows time left, or time over once breached, in Beijing time."""
        event = make_alert_event()
        before = build_card(event, T0 + timedelta(minutes=35))
        after = build_card(event, T0 + timedelta(hours=2, minutes=35))
        assert before.deadline is not None and after.deadline is not None
        assert (before.deadline.text, before.deadline.overdue) == ("剩余 1小时25分", False)
        assert (after.deadline.text, after.deadline.overdue) == ("已超时 35分", True)
        assert after.deadline.due == "11-23 12:00"

    def test_paused_clock(self) -> None:
        """A clock waiting on the customer shows as paused, without a deadline."""
        clock = (
            make_alert_event()
            .alert.clocks[0]
            .model_copy(update={"running_since": None, "due_at": None})
        )
        card = build_card(make_alert_event(clocks=(clock,), status=AlertStatus.WAITING), NOW)
        assert card.deadline is None and card.paused

    def test_resolved_alert_offers_no_buttons(self) -> None:
        """A follow-up reminder on a resolved alert links to the dashboard but offers no actions."""
        event = make_alert_event(Transition.FOLLOW_UP_DUE, status=AlertStatus.RESOLVED)
        sub = subscription(PushFormat.DINGTALK)
        links = _links(event, sub)
        assert links.actions == {} and links.alert is not None
        body = json.loads(render(sub, event, links, now=NOW).body)
        assert [b["title"] for b in body["actionCard"]["btns"]] == ["查看详情"]

    def test_acknowledged_alert_offers_resolve_only(self) -> None:
        """Once acknowledged, the card offers only 解决."""
        event = make_alert_event(status=AlertStatus.ACKNOWLEDGED)
        assert list(_links(event, subscription()).actions) == [ActionKind.RESOLVE]

    def test_action_links_carry_verifiable_tokens(self) -> None:
        """Each action link's token verifies for its alert's case and expires 72 h after sending."""
        event = make_alert_event()
        links = _links(event, subscription(PushFormat.FEISHU))
        for kind, url in links.actions.items():
            token = url.rsplit("/", 1)[1]
            claims = verify_action_token(
                token, secret=CALLBACK_SECRET, case_key=event.alert.case_key, now=NOW
            )
            assert (claims.kind, claims.alert_id, claims.subject) == (
                kind,
                event.alert_id,
                "card:sub-feishu",
            )
            assert claims.expires_at == int((NOW + timedelta(hours=72)).timestamp())

    def test_a_card_for_an_old_event_arrives_with_working_buttons(self) -> None:
        """Buttons count their lifetime from the send, not from the event (4 days old here)."""
        event = make_alert_event(at=T0)
        sent = T0 + timedelta(days=4)
        sub = subscription(PushFormat.DINGTALK)
        links = make_links(
            event, sub, base_url=BASE, callback_secret=CALLBACK_SECRET, issued_at=sent
        )
        token = links.actions[ActionKind.ACKNOWLEDGE].rsplit("/", 1)[1]
        for clicked in (sent, sent + timedelta(hours=71)):
            claims = verify_action_token(
                token, secret=CALLBACK_SECRET, case_key=event.alert.case_key, now=clicked
            )
            assert claims.kind is ActionKind.ACKNOWLEDGE
        with pytest.raises(InvalidToken) as expired:
            verify_action_token(
                token,
                secret=CALLBACK_SECRET,
                case_key=event.alert.case_key,
                now=sent + timedelta(hours=73),
            )
        assert expired.value.reason is TokenFailure.EXPIRED


class TestTextTools:
    @pytest.mark.parametrize("limit", range(0, 14))
    def test_fit_utf8_never_cuts_a_character(self, limit: int) -> None:
        """Whatever the byte budget, the result is whole characters within the budget."""
        out = fit_utf8("客诉😡abc告警", limit)
        assert len(out.encode("utf-8")) <= limit
        assert out == "" or out.endswith("…") or out == "客诉😡abc告警"

    @pytest.mark.parametrize(
        ("minutes", "text"),
        [
            (0, "不到1分"),
            (35, "35分"),
            (60, "1小时"),
            (85, "1小时25分"),
            (1440, "1天"),
            (1620, "1天3小时"),
        ],
    )
    def test_human_duration(self, minutes: int, text: str) -> None:
        """Durations read the way operators say them."""
        assert human_duration(timedelta(minutes=minutes)) == text

    @pytest.mark.parametrize(
        ("customer", "shown"),
        [("c1001", "c***1"), ("ab", "a***"), (None, None), ("13812345678", "138****5678")],
    )
    def test_mask_customer(self, customer: str | None, shown: str | None) -> None:
        """Customer ids keep first and last character; one that is a phone number is masked as one."""
        assert mask_customer(customer) == shown
