"""Personal data typed into identifier fields: replaced by a stable pseudonym before any stage
downstream of validation sees it.

Pure. Upstreams put phone numbers where ids belong (a customer id that is a mobile, a social
author whose handle is one, a region or product typed as a phone): those fields become case
keys, surge keys and alert fields, and reach people in alerts, cards and seven topics. Each
such value is replaced by its masked form (`x` for hidden characters, as ids allow no `*`) plus
a keyed digest: readable ("138xxxx5678#…"), the same for the same value everywhere (so a
customer's calls, posts, orders and activity still join), different for different values
(two phones that share a prefix and suffix stay two customers), and not reversible without the
key (a plain hash of a phone number is found by trying all of them).
"""

from __future__ import annotations

import hashlib
import hmac

from complaints.masking import mask_personal_data
from streams.records import (
    CallUtterance,
    CustomerActivity,
    LogisticsChange,
    SocialPost,
    UpstreamEvent,
)

#: Identifier fields per record type (ids and short names that become keys or labels).
_IDENTIFIERS: dict[type[UpstreamEvent], tuple[str, ...]] = {
    CallUtterance: ("event_id", "call_id", "customer_id", "agent_id", "order_id"),
    SocialPost: (
        "event_id",
        "post_id",
        "author",
        "product",
        "sku",
        "batch",
        "region",
        "customer_id",
        "order_id",
    ),
    LogisticsChange: ("event_id", "order_id", "customer_id", "region", "carrier", "sku", "batch"),
    CustomerActivity: ("event_id", "customer_id", "feature"),
}
#: Free text besides the scored text, masked as text (it is no key).
_NOTES: dict[type[UpstreamEvent], tuple[str, ...]] = {
    SocialPost: ("url",),
    LogisticsChange: ("note",),
}
_DIGEST_CHARS = 10


def pseudonym(value: str, key: bytes, *, max_length: int) -> str:
    """`value` unchanged when it holds no personal data, else masked + '#' + a keyed digest."""
    masked = mask_personal_data(value)
    if not masked.count:
        return value
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:_DIGEST_CHARS]
    readable = masked.text.replace("*", "x")
    return readable[: max_length - _DIGEST_CHARS - 1] + "#" + digest


def without_personal_identifiers(record: UpstreamEvent, key: bytes) -> UpstreamEvent:
    """`record` with personal data in its identifier fields pseudonymised and in its notes masked."""
    kind = type(record)
    changes: dict[str, str] = {}
    for name in _IDENTIFIERS.get(kind, ()):
        value = getattr(record, name)
        if isinstance(value, str):
            limit = _max_length(kind, name)
            changed = pseudonym(value, key, max_length=limit)
            if changed != value:
                changes[name] = changed
    for name in _NOTES.get(kind, ()):
        value = getattr(record, name)
        if isinstance(value, str):
            masked = mask_personal_data(value)
            if masked.count:
                changes[name] = masked.text
    return record.model_copy(update=changes) if changes else record


def _max_length(kind: type[UpstreamEvent], name: str) -> int:
    """The field's length limit: 128 for ids (records.Identifier), 64 for short names."""
    return 128 if name.endswith("_id") or name in ("sku", "batch") else 64
