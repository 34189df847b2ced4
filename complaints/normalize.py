"""Turns any ``str`` into the text the scorer reads and the text people may see.

Pure. Order matters and is fixed: clean (lone surrogates, control and zero-width characters),
fold full-width letters, digits and number symbols to ASCII, mask personal data
(complaints.masking) — that is ``shown``, what dashboards and alerts may display — then map
traditional characters to simplified and lower-case Latin letters: ``text``, what lexicons and
the polarity model read. Masking comes before anything reads the text, so no cue, keyword or
log can carry a phone number, and 12315 inside a phone number is not a threat.

Chinese punctuation (，。！？) is kept full-width, as snownlp's model was trained on it, and
emoji and repeated punctuation are kept: they are cues.
"""

from __future__ import annotations

import re
import string
from typing import NamedTuple

from complaints.masking import mask_personal_data

# Full-width letters, digits and the symbols of numbers, e-mails and addresses -> ASCII; the
# ideographic space -> space. Sentence punctuation (！？，：；（）) stays as written.
_WIDTH = {
    cp: cp - 0xFEE0
    for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_WIDTH |= {ord(c): ord(c) - 0xFEE0 for c in "＃＄％＆＊＋－．／＝＠＿"}
_WIDTH |= {0x3000: " "}
# Control characters (but tab and newline) become spaces; zero-width ones and BOMs vanish.
_CONTROLS = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)], " "
)
_CONTROLS |= {0x0D: "\n", 0x2028: "\n", 0x2029: "\n"}
_ZERO_WIDTH = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
_CLEAN = str.maketrans(_CONTROLS | _ZERO_WIDTH | _WIDTH)
_SURROGATE = re.compile("[\ud800-\udfff]")
# Any character _CLEAN changes: most texts have none, and a search of one character class is
# ten times cheaper than translating every character through a dict.
_CLEAN_ANY = re.compile("[" + "".join(re.escape(chr(k)) for k in _CLEAN) + "]")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Normalized(NamedTuple):
    """A text ready to score, and what may be shown of it."""

    text: str  # masked, simplified, lower-case Latin: what the scorer reads
    shown: str  # masked, original script: what people may see (Assessment.masked_text)
    pii_found: tuple[str, ...]  # PiiKind values, in order of first appearance
    pii_count: int


def clean(text: str) -> str:
    """Text without lone surrogates (U+FFFD instead), control or zero-width characters, and
    with full-width letters, digits and number symbols as ASCII."""
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text.translate(_CLEAN) if _CLEAN_ANY.search(text) else text


def normalize(
    text: str,
    t2s: dict[int, str],
    lowers: bool = False,
    changes: re.Pattern[str] | None = None,
) -> Normalized:
    """`text` cleaned and masked (``shown``), then simplified and lower-cased (``text``).

    Args:
        t2s: traditional -> simplified, one character for one, as a ``str.translate`` table.
        lowers: `t2s` is `reading_table(t2s)`, which lower-cases ASCII letters too (one pass).
        changes: `table_chars(t2s)`: a text it finds nothing in is left as it is (no pass).
    """
    masked = mask_personal_data(clean(text))
    read = masked.text
    if changes is None or changes.search(read):
        read = read.translate(t2s)
    return Normalized(
        text=read if lowers else read.translate(_ASCII_LOWER),
        shown=masked.text,
        pii_found=tuple(kind.value for kind in masked.found),
        pii_count=masked.count,
    )


def reading_table(t2s: dict[int, str]) -> dict[int, str] | None:
    """One ``str.translate`` table for `t2s` then ASCII lower-casing, or None when `t2s` maps an
    ASCII capital or to one (then the two passes are not one)."""
    capitals = range(ord("A"), ord("Z") + 1)
    if any(k in capitals for k in t2s) or any(
        any("A" <= ch <= "Z" for ch in str(v)) for v in t2s.values() if v is not None
    ):
        return None
    return {**{k: chr(v) for k, v in _ASCII_LOWER.items()}, **t2s}


def table_chars(table: dict[int, str]) -> re.Pattern[str]:
    """A pattern matching any character that `table` (a ``str.translate`` table) changes."""
    return re.compile("[" + "".join(re.escape(chr(k)) for k in sorted(table)) + "]")
