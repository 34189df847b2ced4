"""Issue #18, round 3: asks that name the fault they want fixed, plain why-questions, and the
grievances, demands and categories added for the kinds round 2 still missed."""

from __future__ import annotations

import pytest

from complaints.grievances import find_grievances
from complaints.lexicon import default_lexicon
from complaints.rules import load_rules
from complaints.scoring import score_text
from complaints.tiers import assign_tier
from streams.records import Assessment, Category, Emotion, Intent, Source
from tests.factories import make_assessed

RULES = load_rules()


def social(text: str) -> Assessment:
    return score_text(text, Source.SOCIAL)


def opens_alert(a: Assessment) -> bool:
    return assign_tier(make_assessed(assessment=a), RULES) is not None


class TestRemedyAsks:
    """An ask for a repair, a re-send or an exchange is a complaint when it reports a fault, and
    an ask when the trouble is the customer's own or there is none (issue #18, round 4)."""

    @pytest.mark.parametrize(
        ("text", "intent"),
        [
            ("麻烦派个师傅来换一下楼道的灯泡，3栋2单元五楼。", Intent.REQUEST),
            ("手表屏幕碎了，保修能换吗？", Intent.ENQUIRY),
            ("我的银行卡丢了，麻烦帮我挂失。", Intent.REQUEST),
            ("孩子生病了，这周的课可以补吗？", Intent.ENQUIRY),
        ],
    )
    def test_opens_no_alert(self, text: str, intent: Intent) -> None:
        """No fault of the business: not negative, neutral, no tier."""
        a = social(text)
        assert a.intent == intent
        assert not a.negative and a.emotion == Emotion.NEUTRAL
        assert not opens_alert(a)

    def test_a_remedy_ask_with_a_grievance_is_still_a_complaint(self) -> None:
        """Being sent around is content, remedy or not."""
        a = social("灯坏了报修三次，物业说找电工，电工又说找物业，麻烦安排人来看一下！")
        assert a.intent == Intent.COMPLAINT and a.negative

    def test_the_same_fault_without_an_ask_is_a_complaint(self) -> None:
        assert social("楼道的灯坏了一个星期了，也没人管。").negative

    def test_a_remedy_ask_is_about_after_sales(self) -> None:
        assert social("家里水表好像不走了，麻烦派人来看一下。").category == Category.AFTER_SALES


class TestWhyQuestions:
    def test_a_plain_why_is_an_enquiry(self) -> None:
        """配送费为什么是八块？ asks for a reason; it opened an alert on 为什么 alone."""
        a = social("配送费为什么是八块？")
        assert a.intent == Intent.ENQUIRY and not opens_alert(a)

    def test_a_why_beside_other_content_is_a_complaint(self) -> None:
        a = social("为什么每次都是我们老百姓买单？说涨就涨，也不问问我们的意见。")
        assert a.intent == Intent.COMPLAINT and a.emotion == Emotion.ANGER

    def test_a_strong_rhetorical_question_is_still_content(self) -> None:
        assert social("凭什么不给我退？").intent == Intent.COMPLAINT


class TestGrievancesRound3:
    @pytest.mark.parametrize(
        ("text", "group"),
        [
            ("手机银行显示有一笔五千的支出，不是我操作的。", "unauthorized"),
            ("理财经理说是保本的，到期亏了三万。", "money_taken"),
            ("样板间用的是进口地板，交房变成了杂牌。", "broken_promise"),
            ("退个押金要排三个月，这不就是变相占用用户的钱吗？", "deceived"),
        ],
    )
    def test_found(self, text: str, group: str) -> None:
        assert group in find_grievances(text, default_lexicon().grievances).groups

    def test_a_stove_that_will_not_light_is_no_fire(self) -> None:
        """打不着火 is a fault, not the 着火 hazard."""
        found = find_grievances("燃气灶打不着火。", default_lexicon().grievances)
        assert "danger" not in found.groups
        assert "danger" in find_grievances("燃气灶着火了。", default_lexicon().grievances).groups


class TestDemandsRound3:
    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("洗衣机整台在跳，师傅说正常，我要求换机！", "换货"),
            ("物业费每年都涨，保洁越来越差，要求降价！", "降价"),
            ("电费翻了一倍，你们必须重新核算！", "说法"),
        ],
    )
    def test_found(self, text: str, name: str) -> None:
        assert name in social(text).demands

    def test_a_question_about_a_price_cut_is_no_demand(self) -> None:
        assert social("请问下个月会降价吗？").demands == ()


class TestCategoriesRound3:
    @pytest.mark.parametrize(
        ("text", "category"),
        [
            ("奶茶里喝出一块塑料片，差点划破嗓子。", Category.PRODUCT_QUALITY),
            ("新房的门关不严，一到冬天就漏风。", Category.PRODUCT_QUALITY),
            ("导游带我们进购物店，不买东西就甩脸色。", Category.SERVICE_ATTITUDE),
            ("酒店超售，大半夜到了说没房。", Category.SERVICE_PROCESS),
            ("明明是不限量套餐，用到二十个G就限速了。", Category.PRICE),
        ],
    )
    def test_category(self, text: str, category: Category) -> None:
        assert social(text).category == category
