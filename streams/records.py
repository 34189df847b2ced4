"""The records kesu exchanges with the outside world, defined once.

Upstream records (what the call center, social listening, logistics and product analytics
publish) are strict: a string where a number belongs is an error, not a guess. Only
timestamps and enumerations accept their JSON spelling (ISO 8601 strings, enum values).
Topics, JSON Schemas, the HTTP API and test factories all derive from these classes.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    model_validator,
)

# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------


class Frozen(BaseModel):
    """Base of every record: immutable, unknown fields rejected, types not coerced."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: An instant with an explicit UTC offset ("2026-11-23T10:00:00+08:00", or epoch seconds);
#: normalised to UTC. A timestamp without offset is rejected: "10:00" in Beijing and in UTC
#: are eight hours apart, and guessing would move SLA deadlines.
Timestamp = Annotated[AwareDatetime, Strict(False), AfterValidator(_utc)]

#: Identifiers chosen by upstream systems: printable ASCII without spaces.
Identifier = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@#-]*$")
]
OptionalId = Identifier | None
ShortText = Annotated[str, Field(min_length=1, max_length=64)]


_E = TypeVar("_E")
#: An enum field that accepts its JSON string value under strict mode.
Lax = Annotated[_E, Strict(False)]


class Source(StrEnum):
    """The four upstream systems; each publishes to its own raw topic."""

    CALL = "call"
    SOCIAL = "social"
    LOGISTICS = "logistics"
    ACTIVITY = "activity"


#: Chinese labels for dashboards and messages (one mapping, used everywhere).
SOURCE_LABELS: dict[Source, str] = {
    Source.CALL: "呼叫中心",
    Source.SOCIAL: "社交媒体",
    Source.LOGISTICS: "物流",
    Source.ACTIVITY: "用户行为",
}


class Speaker(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class CallSegment(StrEnum):
    """Whether a call event carries one utterance or a whole transcript."""

    UTTERANCE = "utterance"
    TRANSCRIPT = "transcript"


class Platform(StrEnum):
    WEIBO = "weibo"
    DOUYIN = "douyin"
    XIAOHONGSHU = "xiaohongshu"
    WECHAT = "wechat"
    ZHIHU = "zhihu"
    BILIBILI = "bilibili"
    DIANPING = "dianping"
    OTHER = "other"


class ShipmentStatus(StrEnum):
    CREATED = "created"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    LOST = "lost"
    DELIVERED = "delivered"


class ActivityKind(StrEnum):
    LOGIN = "login"
    FEATURE_USE = "feature_use"


# ---------------------------------------------------------------------------------------
# Upstream records
# ---------------------------------------------------------------------------------------


class UpstreamEvent(Frozen):
    """Fields every upstream event carries."""

    SOURCE: ClassVar[Source]
    #: Name of the free-text field the validator checks and the scorer reads (None: no text).
    TEXT_FIELD: ClassVar[str | None] = None

    event_id: Identifier = Field(
        description="Unique id chosen by the upstream system; a retry must reuse it (same id = same event)."
    )
    source: Lax[Source] | None = Field(
        default=None,
        description="Optional; when present it must name the topic's (or URL's) source.",
    )
    occurred_at: Timestamp = Field(
        description="When it happened, ISO 8601 with offset (e.g. 2026-11-23T10:00:00+08:00) or epoch seconds."
    )

    @property
    def dedupe_key(self) -> str:
        """Identity of the event across retries: ids are unique per source."""
        return f"{self.SOURCE.value}:{self.event_id}"

    def free_text(self) -> str | None:
        """The free text a person wrote or said, if this kind of event has one."""
        return getattr(self, self.TEXT_FIELD) if self.TEXT_FIELD else None


class CallUtterance(UpstreamEvent):
    """呼叫中心: one utterance of a call, or a whole call transcript."""

    SOURCE: ClassVar[Source] = Source.CALL
    TEXT_FIELD: ClassVar[str | None] = "text"

    call_id: Identifier
    customer_id: Identifier
    agent_id: OptionalId = None
    speaker: Lax[Speaker] = Speaker.CUSTOMER
    segment: Lax[CallSegment] = CallSegment.UTTERANCE
    text: str = Field(description="What was said (ASR output or the agent's notes), UTF-8.")
    speech_rate: float | None = Field(
        default=None,
        gt=0,
        le=30,
        description="Speaking rate in characters per second, if the ASR measured it.",
    )
    order_id: OptionalId = None


class SocialPost(UpstreamEvent):
    """社交媒体 / 舆情: one post or comment that mentions the brand."""

    SOURCE: ClassVar[Source] = Source.SOCIAL
    TEXT_FIELD: ClassVar[str | None] = "text"

    post_id: Identifier
    platform: Lax[Platform]
    author: ShortText = Field(description="Public handle of the author.")
    text: str
    author_followers: int = Field(default=0, ge=0, description="Followers of the author (reach).")
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    url: Annotated[str, Field(max_length=2048)] | None = None
    product: ShortText | None = None
    sku: OptionalId = None
    batch: OptionalId = None
    region: ShortText | None = None
    customer_id: OptionalId = Field(
        default=None, description="Set when social CRM linked the author to a customer."
    )
    order_id: OptionalId = None


class LogisticsChange(UpstreamEvent):
    """物流: one status change of an order's shipment."""

    SOURCE: ClassVar[Source] = Source.LOGISTICS
    TEXT_FIELD: ClassVar[str | None] = None

    order_id: Identifier
    customer_id: Identifier
    status: Lax[ShipmentStatus]
    promised_at: Timestamp = Field(description="Delivery time promised to the customer.")
    estimated_at: Timestamp | None = Field(
        default=None, description="Carrier's current delivery estimate."
    )
    region: ShortText = Field(description="Destination region, e.g. 华东-上海.")
    carrier: ShortText
    sku: OptionalId = None
    batch: OptionalId = None
    note: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Carrier's free-text remark, e.g. 包裹破损."
    )


