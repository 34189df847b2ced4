"""Masks personal data in customer text before any alert, log line, API response or dashboard.

Pure: no I/O, logging or clock. Rules, and where their numbers come from:

- **E-mail** (``EMAIL``): ASCII ``local@domain.tld``, a dot-atom subset of RFC 5322. Masked as the
  first character of the local part + ``***`` + ``@domain``: ``w***@example.com``; numbers in
  the domain are masked by the rules below.
- **Resident ID** (``ID_NUMBER``): GB 11643-1999 公民身份号码, 18 characters (6-digit address code,
  8-digit birth date YYYYMMDD, 3-digit sequence, check character), optionally grouped 6-8-4 by a
  space or dash. First digit 1-8 (province codes of GB/T 2260) or 9 (the 2023 外国人永久居留身份证
  uses the same layout and check); year 1900-2099, a real calendar date; the check character is
  ISO 7064 MOD 11-2 (``X`` for 10). A failing number is not an ID. Masked to first and last
  character only, ``1****************X``: region and birth date must not leak. 15-digit legacy
  IDs (no check character, issued before 1999) are out of scope: too weak to tell from order
  numbers.
- **Bank card** (``BANK_CARD``): 16-19 digits (China UnionPay issues 16-19), contiguous or grouped
  in fours by spaces or dashes, passing the ISO/IEC 7812-1 Luhn check, not already an ID. Masked
  to first 4 + last 4: ``6222***********3445``. A Luhn-valid 16-19 digit order number is masked
  too: 1 in 10 pass by chance, and leaking a card is worse than hiding an order number.
- **Mobile** (``MOBILE``): 11 digits ``1[3-9]x xxxx xxxx`` (MIIT numbering plan, 电信网编号计划
  2017: segments 13x-19x), optionally with ``+86`` / ``86`` / ``0086`` and a space or dash, and
  with one space, dot, dash or underscore between any two digits (``138.1234.5678``,
  ``1 3 8 1 2 3 4 5 6 7 8``: written so to slip past a filter). IDs and cards accept the same
  separators between their groups. Masked to first 3 + last 4,
  ``138****8000``; the country prefix stays as written.
- **Landline** (``LANDLINE``): area code ``010``, ``02x`` or ``0[3-9]xx`` (same plan), then a
  space, dash or parentheses, then a 7-8 digit local number starting 2-9 (optionally split 3/4+4).
  Masked to area code + last 2 digits, ``010-******34``; an extension (``-123``, ``转123``) stays.
  A separator after the area code is required: a bare 11-12 digit run starting with 0 is as
  likely an order or waybill number, so it is left alone; dates, times and prices never match.

Boundaries: an ASCII letter or digit directly before or after a mobile, landline or card match
makes it part of an identifier (``SO13800138000`` is an order number); Chinese characters and
punctuation are boundaries (``电话13800138000`` is masked). An ID, whose date and check make a
chance match rare, needs only no digit around it.

Overlaps go by precedence e-mail > ID > card > mobile > landline: a span overlapping an earlier
kind's span is left to that kind. Matching runs on a copy with full-width forms (１３８,
（）, ＠) and Unicode dashes folded to ASCII, one character for one, so spans index the
original; kept digits are the original characters. Masking repeats until nothing matches, which
makes it idempotent (a masked span can expose a neighbour that was glued to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Masked", "PiiKind", "mask_personal_data"]


class PiiKind(StrEnum):
    """A kind of personal data the masker recognises."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_NUMBER = "id_number"
    BANK_CARD = "bank_card"
    EMAIL = "email"


@dataclass(frozen=True)
class Masked:
    """A masked text and what was hidden in it."""

    text: str
    # In order of first appearance, each once.
    found: tuple[PiiKind, ...]
    count: int  # masked spans


