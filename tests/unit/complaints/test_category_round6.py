"""Category from what a text is about (issue #18, round 6): a request's fee is the object of its
paperwork, charges on top and detours are about price, sending in for repair is after-sales."""

from __future__ import annotations

import pytest

from complaints.lexicon import default_lexicon
from complaints.scoring import score_text
from streams.records import Category, Intent, Source


def social(text: str) -> tuple[Intent | None, Category]:
    a = score_text(text, Source.SOCIAL)
    return a.intent, a.category


def test_request_for_the_paperwork_of_a_fee_is_a_process() -> None:
    """开发票 for a fee is 服务流程: the request's fee noun counts only part of its weight."""
    assert default_lexicon().domains.request_fee_factor < 1.0
    assert social("帮我开一下这个月电费的发票。") == (
        Intent.REQUEST,
        Category.SERVICE_PROCESS,
    )


def test_the_same_fee_in_a_complaint_stays_price() -> None:
    """The factor is for requests only: a fee a complaint names is still 价格."""
    intent, category = social("这学期的学费比上学期贵了一千，也没有任何说明。")
    assert intent is Intent.COMPLAINT
    assert category is Category.PRICE


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("餐厅的茶水和纸巾都要另外收费，点菜的时候一个字都没提。", Category.PRICE),
        ("出租车司机明明知道近路，偏要绕路，多走了十几公里。", Category.PRICE),
        ("保险交了五年想退保，只退了一千多。", Category.PRICE),
        ("笔记本送修快一个月了，到现在还没拿回来。", Category.AFTER_SALES),
        ("什么破服务，打了三次电话每次都被挂断。", Category.SERVICE_ATTITUDE),
    ],
)
def test_round6_category_words(text: str, category: Category) -> None:
    """Each noun or phrase family added in round 6 decides the category of a plain complaint."""
    assert social(text)[1] is category
