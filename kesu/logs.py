"""Logging set-up for every kesu process, with a filter that masks secrets and personal data.

Log calls never include payload text by design; the filter is the second line of defence
for what slips through (an exception message quoting an input, a URL with a password).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "<id-number>"),
    (re.compile(r"(?<!\d)\d{15,19}(?!\d)"), "<card-number>"),
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), "<phone>"),
    (re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)\S+"), r"\1\2***"),
)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with personal data and known secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, self._secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with e-mails, ID/card/phone numbers and the given secret values masked."""
    for secret in secrets:
        text = text.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def configure(level: str = "info", secrets: Iterable[str] = ()) -> None:
    """Plain, timestamped logs on stderr, redacted, for a kesu process."""
    root = logging.getLogger()
    root.setLevel(level.upper() if level != "warn" else "WARNING")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root.handlers[:] = [handler]


def install_filter(secrets: Iterable[str] = ()) -> None:
    """Add the redacting filter to every handler already installed (e.g. by Faust's worker)."""
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
