"""Anger and its look-alikes (issue #18, round 6): indignant questions asked of no one are
complaints, a greeting is not blame, a deposit kept whole is money taken, conscience questioned
is no praise."""

from __future__ import annotations

import pytest

from complaints.scoring import score_text
from streams.records import Assessment, Category, Emotion, Intent, Source


def social(text: str) -> Assessment:
    return score_text(text, Source.SOCIAL)


@pytest.mark.parametrize(
    "text",
    [
        "几十万的车说召回就召回，车主的损失谁来赔？",
        "儿童玩具里检出致癌物，厂家一句整改就完事了？",
        "天天加班还拖欠工资，你们还有没有王法了？",
    ],
)
def test_indignant_question_is_an_angry_complaint(text: str) -> None:
    """A rhetorical question (谁来赔？就完事了？) is no enquiry: negative, anger."""
    a = social(text)
    assert (a.intent, a.negative, a.emotion) == (Intent.COMPLAINT, True, Emotion.ANGER)


def test_greeting_is_not_blame() -> None:
    """你好 before a fault adds no second-person anger: the fault stays a calm complaint."""
    a = social("你好，蓝牙耳机左耳突然没声了")
    assert a.negative and a.intent is Intent.COMPLAINT
    assert a.emotion is Emotion.DISAPPOINTMENT
    blamed = social("你们的蓝牙耳机左耳突然没声了？")
    assert blamed.emotion is Emotion.ANGER  # the same fault said at someone is


def test_deposit_kept_whole_is_money_taken() -> None:
    """押金…一分不退 is the 钱被扣 grievance: anger about price."""
    a = social("押金两千块交了三年，退房的时候一分不退，理由是墙上有个钉子眼。")
    assert any(c.kind == "grievance" and c.label == "money_taken" for c in a.cues)
    assert (a.emotion, a.category) == (Emotion.ANGER, Category.PRICE)


def test_conscience_questioned_is_not_praise() -> None:
    """良心被狗吃了 is outrage, though 良心 alone is a positive word."""
    a = social("卖假药的人良心被狗吃了")
    assert a.intent is not Intent.PRAISE
    assert a.negative and a.emotion is Emotion.ANGER
