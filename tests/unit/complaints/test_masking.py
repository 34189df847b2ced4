"""complaints.masking hides personal data in exact forms and leaves look-alikes alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.masking import Masked, PiiKind, mask_personal_data
from tests.properties import PROPERTY_EXAMPLES

# --- independent helpers: the spec written again, not imported from the module -----------------


def _resident_id(first17: str) -> str:
    """An 18-character ID with its GB 11643-1999 (ISO 7064 MOD 11-2) check character."""
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def _luhn_ok(digits: str) -> bool:
    if not (digits.isascii() and digits.isdigit()):
        return False
    doubled = [int(c) * (2 if i % 2 else 1) for i, c in enumerate(reversed(digits))]
    return sum(d // 10 + d % 10 for d in doubled) % 10 == 0


def _with_luhn(body: str) -> str:
    """`body` plus the digit that makes it pass the Luhn check."""
    return next(body + d for d in "0123456789" if _luhn_ok(body + d))


def _id_ok(chars: str) -> bool:
    if chars[0] == "0":  # address codes start 1-8 (GB/T 2260), 9 for foreigners' cards
        return False
    try:
        dt.date(int(chars[6:10]), int(chars[10:12]), int(chars[12:14]))
    except ValueError:
        return False
    return 1900 <= int(chars[6:10]) <= 2099 and _resident_id(chars[:17]) == chars.upper()


def _fullwidth(text: str) -> str:
    return text.translate({cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)})


# Fictitious people: 北京东城 (110101), born 1990-03-07; the sequence picks the check character.
ID_DIGIT = next(
    i for n in range(1000) if not (i := _resident_id(f"11010119900307{n:03d}")).endswith("X")
)
ID_X = next(i for n in range(1000) if (i := _resident_id(f"11010119900307{n:03d}")).endswith("X"))
ID_LUHN = next(i for n in range(1000) if _luhn_ok(i := _resident_id(f"11010119900307{n:03d}")))
# 18 digits with a wrong check digit that pass Luhn: not an ID, so a card.
NOT_ID_BUT_CARD = next(
    c for d in "0123456789" if _luhn_ok(c := ID_DIGIT[:17] + d) and c != ID_DIGIT
)
NOT_ID_NOT_CARD = next(
    c for d in "0123456789" if not _luhn_ok(c := ID_DIGIT[:17] + d) and c != ID_DIGIT
)
# Right check character but an impossible birth date or region; none passes Luhn either.
BAD_IDS = [
    _resident_id("11010119900230123"),  # 30 February
    _resident_id("11010118990307123"),  # born 1899
    _resident_id("11010121000307123"),  # born 2100
    _resident_id("01010119900307124"),  # no region starts with 0
]
CARD_19 = "6222020200112243445"
CARD_16 = "6228480012345671"


def test_fixtures_are_what_they_claim() -> None:
    """The helper-built numbers really are valid or invalid as the tables below assume."""
    assert _id_ok(ID_DIGIT) and _id_ok(ID_X) and _id_ok(ID_LUHN) and _id_ok("11010519491231002X")
    assert not _id_ok(NOT_ID_BUT_CARD) and not _id_ok(NOT_ID_NOT_CARD)
    assert not any(_id_ok(i) or _luhn_ok(i) for i in BAD_IDS)
    assert _luhn_ok(CARD_19) and _luhn_ok(CARD_16) and _luhn_ok(ID_LUHN)
    assert not _luhn_ok("6222020200112233445") and not _luhn_ok("6228480012345671100")


def _masks(cases: list[tuple[str, str]], kind: PiiKind) -> list[object]:
    return [pytest.param(text, masked, kind, id=text) for text, masked in cases]


MASKED = [
    *_masks(
        [
            ("13800138000", "138****8000"),
            ("电话13800138000", "电话138****8000"),
            ("请拨19912345678。", "请拨199****5678。"),
            ("手机：14712345678，谢谢", "手机：147****5678，谢谢"),
            ("+8613800138000", "+86138****8000"),
            ("+86 138-0013-8000", "+86 138****8000"),
            ("0086-13800138000", "0086-138****8000"),
            ("86 13800138000", "86 138****8000"),
            ("138 0013 8000", "138****8000"),
            ("138-0013-8000", "138****8000"),
            ("１３８００１３８０００", "１３８****８０００"),
            ("＋８６　１３８－００１３－８０００", "＋８６　１３８****８０００"),
            ("(13800138000)", "(138****8000)"),
            # Separators meant to slip past a filter (issue #15).
            ("138.1234.5678", "138****5678"),
            ("电话1 3 8 1 2 3 4 5 6 7 8回电", "电话138****5678回电"),
            ("138_1234_5678", "138****5678"),
            ("１３８．１２３４．５６７８", "１３８****５６７８"),
            ("13-81-23-45-67-8", "138****5678"),
        ],
        PiiKind.MOBILE,
    ),
    *_masks(
        [
            ("010-65521234", "010-******34"),
            ("(010)65521234", "010-******34"),
            ("（010）6552 1234", "010-******34"),
            ("0755 2345678", "0755-*****78"),
            ("客服电话0571-87654321。", "客服电话0571-******21。"),
            ("021-6552-1234转123", "021-******34转123"),
            ("010-65521234-123", "010-******34-123"),
            ("０１０－６５５２１２３４", "０１０-******３４"),
        ],
        PiiKind.LANDLINE,
    ),
    *_masks(
        [
            (ID_DIGIT, ID_DIGIT[0] + "*" * 16 + ID_DIGIT[-1]),
            (f"身份证{ID_X}。", "身份证1****************X。"),
            (ID_X.lower(), "1****************x"),
            (f"{ID_X[:6]} {ID_X[6:14]} {ID_X[14:]}", "1****************X"),
            ("11010519491231002X", "1****************X"),
            (_fullwidth(ID_X), "１****************Ｘ"),
            (ID_LUHN, ID_LUHN[0] + "*" * 16 + ID_LUHN[-1]),
        ],
        PiiKind.ID_NUMBER,
    ),
    *_masks(
        [
            (CARD_19, "6222***********3445"),
            ("6222 0202 0011 2243 445", "6222***********3445"),
            ("6228-4800-1234-5671", "6228********5671"),
            ("卡号6228480012345671，", "卡号6228********5671，"),
            ("4111 1111 1111 1111", "4111********1111"),
            ("6228 4800 1234 5671 100元", "6228********5671 100元"),
            (NOT_ID_BUT_CARD, NOT_ID_BUT_CARD[:4] + "*" * 10 + NOT_ID_BUT_CARD[-4:]),
        ],
        PiiKind.BANK_CARD,
    ),
    *_masks(
        [
            ("wang.xiaoming@example.com", "w***@example.com"),
            ("《wang@example.com》", "《w***@example.com》"),
            ("（联系：li_si+kesu@mail.example.com.cn）", "（联系：l***@mail.example.com.cn）"),
            ("邮箱wang@example.com谢谢", "邮箱w***@example.com谢谢"),
            ("13800138000@qq.com", "1***@qq.com"),
            ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｗ***＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            ("a@13800138000.cn", "a***@138****8000.cn"),
        ],
        PiiKind.EMAIL,
    ),
]


@pytest.mark.parametrize(("text", "masked", "kind"), MASKED)
def test_each_kind_has_its_exact_masked_form(text: str, masked: str, kind: PiiKind) -> None:
    """Each recognised form is replaced by its documented masked form and reported once."""
    assert mask_personal_data(text) == Masked(masked, (kind,), 1)


@pytest.mark.parametrize(
    "text",
    [
        # Order numbers and identifiers that contain a phone-shaped run.
        "SO13800138000",
        "订单SO2026010413800138000已发货",
        "202601041380013800099",
        "ＳＯ１３８００１３８０００",
        "13800138000abc",
        "12800138000",  # 12x is not a mobile segment
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        # Dates, times, prices and bare runs are not landlines.
        "2026-01-05",
        "2026-01-05 09:30",
        "营业时间09:30-18:00，运费0.99元",
        "01065521234",  # bare 11 digits starting with 0: ambiguous, left alone
        "075523456789",
        "012-3456789",  # 01x other than 010 is no area code
        "010-1234567",  # local numbers do not start with 1
        "2026/01/05 第010期",
        # 18 digits that are neither a valid ID nor Luhn-valid.
        NOT_ID_NOT_CARD,
        *BAD_IDS,
        "6222020200112233445",  # fails Luhn
        "SO4111111111111111",
        "4111111111111111X",
        # Not e-mails.
        "@kesu官方 回复",
        "a@b",
        "user@localhost",
        # Ordinary numbers.
        "kesu.raw.call/3/120045 took 12 ms",
        "等了2个小时，第3次投诉，退款99.50元",
        # Dotted numbers that are not phones.
        "版本 1.3.8.2 发布于 2026.11.23",
        "退款 13.50 元",
    ],
)
def test_look_alikes_stay_unchanged(text: str) -> None:
    """Numbers that only look like personal data are kept byte for byte."""
    assert mask_personal_data(text) == Masked(text, (), 0)


class TestRules:
    def test_id_glued_to_letters_is_still_masked(self) -> None:
        """A date and a check character make an ID strong enough to mask even next to letters."""
        assert mask_personal_data(f"ID{ID_X}").text == "ID1****************X"

    def test_id_beats_card(self) -> None:
        """An 18-digit number that is a valid ID and also passes Luhn is masked as an ID."""
        assert mask_personal_data(ID_LUHN).found == (PiiKind.ID_NUMBER,)

    def test_card_beats_mobile(self) -> None:
        """A card whose digits contain a mobile-shaped run is masked as one card."""
        card = _with_luhn("622202021380013800")
        text = f"{card[:4]} {card[4:8]} {card[8:]}"
        assert mask_personal_data(text) == Masked(
            card[:4] + "*" * 11 + card[-4:], (PiiKind.BANK_CARD,), 1
        )

    def test_mobile_beats_landline(self) -> None:
        """Where a mobile and a landline reading overlap, the mobile wins."""
        assert mask_personal_data("135 0755 2345 6789") == Masked(
            "135****2345 6789", (PiiKind.MOBILE,), 1
        )

    def test_number_exposed_by_a_mask_is_masked_too(self) -> None:
        """A landline glued to a mobile is masked once the mobile is, so one call is final."""
        result = mask_personal_data("138-0013-0755 2345678")
        assert result == Masked("138****0755-*****78", (PiiKind.MOBILE, PiiKind.LANDLINE), 2)
        assert mask_personal_data(result.text) == Masked(result.text, (), 0)

    def test_several_kinds_in_one_text(self) -> None:
        """Every item is masked, kinds listed once each in order of first appearance."""
        text = (
            f"王先生（手机138 0013 8000，备用13912345678）身份证{ID_X}，"
            f"卡号6222 0202 0011 2243 445，邮箱《wang@example.com》，座机(010)65521234。"
        )
        assert mask_personal_data(text) == Masked(
            "王先生（手机138****8000，备用139****5678）身份证1****************X，"
            "卡号6222***********3445，邮箱《w***@example.com》，座机010-******34。",
            (
                PiiKind.MOBILE,
                PiiKind.ID_NUMBER,
                PiiKind.BANK_CARD,
                PiiKind.EMAIL,
                PiiKind.LANDLINE,
            ),
            6,
        )

    @pytest.mark.parametrize(
        "text",
        ["", "\ud800", "\udfff13800138000\ud800", "\x00\x1b[31m\x7f", "😀" * 50, "\u202e\ufeff@"],
    )
    def test_odd_strings_do_not_raise(self, text: str) -> None:
        """Surrogates, control characters and emoji pass through; only PII changes."""
        result = mask_personal_data(text)
        assert result.text == text.replace("13800138000", "138****8000")


# --- properties ----------------------------------------------------------------------------------

_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_MOBILE_RUN = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
_ID_RUN = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_CARD_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{16,19}(?![0-9A-Za-z])")


def _pii_runs(text: str) -> list[str]:
    """Contiguous mobiles, valid IDs and Luhn-valid card numbers in `text` (full width folded)."""
    folded = text.translate(_FOLD)
    return (
        _MOBILE_RUN.findall(folded)
        + [m for m in _ID_RUN.findall(folded) if _id_ok(m)]
        + [m for m in _CARD_RUN.findall(folded) if _luhn_ok(m)]
    )


_DIGITS = "0123456789"
_MOBILES = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(st.sampled_from(_DIGITS), min_size=9, max_size=9),
)
_IDS = st.builds(
    lambda region, born, seq: _resident_id(f"{region}{born:%Y%m%d}{seq}"),
    st.text(st.sampled_from(_DIGITS), min_size=5, max_size=5).map(lambda s: "1" + s),
    st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
    st.text(st.sampled_from(_DIGITS), min_size=3, max_size=3),
)
_CARDS = st.text(st.sampled_from(_DIGITS), min_size=15, max_size=18).map(_with_luhn)
_LABEL = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=8)
_EMAILS = st.builds(lambda a, b, c: f"{a}@{b}.{c}", _LABEL, _LABEL, st.sampled_from(["com", "cn"]))
_PII = st.one_of(_MOBILES, _IDS, _CARDS, _EMAILS).flatmap(
    lambda s: st.sampled_from([s, _fullwidth(s)])
)
_NOISE = st.text(
    st.sampled_from("的了是我你电话号码卡邮箱，。！？《》（）：、 "), min_size=1, max_size=6
)

ANY_TEXT = st.text(st.characters())  # any str, lone surrogates included
# Personal data glued to digits, separators, prefixes and letters: where the boundary rules,
# overlaps and re-masking are decided.
GLUED = st.lists(
    st.one_of(
        _PII,
        st.text(st.sampled_from(_DIGITS), min_size=1, max_size=5),
        st.sampled_from(["-", " ", "+86", "0086 ", "(010)", "0755-", "SO", "x", "@", ".cn", "*"]),
        st.sampled_from(["电话", "，", "（", "）", "＠", "１３９", "\ud800"]),
    ),
    max_size=8,
).map("".join)
TEXTS = st.one_of(ANY_TEXT, GLUED)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(TEXTS)
def test_never_raises_and_is_idempotent(text: str) -> None:
    """Any str masks without error, and masking a masked text changes nothing."""
    once = mask_personal_data(text)
    assert mask_personal_data(once.text) == Masked(once.text, (), 0)
    assert once.count >= len(once.found)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(TEXTS)
def test_output_holds_no_mobile_id_or_card(text: str) -> None:
    """No mobile, valid ID or Luhn-valid card run survives masking."""
    assert _pii_runs(mask_personal_data(text).text) == []


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(st.text(st.characters(exclude_characters="0123456789０１２３４５６７８９@＠")))
def test_text_without_digits_or_at_is_unchanged(text: str) -> None:
    """Without a digit or an '@' nothing can be personal data, so the text is returned as is."""
    assert mask_personal_data(text) == Masked(text, (), 0)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(st.lists(st.tuples(_NOISE, _PII), min_size=1, max_size=5), _NOISE)
def test_inserted_personal_data_disappears(pieces: list[tuple[str, str]], tail: str) -> None:
    """Mobiles, IDs, cards and e-mails set in Chinese text never appear in the masked output."""
    text = "".join(noise + pii for noise, pii in pieces) + tail
    masked = mask_personal_data(text)
    for _, pii in pieces:
        assert pii not in masked.text
    assert masked.count == len(pieces)
