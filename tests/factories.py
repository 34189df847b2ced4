"""Valid upstream events to start tests from; tests change one thing and look at the result."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.records import Source

_counter = itertools.count(1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def make_event(
    source: Source, /, *, at: datetime | None = None, **overrides: Any
) -> dict[str, Any]:
    """A valid event of `source` as a JSON-ready dict; `overrides` replace or add fields."""
    moment = at or now_utc()
    number = next(_counter)
    base: dict[str, Any] = {"event_id": f"t-{source.value}-{number}", "occurred_at": iso(moment)}
    if source is Source.CALL:
        base |= {
            "call_id": f"call-{number}",
            "customer_id": "cust-1",
            "text": "快递三天了还没到，你们到底管不管？",
        }
    elif source is Source.SOCIAL:
        base |= {
            "post_id": f"p{number}",
            "platform": "weibo",
            "author": "小王",
            "text": "新手机发热严重，客服敷衍",
        }
    elif source is Source.LOGISTICS:
        base |= {
            "order_id": f"SO{number}",
            "customer_id": "cust-1",
            "status": "delayed",
            "promised_at": iso(moment + timedelta(hours=4)),
            "estimated_at": iso(moment + timedelta(hours=30)),
            "region": "华南-广州",
            "carrier": "顺达快运",
        }
    else:
        base |= {"customer_id": "cust-1", "kind": "login"}
    base.update(overrides)
    return base


def to_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")
