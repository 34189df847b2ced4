"""Issue #16 noise / #18 round 5: short acknowledgements, thanks, closings and notices open no
alert, however short; short complaints stay complaints."""

from __future__ import annotations

import pytest

from complaints.rules import load_rules
from complaints.scoring import score_text
from complaints.tiers import assign_tier
from streams.records import Assessment, Category, Emotion, Intent, Source
from tests.factories import make_assessed

RULES = load_rules()

ACKS = [
    "好的，那我等你们消息。",
    "收到",
    "知道了",
    "明天见",
    "好的谢谢",
    "钥匙已经放在物业前台了。",
    "已经找到了，不用了，谢谢。",
    "嗯嗯，好的。",
    "好的，辛苦了！",
    "行，那就这样吧。",
    "OK，收到了，谢谢",
    "我已经把发票寄回给你们了。",
]

SHORT_COMPLAINTS = ["太慢了！", "垃圾", "骗子", "退钱", "还没到？", "气死了"]


def opens_alert(a: Assessment) -> bool:
    return assign_tier(make_assessed(assessment=a), RULES) is not None


@pytest.mark.parametrize("channel", [Source.SOCIAL, Source.CALL])
@pytest.mark.parametrize("text", ACKS)
def test_an_acknowledgement_opens_no_alert(text: str, channel: Source) -> None:
    """No grievance, no negative cue, no demand or threat: intent other, neutral, no tier."""
    a = score_text(text, channel)
    assert a.intent == Intent.OTHER
    assert not a.negative and a.emotion == Emotion.NEUTRAL
    assert a.category == Category.OTHER
    assert any(c.kind == "ack" for c in a.cues)
    assert not opens_alert(a)


@pytest.mark.parametrize("text", SHORT_COMPLAINTS)
def test_a_short_complaint_stays_a_complaint(text: str) -> None:
    """Length is no evidence: a two-character complaint still opens an alert."""
    a = score_text(text, Source.SOCIAL)
    assert a.intent == Intent.COMPLAINT and a.negative
    assert a.emotion not in (Emotion.NEUTRAL, Emotion.POSITIVE)
    assert opens_alert(a)


@pytest.mark.parametrize(
    "text",
    [
        "好的，但是到现在还没人联系我。",  # a clause that is no acknowledgement
        "收到，东西是坏的。",
        "好的，我要投诉你们！",  # a threat
        "知道了，退钱！",
    ],
)
def test_an_acknowledgement_beside_a_complaint_is_a_complaint(text: str) -> None:
    a = score_text(text, Source.SOCIAL)
    assert a.intent == Intent.COMPLAINT and a.negative
    assert opens_alert(a)


def test_an_acknowledgement_that_reports_a_fault_is_no_acknowledgement() -> None:
    """A notice whose words name a fault (寄回了坏的…) keeps its fault as content."""
    a = score_text("谢谢，已经把坏了的手机寄回了", Source.SOCIAL)
    assert a.intent == Intent.COMPLAINT


class TestFaultsSaidPlainly:
    """Issue #18 round 5, item 5: the emerging-issue bench's product faults, said plainly to the
    business, are complaints (a greeting's 好 is no praise; 请尽快处理 does not make a request of a
    fault)."""

    @pytest.mark.parametrize(
        "text",
        [
            "你好，蓝牙耳机左耳突然没声了",
            "客服你好，奶粉冲泡后有很多小硬块",
            "你好，新买的奶粉罐子里结块了，宝宝喝了吐奶",
            "奶粉怎么冲都化不开，有结块，请尽快处理",
            "蓝牙耳机左耳突然没声了，请尽快处理",
            "你好，快递到了驿站就找不到了",
        ],
    )
    def test_a_fault_said_to_the_business_is_a_complaint(self, text: str) -> None:
        a = score_text(text, Source.SOCIAL)
        assert a.intent == Intent.COMPLAINT and a.negative
        assert opens_alert(a)

    def test_a_greeting_is_no_praise(self) -> None:
        a = score_text("你好，我想问一下", Source.SOCIAL)
        assert not any(c.kind == "positive_term" and c.term == "好" for c in a.cues)

    @pytest.mark.parametrize(
        "text", ["你好，这款奶粉冲开没有结块，宝宝很爱喝", "你好，耳机没有杂音，音质很好"]
    )
    def test_a_negated_fault_is_no_fault(self, text: str) -> None:
        assert not score_text(text, Source.SOCIAL).negative