# Matching runs on a folded copy: full-width digits, letters and the separators and e-mail
# characters the patterns use, mapped one character for one so positions carry over.
_WIDE = (
    "０１２３４５６７８９＋－（）＠．＿％"
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"
)
_FOLD = (
    {c: chr(ord(c) - 0xFEE0) for c in _WIDE}
    | dict.fromkeys("\u3000\u00a0", " ")  # ideographic and no-break space
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")  # dashes, minus
)
_FOLDABLE = re.compile("[" + "".join(_FOLD) + "]")
_MAYBE_PII = re.compile("[0-9@\uff10-\uff19\uff20]")
# Every match lies inside one run of these characters (in either width), and every pattern's
# lookaround treats any other character as a boundary; so matching only the runs that hold a
# digit or '@' gives the same matches as the whole text, and skips the Chinese between them.
_RUN_CHARS = frozenset(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+-().@_% "
) | frozenset(_FOLD)
_RUN = re.compile("[" + re.escape("".join(sorted(_RUN_CHARS))) + "]+")
_RUN_GAP = 8  # runs closer than this are matched as one chunk: fewer calls, same matches
# Characters kept in a masked form: digits and the ID check letter, in either width.
_KEPT = re.compile("[0-9Xx\uff10-\uff19\uff38\uff58]")

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9_-])"
)
_ID = re.compile(r"(?<![0-9])[1-9][0-9]{5}[ .\-_]?[0-9]{8}[ .\-_]?[0-9]{3}[0-9Xx](?![0-9])")
_CARD = re.compile(
    _NOT_ALNUM_BEFORE + r"(?P<head>[0-9]{4}(?:[ .\-_]?[0-9]{4}){3})"
    r"(?:(?P<sep>[ .\-_]?)[0-9]{1,3})?" + _NOT_ALNUM_AFTER
)
# Any one separator may stand between any two digits: people (and those who want to slip a
# number past a filter) write 138.1234.5678, 138_1234_5678 and 1 3 8 1 2 3 4 5 6 7 8.
_MOBILE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:(?:\+|00)?86[ -]?)?(?P<number>1[ .\-_]?[3-9](?:[ .\-_]?[0-9]){9})"
    + _NOT_ALNUM_AFTER
)
_LANDLINE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:\((?P<paren>0(?:10|2[0-9]|[3-9][0-9]{2}))\)[ -]?|(?P<bare>0(?:10|2[0-9]|[3-9][0-9]{2}))[ -])"
    r"(?P<local>[2-9][0-9]{6,7}|[2-9][0-9]{2,3}[ -][0-9]{4})" + _NOT_ALNUM_AFTER
)

# GB 11643-1999 / ISO 7064 MOD 11-2: weight of position i is 2**(17 - i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")

_Span = tuple[int, int, PiiKind, str]  # start, end, kind, replacement


