"""Issue #18, round 4: a text that reports a fault, harm, loss or service failure is a complaint
even when it ends with a polite ask (domain.md tier 2: product faults, process defects,
after-sales failures); an ask without such content opens no alert."""

from __future__ import annotations

import pytest

from complaints.intent import AskFinder
from complaints.lexicon import default_lexicon
from complaints.rules import load_rules
from complaints.scoring import score_text
from complaints.tiers import assign_tier
from streams.records import Assessment, Category, Emotion, Intent, Source
from tests.factories import make_assessed

RULES = load_rules()
FAULT_CATEGORIES = {Category.PRODUCT_QUALITY, Category.AFTER_SALES, Category.LOGISTICS}


def tier_of(a: Assessment) -> int | None:
    decision = assign_tier(make_assessed(assessment=a), RULES)
    return None if decision is None else decision.tier


@pytest.mark.parametrize("channel", [Source.CALL, Source.SOCIAL])
@pytest.mark.parametrize(
    "text",
    [
        "手机用了三天就黑屏，开不了机，麻烦帮忙看看怎么修",  # the R1 trial's fault text
        "冰箱买了不到一个月就不制冷了，能派人来看一下吗？",
        "热水器一直在漏水，地板都湿了，麻烦安排师傅上门修一下。",
        "家里宽带从昨晚开始断网，麻烦派人来看看。",
        "快递少了一件，只收到两盒，可以补发吗？",
        "洗衣机还在保修期，电机坏了，保修能换吗？",
        "收到的杯子有个小缺口，可以换一个吗？",
    ],
)
def test_a_fault_with_a_polite_ask_is_a_tier_2_complaint(text: str, channel: Source) -> None:
    """Negative, a complaint, a calm negative emotion (a polite question blames no one: not
    anger, so not tier 1 on that alone), a fault category, an alert, and tier 2 (domain.md:
    product faults and after-sales failures) when the category is one of those."""
    a = score_text(text, channel)
    assert a.intent == Intent.COMPLAINT
    assert a.negative
    assert a.emotion not in (Emotion.NEUTRAL, Emotion.POSITIVE, Emotion.ANGER)
    assert a.category in FAULT_CATEGORIES
    tier = tier_of(a)
    assert tier is not None
    if a.category in (Category.PRODUCT_QUALITY, Category.AFTER_SALES):
        assert tier == 2
    assert any(c.kind == "fault" for c in a.cues)


@pytest.mark.parametrize(
    "text",
    [
        "请帮我查一下快递到哪了",
        "麻烦帮我把收货地址改成公司地址，谢谢。",
        "我的电话是13812345678，麻烦回电。",
        "麻烦开一下电子发票，发我邮箱。",
        "这个套餐多少钱一个月？",
        "会员怎么退订？",
        "电视想预约上门安装，明天下午可以吗？",
        "这件外套是纯棉的吗？会不会起球？",  # a supposed fault is no fault
        "明天小区停水是几点到几点？",  # a planned outage asked about
        "这样填对不对？",
    ],
)
def test_an_ask_without_grievance_opens_no_alert(text: str) -> None:
    a = score_text(text, Source.CALL)
    assert a.intent in (Intent.ENQUIRY, Intent.REQUEST)
    assert not a.negative and a.emotion == Emotion.NEUTRAL
    assert tier_of(a) is None


class TestFaultCues:
    finder = AskFinder(default_lexicon().intent)

    def faults(self, text: str) -> list[str]:
        return [c.term for c in self.finder.faults(text, self.finder.aside_clauses(text))]

    def test_found(self) -> None:
        assert self.faults("燃气热水器打不着火了，麻烦师傅明天上午来一趟。") == ["打不着"]

    def test_not_in_a_hypothetical_clause(self) -> None:
        assert self.faults("如果坏了，保修能换吗？") == []

    def test_not_in_the_customers_own_mishap(self) -> None:
        """卡丢了 is the customer's loss, not the business's failure."""
        assert self.faults("我的卡不小心弄丢了，麻烦补办一张。") == []