class CustomerActivity(UpstreamEvent):
    """用户行为: a usage signal of one customer (login, use of a feature)."""

    SOURCE: ClassVar[Source] = Source.ACTIVITY
    TEXT_FIELD: ClassVar[str | None] = None

    customer_id: Identifier
    kind: Lax[ActivityKind]
    feature: ShortText | None = Field(
        default=None, description="Which feature; required when kind is feature_use."
    )
    count: int = Field(
        default=1, ge=1, le=1_000_000, description="How many uses this signal stands for."
    )

    @model_validator(mode="after")
    def _feature_named(self) -> CustomerActivity:
        if self.kind == ActivityKind.FEATURE_USE and self.feature is None:
            raise ValueError("feature is required when kind is feature_use")
        return self


RECORD_FOR_SOURCE: dict[Source, type[UpstreamEvent]] = {
    Source.CALL: CallUtterance,
    Source.SOCIAL: SocialPost,
    Source.LOGISTICS: LogisticsChange,
    Source.ACTIVITY: CustomerActivity,
}


# ---------------------------------------------------------------------------------------
# Derived records
# ---------------------------------------------------------------------------------------


class RejectReason(StrEnum):
    """Why an input was refused; the same codes on the dead-letter topic and in HTTP answers."""

    EMPTY = "EMPTY"
    TOO_LARGE = "TOO_LARGE"
    NOT_UTF8 = "NOT_UTF8"
    NOT_JSON = "NOT_JSON"
    UNSAFE_NUMBER = "UNSAFE_NUMBER"
    TOO_DEEP = "TOO_DEEP"
    DUPLICATE_KEY = "DUPLICATE_KEY"
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    UNKNOWN_SOURCE = "UNKNOWN_SOURCE"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_FIELD = "INVALID_FIELD"
    BAD_CHARACTERS = "BAD_CHARACTERS"
    EMPTY_TEXT = "EMPTY_TEXT"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    PROCESSING_FAILED = "PROCESSING_FAILED"


class FieldError(Frozen):
    """One problem with one field; never carries the offending value (it may be personal data)."""

    field: str = Field(
        description="Dotted path of the field, e.g. 'occurred_at' or 'items.3.text'."
    )
    problem: str = Field(description="Machine-readable kind, e.g. 'missing', 'int_type'.")
    message: str


class KafkaOrigin(Frozen):
    """Where a record was read from."""

    topic: str
    partition: int
    offset: int
    timestamp: Timestamp | None = None


class OriginalBytes(Frozen):
    """The exact bytes that were rejected, so nothing is lost and they can be replayed."""

    encoding: Literal["utf-8", "base64"] = Field(
        description="utf-8 when the bytes were valid UTF-8 (data is the text), else base64."
    )
    data: str
    size: int = Field(ge=0, description="Length of the original value in bytes.")
    sha256: str

    def to_bytes(self) -> bytes:
        return (
            self.data.encode("utf-8") if self.encoding == "utf-8" else base64.b64decode(self.data)
        )


class DeadLetter(Frozen):
    """A record that could not be accepted, with the reason and the original bytes."""

    dead_letter_id: str = Field(
        description="Deterministic: the same input at the same place yields the same id."
    )
    reason: Lax[RejectReason]
    message: str = Field(description="What is wrong, for a person; never contains the payload.")
    field_errors: tuple[FieldError, ...] = ()
    source: Lax[Source] | None = None
    event_id: str | None = Field(default=None, description="The event's id, when it could be read.")
    origin: KafkaOrigin | None = None
    original_key: OriginalBytes | None = None
    original: OriginalBytes
    rejected_at: Timestamp
