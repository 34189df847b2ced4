"""Messages about several alerts (a group, or a digest of groups) in every format, and the cards
of detected conditions (surges) that say what they count."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from complaints.masking import mask_personal_data
from notify import PushFormat, verify_webhook
from notify.formats import DIGEST_SCHEMA, DigestItem, build_card, render_digest
from notify.formats.wecom import MAX_MARKDOWN_BYTES
from notify.models import Mention
from notify.policy import Policy
from streams.records import AlertEvent, AlertKind, GroupDetail, SurgeDetail, Transition
from tests.unit.notify.samples import (
    JSON_SECRET,
    PLANTED,
    T0,
    make_alert_event,
    subscription,
    with_pii,
)

NOW = T0 + timedelta(hours=1)
BASE = "https://kesu.example.com"
ROBOTS = [PushFormat.WECOM, PushFormat.DINGTALK, PushFormat.FEISHU]


def _items(n: int, **alert: Any) -> list[DigestItem]:
    items = []
    for i in range(n):
        tier = (1, 2, 3)[i % 3]
        event = make_alert_event(
            Transition.OPENED, alert_id=f"al-{i:03d}", version=1, tier=tier, **alert
        )
        items.append(DigestItem(event, (event.record_id,)))
    items.sort(key=lambda item: item.event.alert.tier)
    return items


ON_CALL = Mention(user_ids=("WangFang",), mobiles=("13800000000",))


def _render(
    fmt: PushFormat,
    items: list[DigestItem],
    *,
    groups: tuple[str, ...] = ("tier=1,kind=complaint",),
    mention: Mention = ON_CALL,
) -> tuple[Any, dict[str, Any]]:
    request = render_digest(
        subscription(fmt, policy=Policy(max_items=8)),
        items,
        now=NOW,
        delivery_id="msg_" + "ab" * 16,
        groups=groups,
        alert_link=lambda alert_id: f"{BASE}/#alert={alert_id}",
        more_link=f"{BASE}/#digest=msg_{'ab' * 16}",
        mention=mention,
    )
    return request, json.loads(request.body)


def _text(fmt: PushFormat, body: dict[str, Any]) -> str:
    if fmt is PushFormat.WECOM:
        return str(body["markdown"]["content"])
    if fmt is PushFormat.DINGTALK:
        return str(body["markdown"]["title"] + "\n" + body["markdown"]["text"])
    return json.dumps(body, ensure_ascii=False)


class TestGroupMessages:
    @pytest.mark.parametrize("fmt", ROBOTS)
    def test_counts_by_tier_top_items_and_a_link_to_the_rest(self, fmt: PushFormat) -> None:
        """12 alerts: the title counts them, 8 are listed with their links, 4 behind 查看全部."""
        _, body = _render(fmt, _items(12))
        text = _text(fmt, body)
        assert "12 条告警" in text and "即时响应 4 · 深度响应 4 · 预防性响应 4" in text
        assert text.count("#alert=al-") == 8
        assert "还有 4 条" in text and "#digest=msg_" in text

    def test_a_digest_of_several_groups_says_so(self) -> None:
        _, body = _render(
            PushFormat.WECOM, _items(3), groups=("tier=1,kind=complaint", "tier=3,kind=churn")
        )
        assert "告警汇总：3 条" in _text(PushFormat.WECOM, body)

    def test_wecom_stays_within_4096_bytes_listing_fewer_alerts(self) -> None:
        long = "快递三天了还没到，客服态度差，我要投诉！" * 20
        _, body = _render(
            PushFormat.WECOM,
            [*_items(30, excerpt=long, region="华南-广州" * 8)],
        )
        content = body["markdown"]["content"]
        assert len(content.encode("utf-8")) <= MAX_MARKDOWN_BYTES
        assert "#digest=msg_" in content, "the rest stays reachable"

    def test_feishu_stays_within_20_kb(self) -> None:
        _, body = _render(PushFormat.FEISHU, _items(30, excerpt="长" * 300))
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= 20 * 1024
        assert body["card"]["header"]["template"] == "red"  # the most urgent tier's colour

    def test_dingtalk_mentions_the_on_call_person_in_markdown(self) -> None:
        _, body = _render(PushFormat.DINGTALK, _items(2))
        assert body["msgtype"] == "markdown"
        assert body["at"]["atMobiles"] == ["13800000000"]
        assert "@13800000000" in body["markdown"]["text"]

    def test_json_lists_every_alert_with_its_records_and_verifies(self) -> None:
        request, body = _render(PushFormat.JSON, _items(12))
        assert body["schema"] == DIGEST_SCHEMA and len(body["items"]) == 12
        assert body["counts"] == {"1": 4, "2": 4, "3": 4}
        assert body["items"][0]["record_ids"] == ["al-000:1"]
        assert body["delivery_id"] == request.headers["webhook-id"]
        verify_webhook(request.headers, request.body, JSON_SECRET, now=NOW.timestamp())

    @pytest.mark.parametrize("fmt", list(PushFormat))
    def test_no_personal_data_in_any_digest(self, fmt: PushFormat) -> None:
        items = [DigestItem(with_pii(i.event), i.record_ids) for i in _items(3)]
        # (staff mobiles for DingTalk's @ are the one deliberate exception: none here)
        request, _ = _render(fmt, items, mention=Mention(user_ids=("WangFang",)))
        raw = request.body.decode("utf-8")
        assert not [value for value in PLANTED if value in raw]
        assert mask_personal_data(raw).count == 0

    @pytest.mark.parametrize("fmt", ROBOTS)
    def test_customer_text_stays_inert_in_a_digest(self, fmt: PushFormat) -> None:
        excerpt = "[点此退款](http://evil.example/x) <at id=all></at>"
        _, body = _render(fmt, _items(2, excerpt=excerpt))
        text = _text(fmt, body)
        assert "](http://evil" not in text and "<at id=all>" not in text


def _surge_event(**overrides: Any) -> AlertEvent:
    values: dict[str, Any] = {
        "kind": AlertKind.SURGE,
        "tier": 2,
        "case_key": "surge:batch:B2511-07",
        "customer_id": None,
        "title": "批次 B2511-07 负面反馈激增",
        "excerpt": "批次 B2511-07：15 分钟内 30 条负面反馈",  # the engine's own description
        "emotion": None,
        "intensity": 0,
        "contacts": 0,
        "surge": SurgeDetail(
            dimension="batch",
            value="B2511-07",
            window_start=T0,
            window_minutes=15,
            count=30,
            expected=1.2,
            ratio=25.0,
            p_value=1e-7,
            examples=("手机屏幕又坏了",),
        ),
        "group": GroupDetail(
            member_case_keys=("customer:a",),
            member_count=30,
            examples=("第三次坏了，电话13812345678",),
        ),
    }
    values.update(overrides)
    return make_alert_event(Transition.OPENED, **values)


class TestDetectedConditionCards:
    def test_a_surge_card_says_what_it_counts_not_feelings_or_contacts(self) -> None:
        card = build_card(_surge_event(), NOW)
        facts = dict(card.facts)
        assert "集中投诉：批次 B2511-07 负面反馈激增" in card.title
        assert card.excerpt is None, "客户原话 is a customer's words, not the engine's"
        assert "情绪强度" not in facts and "联系次数" not in facts
        assert facts["涉及客户"] == "30 位"
        assert facts["激增"].startswith("30 条负面（15 分钟")
        assert card.examples == ("第三次坏了，电话138＊＊＊＊5678",)  # masked, then made inert

    def test_a_complaint_card_keeps_its_words_and_numbers(self) -> None:
        card = build_card(make_alert_event(), NOW)
        assert card.excerpt and dict(card.facts)["情绪强度"] == "82/100"