def _is_valid_id(chars: str) -> bool:
    """GB 11643-1999: a plausible birth date and the MOD 11-2 check character."""
    year, month, day = int(chars[6:10]), int(chars[10:12]), int(chars[12:14])
    if not (1900 <= year <= 2099 and 1 <= month <= 12):
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= (29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1]):
        return False
    total = sum(int(c) * w for c, w in zip(chars[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == chars[17].upper()


def _passes_luhn(digits: str) -> bool:
    """ISO/IEC 7812-1 check: doubling every second digit from the right sums to 0 mod 10."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)  # a doubled digit's digit sum
    return (sum((digits[-1::-2] + doubled).encode()) - 48 * len(digits)) % 10 == 0


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD[m.group()]


def _keep(kept: list[str], head: int, tail: int) -> str:
    """`kept` with all but the first `head` and last `tail` characters starred."""
    return "".join(kept[:head]) + "*" * (len(kept) - head - tail) + "".join(kept[-tail:])


def _chunks(text: str) -> list[tuple[int, int]]:
    """Start and end of each stretch of `text` that may hold personal data (see `_RUN`)."""
    chunks: list[tuple[int, int]] = []
    hit = _MAYBE_PII.search(text)
    while hit:
        start = hit.start()
        while start and text[start - 1] in _RUN_CHARS:
            start -= 1
        run = _RUN.match(text, hit.start())  # never None: every hit is a run character
        end = run.end() if run else hit.end()
        if chunks and start - chunks[-1][1] < _RUN_GAP:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
        hit = _MAYBE_PII.search(text, end)
    return chunks


def _find_spans(original: str, folded: str) -> list[_Span]:
    """Candidate spans of every kind in one chunk, in precedence order (e-mail first)."""
    spans: list[_Span] = []
    if "@" in folded:
        for m in _EMAIL.finditer(folded):
            at = folded.index("@", m.start())
            # The domain stays, but a number spelled as a label ("@13800138000.cn") must not.
            domain = original[at + 1 : m.end()]
            if _MAYBE_PII.search(domain):
                domain = mask_personal_data(domain).text
            masked = original[m.start()] + "***" + original[at] + domain
            spans.append((m.start(), m.end(), PiiKind.EMAIL, masked))
    for m in _ID.finditer(folded):
        if _is_valid_id("".join(_KEPT.findall(m.group()))):
            kept = _KEPT.findall(original, m.start(), m.end())
            spans.append((m.start(), m.end(), PiiKind.ID_NUMBER, _keep(kept, 1, 1)))
    for m in _CARD.finditer(folded):
        start, end = m.span()
        digits = "".join(_KEPT.findall(m.group()))
        valid = _passes_luhn(digits)
        if not valid and m.group("sep"):
            # A grouped card followed by a short unrelated number ("… 2233 100元").
            end, valid = m.end("head"), _passes_luhn(digits[:16])
        if valid:
            kept = _KEPT.findall(original, start, end)
            spans.append((start, end, PiiKind.BANK_CARD, _keep(kept, 4, 4)))
    for m in _MOBILE.finditer(folded):
        start, end = m.span("number")
        kept = _KEPT.findall(original, start, end)
        spans.append((start, end, PiiKind.MOBILE, _keep(kept, 3, 4)))
    for m in _LANDLINE.finditer(folded):
        area = "paren" if m.group("paren") else "bare"
        kept = _KEPT.findall(original, *m.span("local"))
        masked = original[m.start(area) : m.end(area)] + "-" + _keep(kept, 0, 2)
        spans.append((m.start(), m.end(), PiiKind.LANDLINE, masked))
    return spans


def _mask_chunk(chunk: str) -> tuple[str, list[PiiKind]]:
    """One chunk masked until nothing matches, and the kind of each masked span.

    Repeating makes masking idempotent: a masked span can expose a neighbour that was glued to
    it ("138-0013-0755 2345678"). Each round removes digits or an unmasked '@', so it ends.
    """
    kinds: list[PiiKind] = []
    for _ in range(len(chunk) + 1):
        taken = bytearray(len(chunk))
        chosen: list[_Span] = []
        for span in _find_spans(chunk, _FOLDABLE.sub(_fold_char, chunk)):
            start, end = span[0], span[1]
            if not any(taken[start:end]):  # a higher-precedence kind already has this text
                taken[start:end] = b"\x01" * (end - start)
                chosen.append(span)
        if not chosen:
            break
        parts: list[str] = []
        last = 0
        isolated = True
        for start, end, kind, replacement in sorted(chosen):
            parts += (chunk[last:start], replacement)
            kinds.append(kind)
            last = end
            isolated = isolated and _is_boundary(chunk, start - 1) and _is_boundary(chunk, end)
        parts.append(chunk[last:])
        chunk = "".join(parts)
        if isolated:
            # Every span stood apart from other run characters, so nothing was glued to it and
            # no masked form matches on its own: another round would find nothing.
            break
    return chunk, kinds


def _is_boundary(chunk: str, index: int) -> bool:
    return not 0 <= index < len(chunk) or chunk[index] not in _RUN_CHARS


def mask_personal_data(text: str) -> Masked:
    """`text` with mobiles, landlines, ID and card numbers and e-mails masked; see the module doc."""
    parts: list[str] = []
    kinds: list[PiiKind] = []
    last = 0
    for start, end in _chunks(text):
        masked, chunk_kinds = _mask_chunk(text[start:end])
        if chunk_kinds:
            parts += (text[last:start], masked)
            kinds += chunk_kinds
            last = end
    if not kinds:
        return Masked(text, (), 0)
    parts.append(text[last:])
    return Masked("".join(parts), tuple(dict.fromkeys(kinds)), len(kinds))
