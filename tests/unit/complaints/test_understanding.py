"""Issue #18: what a text is doing (intent), what the customer demands, what was done to them
(grievances), and what it is about when it names only a product or a fee."""

from __future__ import annotations

import pytest

from complaints.demands import DemandFinder
from complaints.lexicon import default_lexicon
from complaints.rules import load_rules
from complaints.scoring import score_text
from complaints.tiers import assign_tier
from streams.records import Assessment, Category, Emotion, Intent, Source
from tests.factories import make_assessed

RULES = load_rules()


def social(text: str) -> Assessment:
    return score_text(text, Source.SOCIAL)


def tier_of(a: Assessment) -> int | None:
    decision = assign_tier(make_assessed(assessment=a), RULES)
    return None if decision is None else decision.tier


class TestIssueExamples:
    """The misreadings issue #18 names, each as the scorer now reads it."""

    def test_a_call_back_request_opens_no_alert(self) -> None:
        """ "我的电话是…，麻烦回电。" read 0.92 negative with a fallback disappointment; it is a
        request: not negative, neutral, no alert, and the phone number stays masked."""
        a = social("我的电话是13812345678，麻烦回电。")
        assert a.intent == Intent.REQUEST
        assert not a.negative and a.emotion == Emotion.NEUTRAL
        assert tier_of(a) is None
        assert "13812345678" not in a.masked_text

    def test_money_taken_is_a_price_complaint(self) -> None:
        a = social("流量套餐每个月多扣我三十块。")
        assert a.negative and a.intent == Intent.COMPLAINT
        assert a.category == Category.PRICE
        assert any(c.kind == "grievance" and c.label == "money_taken" for c in a.cues)

    def test_a_loss_reads_as_anger(self) -> None:
        a = social("余额莫名其妙少了两百，也没有任何短信提醒。")
        assert a.emotion == Emotion.ANGER

    @pytest.mark.parametrize(
        ("text", "demand"),
        [("我要求退一赔三！", "赔偿"), ("这事你们必须给我个交代！", "说法")],
    )
    def test_demands_are_seen_and_escalate(self, text: str, demand: str) -> None:
        """No 12315, 媒体 or 律师, yet escalation intent: a demand, tier 1."""
        a = social(text)
        assert demand in a.demands and not a.threats
        assert tier_of(a) == 1
        decision = assign_tier(make_assessed(assessment=a), RULES)
        assert decision is not None and decision.rule_id == "escalation-demand"

    def test_a_product_named_with_a_symptom_is_about_the_product(self) -> None:
        a = social("孩子用了你们的纸尿裤屁股全红了。")
        assert a.category == Category.PRODUCT_QUALITY
        assert any(c.kind == "domain" for c in a.cues)


class TestIntent:
    @pytest.mark.parametrize(
        ("text", "intent"),
        [
            ("请问我的外卖现在到哪了？", Intent.ENQUIRY),
            ("查一下订单到哪了", Intent.ENQUIRY),
            ("帮我查下快递", Intent.ENQUIRY),
            ("补办手机卡需要带什么证件？", Intent.ENQUIRY),
            ("麻烦帮我把收货地址改成公司地址，谢谢。", Intent.REQUEST),
            ("我想办理停机保号，麻烦帮我处理一下。", Intent.REQUEST),
            ("都一个星期了快递还没到，请问到底怎么回事？", Intent.COMPLAINT),
            ("这也叫五星级酒店？凭什么收这么贵？", Intent.COMPLAINT),
            ("师傅上门很准时，服务态度非常好，点赞！", Intent.PRAISE),
        ],
    )
    def test_intent(self, text: str, intent: Intent) -> None:
        assert social(text).intent == intent

    @pytest.mark.parametrize(
        "text",
        [
            "查一下订单到哪了",
            "查一下订单到哪了？",
            "订单到哪了",
            "我的订单到哪了啊",
            "请问订单到哪了",
        ],
    )
    def test_short_look_ups_do_not_flip_on_wording(self, text: str) -> None:
        """Issue #18: short order look-ups flipped on one character; none opens an alert."""
        a = social(text)
        assert a.intent == Intent.ENQUIRY and not a.negative and tier_of(a) is None

    def test_an_ask_with_a_problem_is_a_complaint(self) -> None:
        """A question with a problem beside it is no enquiry: the problem is the content."""
        a = social("耳机左边一直没声音，请问怎么处理？")
        assert a.intent == Intent.COMPLAINT and a.negative

    def test_a_supposed_problem_is_no_content(self) -> None:
        """会不会起球？ asks about a problem nobody has yet."""
        a = social("这件外套是纯棉的吗？会不会起球？")
        assert a.intent == Intent.ENQUIRY and not a.negative

    def test_the_intent_is_shown_as_a_cue(self) -> None:
        a = social("请问发票在哪里申请？")
        assert any(c.kind == "intent" and c.label == "enquiry" for c in a.cues)


