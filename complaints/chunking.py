"""Cuts a text into what gets scored: the customer's turns of a transcript, bounded in length,
in chunks that the polarity model reads one at a time.

Pure. A call transcript ("客户：… / 客服：…" lines) is scored on the customer's lines only —
the agent's apologies are not the customer's emotion. A text longer than `max_chars` keeps its
start and its end (where the complaint and the demand usually are), so one huge text cannot
stall the stream; chunks end at sentence ends and are at most `chunk_chars` long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

_SENTENCE = re.compile(r"[^。！!？?；;\n]*(?:[。！!？?；;\n]+|$)")


def customer_turns(
    text: str, customer_labels: Iterable[str], agent_labels: Iterable[str]
) -> tuple[str, bool]:
    """The customer's lines of a labelled transcript (labels removed), and whether it was one.

    A text without customer-labelled lines is returned whole.
    """
    if ":" not in text and "：" not in text:  # no line can carry a label
        return text, False
    line_label, customers = _labels(tuple(customer_labels), tuple(agent_labels))
    kept: list[str] = []
    labelled = False
    for line in text.split("\n"):
        m = line_label.match(line)
        if m is None:
            continue
        labelled = True
        if m.group(1).lower() in customers:
            kept.append(line[m.end() :])
    if not labelled or not kept:
        return text, False
    return "\n".join(kept), True


@cache
def _labels(
    customer_labels: tuple[str, ...], agent_labels: tuple[str, ...]
) -> tuple[re.Pattern[str], frozenset[str]]:
    """The pattern of a labelled line, and the customer's labels in lower case (built once)."""
    labels = "|".join(
        re.escape(x) for x in sorted({*customer_labels, *agent_labels}, key=len, reverse=True)
    )
    line_label = re.compile(rf"^\s*({labels})\s*[:：]\s*", re.IGNORECASE)
    return line_label, frozenset(x.lower() for x in customer_labels)


def bounded(text: str, max_chars: int) -> tuple[str, bool]:
    """`text`, or its first and last halves of `max_chars` joined by a newline; and whether cut."""
    if len(text) <= max_chars:
        return text, False
    half = max_chars // 2
    return text[:half] + "\n" + text[-(max_chars - half - 1) :], True


def chunks(text: str, chunk_chars: int) -> list[str]:
    """`text` in pieces of at most `chunk_chars`, cut at sentence ends where possible."""
    if len(text) <= chunk_chars:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE.findall(text):
        while len(sentence) > chunk_chars:  # one very long sentence: hard cuts
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:chunk_chars])
            sentence = sentence[chunk_chars:]
        if len(current) + len(sentence) > chunk_chars:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    return [c for c in out if c]
