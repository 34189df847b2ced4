"""JSON Schemas of the records, generated for upstream teams and committed under streams/schemas/.

`kesu schemas` rewrites them; a test fails when the committed files drift from the records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from streams.records import RECORD_FOR_SOURCE, DeadLetter, Source

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_BASE_ID = "https://kesu.example/schemas/"

#: One valid example per upstream record (checked by the tests), shown to upstream teams.
EXAMPLES: dict[Source, dict[str, Any]] = {
    Source.CALL: {
        "event_id": "cc-20260105-000123-07",
        "occurred_at": "2026-01-05T09:12:30+08:00",
        "call_id": "cc-20260105-000123",
        "customer_id": "cust-88231",
        "agent_id": "agent-017",
        "speaker": "customer",
        "text": "我已经第三次打电话了，你们到底什么时候给我退款？",
        "speech_rate": 6.2,
        "order_id": "SO202601040981",
    },
    Source.SOCIAL: {
        "event_id": "weibo-5123987766",
        "occurred_at": "2026-01-05T09:20:00+08:00",
        "post_id": "5123987766",
        "platform": "weibo",
        "author": "爱喝奶茶的小王",
        "text": "新买的手机天天发热，客服还让我重启试试，无语",
        "author_followers": 15234,
        "reposts": 87,
        "product": "星耀X5手机",
        "sku": "SX5-128G",
        "batch": "B2511-07",
        "region": "华东-上海",
    },
    Source.LOGISTICS: {
        "event_id": "ship-SO202601040981-0005",
        "occurred_at": "2026-01-05T10:00:00+08:00",
        "order_id": "SO202601040981",
        "customer_id": "cust-88231",
        "status": "delayed",
        "promised_at": "2026-01-05T18:00:00+08:00",
        "estimated_at": "2026-01-06T20:00:00+08:00",
        "region": "华南-广州",
        "carrier": "顺达快运",
        "note": "中转站爆仓",
    },
    Source.ACTIVITY: {
        "event_id": "act-cust-88231-20260105-login",
        "occurred_at": "2026-01-05T08:55:00+08:00",
        "customer_id": "cust-88231",
        "kind": "feature_use",
        "feature": "报表导出",
        "count": 3,
    },
}


def schema_for(model: type[BaseModel], name: str, example: dict[str, Any] | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": _DIALECT, "$id": f"{_BASE_ID}{name}.schema.json"}
    schema.update(model.model_json_schema(mode="validation"))
    if example is not None:
        schema["examples"] = [example]
    return schema


def generate() -> dict[str, str]:
    """File name -> schema text, for every upstream record and the dead letter."""
    files = {}
    for source, model in RECORD_FOR_SOURCE.items():
        files[f"{source.value}.schema.json"] = _dump(
            schema_for(model, source.value, EXAMPLES[source])
        )
    files["dead_letter.schema.json"] = _dump(schema_for(DeadLetter, "dead_letter", None))
    return files


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def drifted(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from what the records generate."""
    stale = []
    for name, text in generate().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
