"""The JSON Schemas handed to upstream teams match the records."""

from __future__ import annotations

import json

import pytest

from streams import schema_export
from streams.codec import Limits, check_event
from streams.records import Source, UpstreamEvent


def test_committed_schemas_match_the_records() -> None:
    """Changing a record without `kesu schemas` fails here, before upstreams see a stale contract."""
    assert schema_export.drifted() == [], "run `make schemas` and commit streams/schemas/"


@pytest.mark.parametrize("source", list(Source))
def test_schema_example_is_a_valid_event(source: Source) -> None:
    """The example shown to upstream teams passes the same validation as their real events."""
    example = schema_export.EXAMPLES[source]
    from datetime import datetime

    now = datetime.fromisoformat(example["occurred_at"])
    assert isinstance(check_event(source, example, now, Limits()), UpstreamEvent)


def test_schemas_forbid_unknown_fields_and_name_required_ones() -> None:
    schema = json.loads((schema_export.SCHEMA_DIR / "call.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"event_id", "occurred_at", "call_id", "customer_id", "text"}
