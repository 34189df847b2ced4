"""Small text tools every format shares: masking, markup-safe text, durations, byte limits.

Pure. No I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from complaints.masking import mask_personal_data

__all__ = [
    "BEIJING",
    "beijing_time",
    "clip",
    "fit_utf8",
    "human_duration",
    "markup_safe",
    "mask",
    "mask_customer",
]

BEIJING = ZoneInfo("Asia/Shanghai")

# Characters the robots' markdown dialects (WeCom, DingTalk, Feishu lark_md) give a meaning to,
# mapped to their full-width twins: customer text must not turn into a link, a heading, an
# <at id=all> that pages the whole group, or a <font> that hides the rest of the message.
_MARKUP = str.maketrans(
    {
        "<": "＜",
        ">": "＞",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "#": "＃",
        "`": "｀",
        "~": "～",
        "|": "｜",
        "\\": "＼",
        "\r": " ",
        "\n": " ",
        "\t": " ",
    }
)


def mask(text: str | None) -> str:
    """Second line of defence: personal data masked even though the engine already did it."""
    return mask_personal_data(text).text if text else ""


def markup_safe(text: str | None) -> str:
    """`text` masked and made inert for markdown: no link, heading, tag or line break survives."""
    return mask(text).translate(_MARKUP)


def mask_customer(customer_id: str | None) -> str | None:
    """A customer id as a chat group may see it: first and last character, "c***1"."""
    if not customer_id:
        return None
    masked = mask(customer_id)
    if masked != customer_id:  # an id that *is* a phone or card number stays masked as such
        return masked
    return (
        f"{customer_id[0]}***{customer_id[-1]}" if len(customer_id) > 2 else f"{customer_id[0]}***"
    )


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with "…" when something was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def fit_utf8(text: str, max_bytes: int, *, ellipsis: str = "…") -> str:
    """The longest prefix of `text` whose UTF-8 form fits `max_bytes`, never cut mid-character."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(ellipsis.encode("utf-8"))
    if budget <= 0:
        return ""
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + ellipsis


def human_duration(span: timedelta) -> str:
    """A duration as operators say it: "2天3小时", "1小时25分", "35分", "不到1分"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分" if mins else f"{hours}小时"
    return f"{mins}分" if mins else "不到1分"


def beijing_time(moment: datetime) -> str:
    """A moment in Beijing time, to the minute: "11-23 12:00"."""
    return moment.astimezone(BEIJING).strftime("%m-%d %H:%M")