class TestDemands:
    FINDER = DemandFinder(default_lexicon().demands)

    @pytest.mark.parametrize(
        ("text", "names"),
        [
            ("必须给我退款并道歉！", ("退款", "道歉")),
            ("把多扣的钱退给我！", ("退款",)),
            ("医药费必须赔！", ("赔偿",)),
            ("开发商必须负责维修", ("负责", "维修")),
            ("我要求直接换新机", ("换货",)),
            ("你们必须给乘客一个交代", ("说法",)),
            ("退钱，不然我就去投诉", ("退款",)),
            # not demands: questions, polite asks, negated objects
            ("必须本人去才能退款吗？", ()),
            ("麻烦帮我申请一下退款", ()),
            ("能不能退款？", ()),
            ("不用道歉，尽快处理就行", ()),
            ("退款显示成功三天了还没到账", ()),
        ],
    )
    def test_found_and_traps(self, text: str, names: tuple[str, ...]) -> None:
        assert self.FINDER.find(text).names == names

    def test_each_demand_is_a_cue(self) -> None:
        a = social("这事你们必须给我个交代！")
        cues = [c for c in a.cues if c.kind == "demand"]
        assert [c.label for c in cues] == ["说法"] and cues[0].term in a.keywords


class TestGrievances:
    @pytest.mark.parametrize(
        ("text", "group", "emotion"),
        [
            ("话费每个月都多扣我二十块", "money_taken", Emotion.ANGER),
            ("我从来没开通过这个业务，凭什么扣钱", "unauthorized", Emotion.ANGER),
            ("说好三天到，结果一个星期了还没到", "broken_promise", Emotion.ANGER),
            (
                "营业厅让我去街道，街道让我去营业厅，你们就是在踢皮球！",
                "sent_around",
                Emotion.ANGER,
            ),
            ("商家说不关他的事，让我自己找快递", "refused", Emotion.ANGER),
            ("停水一整天都没有提前通知", "not_informed", Emotion.ANGER),
        ],
    )
    def test_group_and_emotion(self, text: str, group: str, emotion: Emotion) -> None:
        a = social(text)
        assert any(c.kind == "grievance" and c.label == group for c in a.cues)
        assert a.emotion == emotion

    def test_sent_around_with_nobody_to_turn_to_is_helplessness(self) -> None:
        """Seed 003: 推诿 -> 无助 when the customer says they do not know where to turn."""
        a = social("商家说找平台，平台又说找商家，我到底该找谁？")
        assert a.emotion == Emotion.HELPLESSNESS


class TestCategoryByNoun:
    @pytest.mark.parametrize(
        ("text", "category"),
        [
            ("耳机左边没声音", Category.PRODUCT_QUALITY),
            ("话费每个月都比套餐多出二十多块", Category.PRICE),
            ("手机下单五天了还没发货", Category.LOGISTICS),
            ("空调坏了报修一个礼拜没人来", Category.AFTER_SALES),
        ],
    )
    def test_noun_and_explicit_cue(self, text: str, category: Category) -> None:
        """A product or fee noun decides when nothing else does; an explicit word wins."""
        assert social(text).category == category

    def test_a_request_naming_a_product_is_not_about_its_quality(self) -> None:
        a = social("我想把信用卡的账单日改到每月五号，麻烦帮我办一下。")
        assert a.intent == Intent.REQUEST and a.category != Category.PRODUCT_QUALITY


class TestEmotionFallback:
    def test_fallback_by_category(self) -> None:
        """Issue #18: a complaint without emotion words is not always disappointment."""
        lexicon = default_lexicon()
        fallback = lexicon.scoring.emotion.fallback_by_category
        assert fallback[Category.PRICE] == Emotion.ANGER
        assert fallback[Category.SERVICE_ATTITUDE] == Emotion.ANGER
        a = social("话费每个月都比套餐多出二十多块")  # no emotion word: the category decides
        assert a.category == Category.PRICE and a.emotion == Emotion.ANGER
