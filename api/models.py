"""Shapes of the API's answers (requests are the records of streams/records.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from streams.records import FieldError


class ItemRejection(BaseModel):
    """Why one event of a request was refused."""

    index: int = Field(description="Position of the event in the request (0 for a single object).")
    event_id: str | None = None
    reason: str = Field(
        description="Reason code, e.g. MISSING_FIELD, FUTURE_TIMESTAMP (same codes as the DLQ)."
    )
    message: str
    field_errors: list[FieldError] = []


class ProblemDetail(BaseModel):
    reason: str = Field(description="Machine-readable reason code.")
    message: str = Field(description="What is wrong, for a person.")


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: one reason for the request, and one per rejected event."""

    error: ProblemDetail
    rejected: list[ItemRejection] = []


class IngestAccepted(BaseModel):
    """Every event was valid and Kafka has acknowledged all of them."""

    accepted: list[str] = Field(description="event_id of each accepted event, in request order.")
    count: int
    topic: str
