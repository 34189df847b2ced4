"""Anger in posts and its look-alikes (issue #18, round 7): profanity's softened spellings and
sarcasm are anger, a challenge whose answer is given is a complaint, not an enquiry; longing said
to someone gone is sadness, 妈妈的 is no curse, and 居然 alone is surprise, not anger. The
sentences are written for these tests (none is in bench/understanding)."""

from __future__ import annotations

import pytest

from complaints.scoring import score_text
from streams.records import Assessment, Emotion, Intent, Source


def social(text: str) -> Assessment:
    return score_text(text, Source.SOCIAL)


@pytest.mark.parametrize(
    "text",
    [
        "麻蛋，新买的雨伞第一次用就断了一根骨",  # softened profanity (cues.yaml insults)
        "好棒棒哦，退个款要等一个月",  # sarcasm
        "我谢谢你全家，快递给我扔到小区门口了",
        "写个作业都能收到三个广告弹窗，有意思吗？",  # a challenge whose answer is given
    ],
)
def test_post_anger_is_anger(text: str) -> None:
    """Softened profanity, sarcasm and a rhetorical challenge are angry complaints."""
    a = social(text)
    assert (a.intent, a.negative, a.emotion) == (Intent.COMPLAINT, True, Emotion.ANGER)


def test_rhetorical_challenge_is_no_enquiry_but_a_genuine_question_is() -> None:
    """有意思吗 is content (a complaint); the same form asking for information stays an ask."""
    assert social("把别人的照片P成表情包到处发，好玩吗？").intent is Intent.COMPLAINT
    asked = social("周末的聚会有必要带礼物吗？")
    assert asked.intent is Intent.ENQUIRY and not asked.negative


def test_longing_said_to_someone_gone_is_sadness() -> None:
    """想起你 is longing: the second person does not make it blame."""
    a = social("搬家收拾出你送的杯子，又想起你了")
    assert a.negative and a.emotion is Emotion.DISAPPOINTMENT


def test_mother_is_no_curse() -> None:
    """妈妈的 contains 妈的 but is no insult."""
    a = social("妈妈的手越来越粗糙了")
    assert not any(c.kind == "insult" for c in a.cues)
    assert a.emotion is not Emotion.ANGER


def test_surprise_word_alone_is_not_anger() -> None:
    """居然 marks surprise; without other anger evidence it does not make anger."""
    a = social("我居然在机场碰到了小学同学")
    assert a.emotion is not Emotion.ANGER
    assert not any(c.kind == "emotion" and c.term == "居然" for c in a.cues)
