"""Normalisation and chunking: what the scorer reads and what people may see of a text."""

from __future__ import annotations

import pytest

from complaints.chunking import bounded, chunks, customer_turns
from complaints.lexicon import default_lexicon
from complaints.normalize import clean, normalize

T2S = str.maketrans(default_lexicon().t2s.chars)
CUSTOMER = default_lexicon().cues.customer_labels
AGENT = default_lexicon().cues.agent_labels


class TestClean:
    @pytest.mark.parametrize(
        ("raw", "cleaned"),
        [
            ("１２３ＡＢＣａｂｃ", "123ABCabc"),  # full-width letters and digits
            ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "wang@example.com"),
            ("好！！？，", "好！！？，"),  # Chinese punctuation stays full-width
            ("a\u3000b", "a b"),  # ideographic space
            ("a\x00b\x1fc\x7fd", "a b c d"),  # control characters
            ("a\r\nb", "a\n\nb"),
            ("零\u200b宽\ufeff", "零宽"),  # zero-width characters vanish
            ("\ud800坏\udfff", "\ufffd坏\ufffd"),  # lone surrogates
            ("😡👍🙂", "😡👍🙂"),  # emoji are cues: kept
        ],
    )
    def test_clean(self, raw: str, cleaned: str) -> None:
        """Widths folded, control and zero-width characters gone, emoji and punctuation kept."""
        assert clean(raw) == cleaned


class TestNormalize:
    def test_traditional_to_simplified(self) -> None:
        """Seed 003 is traditional; the scorer reads it as simplified."""
        n = normalize("滿意度終值中的負面情緒修復策略：客戶投訴與推諉", T2S)
        assert n.text == "满意度终值中的负面情绪修复策略：客户投诉与推诿"
        assert n.shown == "滿意度終值中的負面情緒修復策略：客戶投訴與推諉"

    def test_simplified_text_is_left_alone(self) -> None:
        """Characters that are ordinary simplified ones (余, 著, 覆) are not rewritten."""
        text = "剩余的钱，著名的店，覆盖全国，哪吒"
        assert normalize(text, T2S).text == text

    def test_latin_is_lower_case_for_matching_only(self) -> None:
        n = normalize("APP 卡顿 TMD", T2S)
        assert n.text == "app 卡顿 tmd"
        assert n.shown == "APP 卡顿 TMD"

    def test_masked_before_anything_reads_it(self) -> None:
        """Both texts are masked; the kinds are reported as PiiKind values."""
        n = normalize("電話１３８１２３４５６７８，郵箱 a.b@example.com", T2S)
        assert "13812345678" not in n.text and "１３８１２３４５６７８" not in n.shown
        assert n.pii_found == ("mobile", "email")
        assert n.pii_count == 2

    def test_length_is_kept_by_script_mapping(self) -> None:
        """Traditional -> simplified is one character for one."""
        assert all(len(k) == len(v) == 1 for k, v in default_lexicon().t2s.chars.items())


class TestChunking:
    def test_customer_turns_of_a_transcript(self) -> None:
        text = "客服：您好，请问有什么可以帮您？\n客户：我的快递丢了！\n客服：非常抱歉。\n客户：尽快处理。"
        scored, transcript = customer_turns(text, CUSTOMER, AGENT)
        assert transcript
        assert scored == "我的快递丢了！\n尽快处理。"

    def test_unlabelled_text_is_whole(self) -> None:
        text = "客服态度太差了\n我要投诉"
        assert customer_turns(text, CUSTOMER, AGENT) == (text, False)

    def test_agent_only_transcript_is_whole(self) -> None:
        text = "客服：您好\n客服：请稍等"
        assert customer_turns(text, CUSTOMER, AGENT) == (text, False)

    def test_bounded_keeps_start_and_end(self) -> None:
        text = "开头" + "中" * 10_000 + "结尾"
        cut, was_cut = bounded(text, 100)
        assert was_cut and len(cut) == 100
        assert cut.startswith("开头") and cut.endswith("结尾")
        assert bounded("短", 100) == ("短", False)

    @pytest.mark.parametrize("size", [1, 60, 499, 500, 501, 3000])
    def test_chunks_are_bounded_and_complete(self, size: int) -> None:
        """Chunks are at most chunk_chars long and together are the whole text."""
        text = ("我等了很久。" * 1000)[:size] + "x" * (size // 3)
        parts = chunks(text, 500)
        assert all(0 < len(p) <= 500 for p in parts)
        assert "".join(parts) == text

    def test_chunks_end_at_sentence_ends(self) -> None:
        text = "一二三四五。" * 30
        parts = chunks(text, 50)
        assert all(p.endswith("。") for p in parts)
