"""Shapes of the API's answers (requests are the records of streams/records.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from streams.records import Alert, FieldError


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


# -- alerts ----------------------------------------------------------------------------------


class SlaSummary(BaseModel):
    """The alert's most urgent clock, as a dashboard shows it."""

    state: str = Field(description="none, running, warned, breached, paused, met or missed.")
    kind: str | None = None
    due_at: datetime | None = None
    remaining_seconds: float | None = Field(default=None, description="Negative once breached.")


class Suppression(BaseModel):
    """Why the alert's pushes are held; the alert itself is recorded and shown as usual."""

    reason: str = Field(description="inhibited (another open alert covers it) or silenced.")
    by: str = Field(description="The alert id (inhibited) or the silence id (silenced).")
    rule_id: str | None = Field(default=None, description="The inhibit rule, when inhibited.")
    text: str = Field(description="The reason for people, e.g. 被「集中投诉：…」抑制（规则 …）.")


class AlertPublic(Alert):
    """An alert as the API returns it: masked text, Chinese labels, and its SLA state."""

    labels: dict[str, str]
    sla: SlaSummary
    suppressed: Suppression | None = Field(
        default=None, description="Set while its pushes are held (inhibited or silenced)."
    )


class TimelineEntry(BaseModel):
    record_id: str
    version: int
    transition: str
    label: str
    at: datetime
    actor: str | None
    rule_id: str | None
    detail: str
    tier: int
    status: str


class AlertDetail(BaseModel):
    alert: AlertPublic
    timeline: list[TimelineEntry] = Field(
        description="Every lifecycle record, oldest first: who did what, when."
    )


class AlertPage(BaseModel):
    items: list[AlertPublic]
    total: int = Field(description="Alerts matching the filters.")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class ActionRequest(BaseModel):
    """Optional details of an action (which ones depend on the action)."""

    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(
        default=None, min_length=1, max_length=64, description="assign: to whom."
    )
    comment: str | None = Field(
        default=None, max_length=2000, description="comment, resolve, wait, close: a note."
    )
    satisfied: bool | None = Field(
        default=None, description="follow-up: was the customer satisfied?"
    )
    score: int | None = Field(default=None, ge=1, le=5, description="follow-up: satisfaction 1-5.")


class ActionAccepted(BaseModel):
    action_id: str = Field(
        description="Stable for the same Idempotency-Key: a retry is the same action."
    )
    alert_id: str
    kind: str
    topic: str
