"""Logging set-up for every kesu process, with a filter that masks secrets and personal data.

Log calls never include payload text by design; the filter is the second line of defence
for what slips through (an exception message quoting an input, a URL with a password).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from complaints.masking import mask_personal_data

_SECRET_SETTING = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)\S+")
# The masker is strict (an 18-digit number with a wrong check is no ID); logs are not: any run of
# 15+ digits (IDs with a typo, 15-digit legacy IDs, cards failing Luhn) is hidden too.
_LONG_DIGIT_RUN = re.compile(r"(?<![0-9\uff10-\uff19.])[0-9\uff10-\uff19]{15,}[XxＸｘ]?")


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with personal data and known secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, self._secrets)
        if masked != message:
            record.msg, record.args = masked, ()  # () not None: formatters iterate args
        return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secret values, secret settings and personal data masked."""
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _SECRET_SETTING.sub(r"\1\2***", text)
    text = mask_personal_data(text).text
    return _LONG_DIGIT_RUN.sub(_star_run, text)


def _star_run(match: re.Match[str]) -> str:
    run = match.group()
    return run[0] + "*" * (len(run) - 2) + run[-1]


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
