"""The records kesu exchanges with the outside world, defined once.

Upstream records (what the call center, social listening, logistics and product analytics
publish) are strict: a string where a number belongs is an error, not a guess. Only
timestamps and enumerations accept their JSON spelling (ISO 8601 strings, enum values).
Topics, JSON Schemas, the HTTP API and test factories all derive from these classes.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------


class Frozen(BaseModel):
    """Base of every record: immutable, unknown fields rejected, types not coerced."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


#: The instants kesu works with. Anything outside is a typo or an attack, and arithmetic near
#: the calendar's ends overflows: "2 h after 9999-12-31T23:59-23:59" does not exist, and a
#: worker that meets it crashes on every start.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the end of the calendar in UTC
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValueError(
            f"timestamp is outside the supported range ({EARLIEST.year}–{LATEST.year - 1})"
        )
    return moment


#: An instant with an explicit UTC offset ("2026-11-23T10:00:00+08:00", or epoch seconds);
#: normalised to UTC and within EARLIEST..LATEST. A timestamp without offset is rejected:
#: "10:00" in Beijing and in UTC are eight hours apart, and guessing would move SLA deadlines.
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


#: How far a promised or estimated delivery may lie from the status change that reports it.
MAX_DELIVERY_DISTANCE = timedelta(days=366)


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

    @field_validator("promised_at", "estimated_at")
    @classmethod
    def _near_the_event(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        """A promise or estimate years away from the change is a typo (and would turn the delay
        map's mean into millions of hours)."""
        occurred_at = info.data.get("occurred_at")
        if value is not None and occurred_at is not None:
            if abs(value - occurred_at) > MAX_DELIVERY_DISTANCE:
                raise ValueError(
                    f"must lie within {MAX_DELIVERY_DISTANCE.days} days of occurred_at"
                )
        return value


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

    encoding: Literal["utf-8", "base64", "omitted"] = Field(
        description="utf-8: data is the text (valid UTF-8 that JSON does not blow up); base64: "
        "anything else; omitted: too large to copy into a dead letter — read it at the origin."
    )
    data: str
    size: int = Field(ge=0, description="Length of the original value in bytes.")
    sha256: str

    def to_bytes(self) -> bytes:
        if self.encoding == "omitted":
            raise ValueError(f"the original ({self.size} bytes) was not copied; read it at origin")
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


# ---------------------------------------------------------------------------------------
# Scoring results
# ---------------------------------------------------------------------------------------


class Emotion(StrEnum):
    """Emotion type of a complaint (seed 003's three forms plus anxiety and helplessness)."""

    ANGER = "anger"
    DISAPPOINTMENT = "disappointment"
    APATHY = "apathy"
    ANXIETY = "anxiety"
    HELPLESSNESS = "helplessness"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


EMOTION_LABELS: dict[Emotion, str] = {
    Emotion.ANGER: "愤怒型",
    Emotion.DISAPPOINTMENT: "失望型",
    Emotion.APATHY: "冷漠型",
    Emotion.ANXIETY: "焦虑",
    Emotion.HELPLESSNESS: "无助",
    Emotion.NEUTRAL: "中性",
    Emotion.POSITIVE: "正面",
}


class Category(StrEnum):
    """Complaint category (seeds 000, 001), with stable codes."""

    PRODUCT_QUALITY = "product_quality"
    SERVICE_ATTITUDE = "service_attitude"
    SERVICE_PROCESS = "service_process"
    AFTER_SALES = "after_sales"
    COMMUNICATION = "communication"
    PRICE = "price"
    LOGISTICS = "logistics"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.PRODUCT_QUALITY: "产品质量",
    Category.SERVICE_ATTITUDE: "服务态度",
    Category.SERVICE_PROCESS: "服务流程",
    Category.AFTER_SALES: "售后服务",
    Category.COMMUNICATION: "沟通不畅",
    Category.PRICE: "价格",
    Category.LOGISTICS: "物流",
    Category.OTHER: "其他",
}


class Intent(StrEnum):
    """What a customer's text is doing (issue #18): asking, asking for an action, complaining,
    praising, or none of these. An enquiry or request without negative content opens no alert."""

    ENQUIRY = "enquiry"
    REQUEST = "request"
    COMPLAINT = "complaint"
    PRAISE = "praise"
    OTHER = "other"


INTENT_LABELS: dict[Intent, str] = {
    Intent.ENQUIRY: "咨询",
    Intent.REQUEST: "办理请求",
    Intent.COMPLAINT: "投诉抱怨",
    Intent.PRAISE: "表扬",
    Intent.OTHER: "其他",
}


class Cue(Frozen):
    """One piece of evidence the scorer used, so a person can see *why*."""

    kind: str = Field(
        description="What sort of cue: threat, intensifier, repeat_contact, waiting, distancing, "
        "punctuation, emoji, speech_rate, negation, contrast, emotion, category, negative_term, positive_term."
    )
    term: str = Field(description="The matched text (already masked) or a short description.")
    label: str | None = Field(
        default=None, description="What it points to, e.g. an emotion or category code."
    )
    weight: float = Field(description="Its contribution (sign and size) to the result it fed.")


class Assessment(Frozen):
    """What the scorer concluded about one text. Pure function of (text, channel, speech rate)."""

    scorer_version: str
    polarity: float = Field(
        ge=0, le=1, description="snownlp sentiments of the normalised text: 0 negative, 1 positive."
    )
    negativity: float = Field(
        ge=0, le=1, description="Our probability that the text is a negative / complaining one."
    )
    negative: bool = Field(description="negativity >= the scorer's threshold.")
    intensity: int = Field(
        ge=0, le=100, description="Emotional intensity, 0 (calm) to 100 (furious)."
    )
    emotion: Lax[Emotion]
    category: Lax[Category]
    threats: tuple[str, ...] = Field(
        default=(), description="Escalation threats found (投诉, 12315, 曝光, 律师…)."
    )
    repeat_contact: bool = Field(
        default=False, description="The customer says this is not the first contact."
    )
    intent: Lax[Intent] | None = Field(
        default=None,
        description="enquiry, request, complaint, praise or other; None: scored before intents existed.",
    )
    demands: tuple[str, ...] = Field(
        default=(),
        description="Demands the customer makes (退款, 赔偿, 说法, 负责, 道歉, 换货…), beside threats.",
    )
    keywords: tuple[str, ...] = Field(
        default=(), description="The terms that drove the result, most important first."
    )
    cues: tuple[Cue, ...] = ()
    masked_text: str = Field(
        description="The text with phone, ID, card numbers and e-mails masked."
    )
    pii_found: tuple[str, ...] = Field(
        default=(), description="Kinds of personal data that were masked."
    )


class AssessedEvent(Frozen):
    """An upstream event with its assessment and the context the response engine needs.

    Keyed on the assessments topic by customer (the incident grouping key); carries no
    unmasked text.
    """

    assessment_id: str = Field(description="Deterministic: source:event_id.")
    case_key: str = Field(
        min_length=1,
        max_length=200,
        description="Who the case is about: customer:<id>, or social:<platform>:<author> for unlinked posts.",
    )
    source: Lax[Source]
    event_id: Identifier
    occurred_at: Timestamp
    customer_id: OptionalId = None
    order_id: OptionalId = None
    product: ShortText | None = None
    sku: OptionalId = None
    batch: OptionalId = None
    region: ShortText | None = None
    carrier: ShortText | None = None
    platform: Lax[Platform] | None = None
    reach: int = Field(
        default=0, ge=0, description="Followers + reposts of a social post (0 for other sources)."
    )
    shipment_status: Lax[ShipmentStatus] | None = Field(
        default=None, description="For logistics events."
    )
    assessment: Assessment | None = Field(default=None, description="None for events without text.")


class SurgeContact(Frozen):
    """One negative contact as surge counting needs it (complaints/surge_track): when it
    happened, who it is about, what a surge lists of it, and every key it counts toward.

    A few hundred bytes where the whole AssessedEvent is kilobytes: ingest sends it once per
    surge key (issue #17: the fan-out was 1.3 full contact bodies per raw event).
    """

    case_key: str = Field(min_length=1, max_length=200)
    event_id: Identifier
    occurred_at: Timestamp
    intensity: int = Field(default=0, ge=0, le=100)
    scored: bool = Field(description="It had text (keywords and an example); else a shipment.")
    keywords: tuple[str, ...] = ()
    example: str = Field(default="", description="The start of the masked text.")
    shipment_status: Lax[ShipmentStatus] | None = None
    keys: tuple[str, ...] = Field(
        default=(), description='Every surge key it counts toward ("batch:B2511-07", …).'
    )


class SurgeContacts(Frozen):
    """The negative contacts one ingest batch counted toward one surge key, in the order
    ingest handled them (one record per key and batch instead of one per contact; per input
    partition under exactly_once)."""

    contacts: tuple[SurgeContact, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------
# The response engine: alerts, their lifecycle, and what people do about them
# ---------------------------------------------------------------------------------------

#: Response tier: 1 即时响应 (first action within 2 h), 2 深度响应 (closed loop within 24 h),
#: 3 预防性响应 (proactive, no deadline).
TierNumber = Literal[1, 2, 3]

TIER_LABELS: dict[int, str] = {1: "即时响应", 2: "深度响应", 3: "预防性响应"}


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    WAITING = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


ALERT_STATUS_LABELS: dict[AlertStatus, str] = {
    AlertStatus.OPEN: "待处理",
    AlertStatus.ACKNOWLEDGED: "已确认",
    AlertStatus.WAITING: "等待客户回复",
    AlertStatus.RESOLVED: "已解决（待回访）",
    AlertStatus.CLOSED: "已关闭",
}


class Transition(StrEnum):
    """Every state change of an alert, each published as one lifecycle record."""

    OPENED = "opened"
    CONTACT_ADDED = "contact_added"
    TIER_RAISED = "tier_raised"
    UPDATED = "updated"  # a detected condition (surge, delay, churn) changed while open
    WARNED = "warned"
    BREACHED = "breached"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    COMMENTED = "commented"
    PAUSED = "paused"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    FOLLOW_UP_DUE = "follow_up_due"
    FOLLOW_UP_RECORDED = "follow_up_recorded"
    REOPENED = "reopened"
    CLOSED = "closed"
    HANDED_BACK = "handed_back"  # its parent incident ended: the alert is handled on its own again


TRANSITION_LABELS: dict[Transition, str] = {
    Transition.OPENED: "新建告警",
    Transition.CONTACT_ADDED: "客户再次联系",
    Transition.TIER_RAISED: "升级响应级别",
    Transition.UPDATED: "信号更新",
    Transition.WARNED: "SLA 预警",
    Transition.BREACHED: "SLA 超时",
    Transition.ESCALATED: "逐级上报",
    Transition.ACKNOWLEDGED: "已确认",
    Transition.ASSIGNED: "已分派",
    Transition.COMMENTED: "备注",
    Transition.PAUSED: "等待客户（计时暂停）",
    Transition.RESUMED: "恢复计时",
    Transition.RESOLVED: "已解决",
    Transition.FOLLOW_UP_DUE: "回访到期",
    Transition.FOLLOW_UP_RECORDED: "已回访",
    Transition.REOPENED: "重新打开",
    Transition.CLOSED: "已关闭",
    Transition.HANDED_BACK: "转回单独处理",
}


class ActionKind(StrEnum):
    """What a person can do to an alert (through the API, a chat card or the dashboard)."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    COMMENT = "comment"
    WAIT_ON_CUSTOMER = "wait_on_customer"
    RESUME = "resume"
    RESOLVE = "resolve"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"


class AlertAction(Frozen):
    """One action by a person, published on the actions topic keyed by the alert's case key."""

    action_id: Identifier = Field(
        description="Deterministic from the client's Idempotency-Key: a retry is one action."
    )
    alert_id: Identifier
    case_key: str = Field(min_length=1, max_length=200)
    kind: Lax[ActionKind]
    actor: ShortText = Field(description="Who did it (user name or API key name).")
    at: Timestamp
    assignee: ShortText | None = None
    comment: Annotated[str, Field(max_length=2000)] | None = None
    satisfied: bool | None = Field(
        default=None, description="Follow-up result: was the customer satisfied?"
    )
    score: int | None = Field(
        default=None, ge=1, le=5, description="Follow-up satisfaction score, 1-5."
    )


class Tick(Frozen):
    """A clock tick for one case: 'it is now `at`' — warnings, breaches and follow-ups fire on it."""

    case_key: str = Field(min_length=1, max_length=200)
    at: Timestamp


class ClockKind(StrEnum):
    FIRST_ACTION = "first_action"  # stopped by acknowledge
    RESOLVE = "resolve"  # stopped by resolve


class SlaClock(Frozen):
    """One SLA clock of an alert, in working time of its calendar."""

    kind: Lax[ClockKind]
    target: timedelta = Field(description="Working time allowed (ISO 8601 duration).")
    calendar: str
    warn_at: tuple[float, ...] = Field(default=(), description="Fractions of the target that warn.")
    escalate_every: timedelta | None = Field(
        default=None, description="Escalate again after the breach, every…"
    )
    started_at: Timestamp
    counted: timedelta = Field(
        default=timedelta(0), description="Working time counted before running_since."
    )
    running_since: Timestamp | None = Field(
        default=None, description="None while paused or stopped."
    )
    stopped_at: Timestamp | None = None
    due_at: Timestamp | None = Field(
        default=None, description="Projected deadline; None while paused or stopped."
    )
    warned: tuple[float, ...] = Field(
        default=(), description="Warning fractions already announced."
    )
    breached_at: Timestamp | None = None
    escalations: int = Field(default=0, ge=0, description="Escalations announced for this clock.")
    met: bool | None = Field(
        default=None, description="Once stopped: whether it stopped before the deadline."
    )


class Compensation(Frozen):
    """The recommended rung of seed 003's ladder: basic → emotional → relationship."""

    rung: Literal["basic", "emotional", "relationship"]
    label: str
    actions: tuple[str, ...]
    amount_yuan: int = Field(ge=0, description="Suggested value in 元 (not 分).")
    needs_approval: bool = Field(description="Above the front-line authority (seed 003: 500 元).")
    rule_id: str


class FollowUp(Frozen):
    """回访 after a tier-1/2 alert is resolved (peak-end rule: the last moment is remembered)."""

    due_at: Timestamp
    announced: bool = False
    recorded_at: Timestamp | None = None
    satisfied: bool | None = None
    score: int | None = Field(default=None, ge=1, le=5)


# ---------------------------------------------------------------------------------------
# Detected conditions: what the stream itself notices (not what a customer said)
# ---------------------------------------------------------------------------------------


class AlertKind(StrEnum):
    """What an alert is about: a customer's complaint, or a condition the stream detected."""

    COMPLAINT = "complaint"
    SURGE = "surge"
    LOGISTICS_DELAY = "logistics_delay"
    CHURN = "churn"


ALERT_KIND_LABELS: dict[AlertKind, str] = {
    AlertKind.COMPLAINT: "客户投诉",
    AlertKind.SURGE: "集中投诉",
    AlertKind.LOGISTICS_DELAY: "物流延误预警",
    AlertKind.CHURN: "流失预警",
}


class SignalChange(StrEnum):
    RAISED = "raised"  # the condition holds: open its alert, or update the open one
    CLEARED = "cleared"  # the condition ended (delivered, back to normal): close its alert


class SurgeDetail(Frozen):
    """A surge of negative contacts on one key (issue #7)."""

    dimension: str = Field(description="product, sku, batch, category, region, carrier or channel.")
    value: str = Field(min_length=1, max_length=200)
    window_start: Timestamp = Field(description="Start of the window that decided.")
    window_minutes: int = Field(ge=1, description="Length of the scan that decided, in minutes.")
    count: int = Field(ge=0, description="Negative contacts in that scan.")
    expected: float = Field(ge=0, description="What the key's baseline expected for that scan.")
    ratio: float = Field(ge=0, description="count / expected.")
    p_value: float = Field(ge=0, le=1, description="Tail probability of the count.")
    new_key: bool = Field(default=False, description="The key had no history to speak of.")
    keywords: tuple[str, ...] = Field(default=(), description="Top keywords, most frequent first.")
    examples: tuple[str, ...] = Field(default=(), description="Masked example texts.")


class DelayDetail(Frozen):
    """A shipment that will miss (or missed) its promise (issue #6)."""

    status: Lax[ShipmentStatus]
    promised_at: Timestamp
    estimated_at: Timestamp | None = None
    delay_hours: float = Field(ge=0, description="Estimate (or now) minus promise, in hours.")
    bucket: str = Field(description="The delay bucket of the rules file, e.g. under_24h.")
    bucket_label: str = Field(default="", description="Its Chinese label, e.g. 延误 24 小时内.")


class ChurnDetail(Frozen):
    """A customer whose activity says they are leaving (issue #6)."""

    days_since_login: float | None = Field(default=None, ge=0)
    feature_use_change: float | None = Field(
        default=None, description="Week-over-week change of feature use: -0.6 = down 60 %."
    )
    reasons: tuple[str, ...] = Field(default=(), description="Which rules fired (Chinese).")


class GroupFacet(Frozen):
    """One more key along which an incident's burst shows (issue #16: one cause, one surge)."""

    dimension: str = Field(description="product, sku, batch, category, region, carrier or channel.")
    value: str = Field(min_length=1, max_length=200)
    count: int = Field(ge=0, description="Negative contacts in the key's deciding scan.")
    expected: float = Field(ge=0, description="What the key's baseline expected for that scan.")
    ratio: float = Field(ge=0)
    explains: bool = Field(
        description="The key's contacts cover most of the incident's members (else it only "
        "rose alongside, e.g. a whole channel)."
    )


class ParentOutcome(StrEnum):
    """What resolving a parent incident does to its members (rules.yaml `grouping.on_resolve`)."""

    RESOLVE = "resolve"  # the members are resolved with it
    HAND_BACK = "hand_back"  # the members return to their own handling


class GroupDetail(Frozen):
    """A parent incident (a surge, a logistics wave or an emerging issue) and the members it
    stands for (issue #16).

    Lists are bounded (rules.yaml `grouping.max_members`), first members first; `member_count`
    counts every member. While the parent is open, the notifier holds back the members' own
    pushes (their `case_key` is in `member_case_keys`); they stay visible in the API.
    """

    member_kind: Lax[AlertKind] = Field(
        default=AlertKind.COMPLAINT,
        description="Which alerts of a member case the parent stands for: complaint for a "
        "surge, logistics_delay for a wave.",
    )
    member_case_keys: tuple[str, ...] = Field(
        default=(), description="Cases of the members (bounded), first members first."
    )
    member_count: int = Field(default=0, ge=0, description="Every member, also past the bound.")
    member_event_ids: tuple[str, ...] = Field(
        default=(), description="Event ids of the members' contacts (bounded)."
    )
    member_order_ids: tuple[str, ...] = Field(
        default=(), description="For a logistics wave: the delayed orders (bounded)."
    )
    examples: tuple[str, ...] = Field(
        default=(), description="Masked texts of members, the most intense first."
    )
    keywords: tuple[str, ...] = Field(
        default=(),
        description="For an emerging issue: the terms its members' texts share, most telling first.",
    )
    intensity: int = Field(default=0, ge=0, le=100, description="Highest intensity of a member.")
    facets: tuple[GroupFacet, ...] = Field(
        default=(), description="The other keys the same burst shows on."
    )
    on_resolve: Lax[ParentOutcome] = Field(
        default=ParentOutcome.HAND_BACK,
        description="What resolving the parent does to its members (closing it always hands back).",
    )


class DelayState(StrEnum):
    """How a shipment counts on the delay map (one state per order, the worst first)."""

    LOST = "lost"
    EXCEPTION = "exception"
    DELAYED = "delayed"


class DelayMapEntry(Frozen):
    """One order on the delay map (compacted topic keyed by order id; delivered: tombstone)."""

    order_id: Identifier
    region: ShortText
    carrier: ShortText
    state: Lax[DelayState]
    delay_hours: float = Field(
        ge=0, description="Hours past the promise (estimate or event time); 0 when unknown."
    )
    at: Timestamp = Field(description="Event time of the change that put it there.")


class Signal(Frozen):
    """A condition detected on the streams, for the response engine to track as an alert.

    Keyed by `case_key` on the signals topic, co-partitioned with contacts and actions, so a
    later complaint about the same order joins the proactive alert's incident. Producers make
    `signal_id` deterministic (a replay is the same signal) and send a signal only when what
    it says changes; the engine opens, updates (tier up, details) or closes the alert of
    (`kind`, `subject`).
    """

    signal_id: Identifier = Field(description="Deterministic: a replayed signal is one signal.")
    case_key: str = Field(
        min_length=1,
        max_length=200,
        description="customer:<id> for delays and churn; surge:<dimension>:<value> for surges.",
    )
    kind: Lax[AlertKind]
    subject: str = Field(
        min_length=1,
        max_length=200,
        description="What the alert tracks within the case: the order id, 'churn', a surge's start.",
    )
    change: Lax[SignalChange]
    at: Timestamp = Field(description="Event time of the evidence.")
    tier: TierNumber
    rule_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200, description="One line for people (Chinese).")
    why: tuple[Cue, ...] = ()
    customer_id: OptionalId = None
    order_id: OptionalId = None
    product: ShortText | None = None
    sku: OptionalId = None
    batch: OptionalId = None
    region: ShortText | None = None
    carrier: ShortText | None = None
    category: Lax[Category] | None = None
    compensation: Compensation | None = None
    surge: SurgeDetail | None = None
    delay: DelayDetail | None = None
    churn: ChurnDetail | None = None
    group: GroupDetail | None = Field(
        default=None, description="Set on a parent incident (surge, logistics wave)."
    )

    @model_validator(mode="after")
    def _not_a_complaint(self) -> Signal:
        if self.kind is AlertKind.COMPLAINT:
            raise ValueError("complaints come from contacts, not signals")
        return self


class SurgeChange(StrEnum):
    """What a surge key tells the grouping stage."""

    OPENED = "opened"  # the key's count became improbable
    GREW = "grew"  # reached `growth` x the count last announced
    JOINED = "joined"  # one more contact while the key is surging
    CLOSED = "closed"  # quiet again


class GroupMember(Frozen):
    """One contact a surge key counted: who (the case) and which event."""

    case_key: str = Field(min_length=1, max_length=200)
    event_id: str = Field(min_length=1, max_length=128)
    at: Timestamp
    intensity: int = Field(default=0, ge=0, le=100)
    keys: tuple[str, ...] = Field(
        default=(),
        description="Every surge key the contact counts toward: one burst's keys share contacts.",
    )


class SurgeReport(Frozen):
    """What one surge key says to the grouping stage (one partition sees every key's reports).

    Keys of one burst live in different partitions of the surge table; the grouping stage
    merges the reports whose members overlap into one incident (issue #16: one cause, one surge).
    """

    report_id: Identifier = Field(description="Deterministic: a replayed report is one report.")
    key: str = Field(min_length=3, max_length=250, description="dimension:value")
    change: Lax[SurgeChange]
    at: Timestamp = Field(description="Event time of the evidence.")
    opened_at: Timestamp = Field(description="Start of the window the key's surge opened in.")
    first_seen: Timestamp = Field(
        description="Start of the key's first window: how long kesu has watched this key."
    )
    detail: SurgeDetail = Field(description="The key's numbers as of this report.")
    variance: float = Field(ge=0, description="Variance of the deciding scan's count.")
    members: tuple[GroupMember, ...] = Field(
        default=(), description="Contacts counted since the key's previous report (bounded)."
    )


class IssueVoice(Frozen):
    """One negative text a customer wrote or said, sent to the grouping stage (issue #18:
    相似合并), which groups same-issue texts of many customers into an emerging issue.

    Masked text only: never the raw text. Keyed by the grouping stage's constant key.
    """

    voice_id: Identifier = Field(description="Deterministic: source:event_id (as the contact's).")
    case_key: str = Field(min_length=1, max_length=200, description="The contact's case.")
    customer: str = Field(
        min_length=1,
        max_length=200,
        description="Who said it (the customer's pseudonym, else the case): distinct "
        "customers make an emerging issue.",
    )
    event_id: Identifier
    occurred_at: Timestamp = Field(description="Event time of the contact.")
    source: Lax[Source] = Field(description="The channel it came through.")
    category: Lax[Category]
    intensity: int = Field(default=0, ge=0, le=100)
    masked_text: str = Field(
        max_length=2000, description="The text with personal data masked (Assessment.masked_text)."
    )
    keys: tuple[str, ...] = Field(
        default=(),
        max_length=8,
        description="The keys that name a cause on their own the contact carries "
        "(rules.yaml emerging.keyed_by), as dimension:value: batch:B2511-07.",
    )


class IssueVoices(Frozen):
    """The voices of one ingest batch (one input partition's under exactly_once), in the order
    ingest handled them: one grouping-stage record where there were as many as negative texts
    (issue #17)."""

    voices: tuple[IssueVoice, ...] = Field(min_length=1)


class GroupReports(Frozen):
    """The surge reports or delay signals one batch of one stage sends the grouping stage, in
    the order it decided them: one record where there were as many as reports (issue #17)."""

    reports: tuple[Annotated[Signal | SurgeReport, Field(union_mode="left_to_right")], ...] = Field(
        min_length=1
    )


class GroupNotice(Frozen):
    """A parent incident ended: what becomes of its members in one member case.

    The engine sends one per member case (keyed by it, so it reaches that case's partition);
    the id derives from the parent, the case and the outcome, so a replay is one notice.
    """

    notice_id: Identifier
    case_key: str = Field(min_length=1, max_length=200)
    parent_alert_id: str
    parent_title: str = Field(max_length=200)
    member_kind: Lax[AlertKind]
    outcome: Lax[ParentOutcome]
    event_ids: tuple[str, ...] = Field(
        default=(), description="The parent's member events: alerts holding one are members."
    )
    order_ids: tuple[str, ...] = Field(
        default=(), description="For a wave: its orders; delay alerts about them are members."
    )
    at: Timestamp
    actor: str | None = None


class Alert(Frozen):
    """The current state of one incident's alert (what the compacted state topic holds)."""

    alert_id: str = Field(description="Deterministic from the opening rule, case and opening time.")
    version: int = Field(ge=1, description="Increases by one with every lifecycle record.")
    case_key: str
    kind: Lax[AlertKind] = AlertKind.COMPLAINT
    subject: str | None = Field(
        default=None, description="For detected conditions: what the alert tracks (Signal.subject)."
    )
    title: str = Field(default="", description="One line for people; detected conditions only.")
    customer_id: str | None = None
    order_id: str | None = None
    tier: TierNumber
    status: Lax[AlertStatus]
    rule_id: str = Field(description="The tier rule that decided the current tier.")
    rules_version: str
    why: tuple[Cue, ...] = Field(default=(), description="The cues that made the rule fire.")
    opened_at: Timestamp
    updated_at: Timestamp
    contacts: int = Field(
        ge=0, description="Contacts attached to this incident (0 for a detected condition)."
    )
    sources: tuple[Lax[Source], ...] = ()
    event_ids: tuple[str, ...] = Field(
        default=(), description="The most recent contacts' event ids."
    )
    category: Lax[Category] | None = None
    emotion: Lax[Emotion] | None = None
    intensity: int = Field(
        default=0, ge=0, le=100, description="Highest intensity seen in this incident."
    )
    threats: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    excerpt: str = Field(default="", description="The latest contact's text, masked and shortened.")
    product: str | None = None
    sku: str | None = None
    batch: str | None = None
    region: str | None = None
    carrier: str | None = None
    reach: int = 0
    clocks: tuple[SlaClock, ...] = ()
    escalation_level: int = Field(default=0, ge=0, description="0 = front line; +1 per escalation.")
    escalated_to: str | None = None
    assignee: str | None = None
    compensation: Compensation | None = None
    follow_up: FollowUp | None = None
    surge: SurgeDetail | None = None
    delay: DelayDetail | None = None
    churn: ChurnDetail | None = None
    tracks: Lax[AlertKind] | None = Field(
        default=None,
        description="The detected condition this alert follows (its signals update it); it "
        "stays when a complaint joins and the kind becomes complaint.",
    )
    group: GroupDetail | None = Field(
        default=None,
        description="Set on a parent incident: the members it stands for (issue #16).",
    )


class AlertEvent(Frozen):
    """One lifecycle record: what changed, when, by whom, and the alert as it is afterwards."""

    record_id: str = Field(description="alert_id:version — unique and stable across retries.")
    alert_id: str
    version: int
    transition: Lax[Transition]
    at: Timestamp
    actor: str | None = Field(
        default=None, description="The person for actions; None for the engine."
    )
    rule_id: str | None = None
    detail: str = Field(
        default="", description="A short human note, e.g. 'warning at 75 %' or the comment."
    )
    alert: Alert


# ---------------------------------------------------------------------------------------
# Notification: silences (maintenance windows) and the matchers they and inhibit rules use
# ---------------------------------------------------------------------------------------

#: The labels an alert is matched by (notify/labels.py derives them from the alert).
LABEL_NAMES: tuple[str, ...] = (
    "kind",
    "tier",
    "status",
    "category",
    "emotion",
    "region",
    "carrier",
    "product",
    "sku",
    "batch",
    "channel",
    "rule",
    "customer",
    "case",
    "dimension",
    "key",
    "parent",
)


def known_label_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` if each is a label kesu gives alerts (LABEL_NAMES); a validator's ValueError if not."""
    unknown = [name for name in names if name not in LABEL_NAMES]
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(unknown)}; known: {', '.join(LABEL_NAMES)}")
    return names


_MATCHER = re.compile(r"^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)


class MatchOp(StrEnum):
    """Alertmanager's matcher operators; regular expressions are anchored at both ends."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


class Matcher(Frozen):
    """One label test, e.g. `region=华东-上海`, `tier!=1`, `kind=~surge|logistics_delay`.

    Written as that string in rules.yaml, the API and the CLI; a missing label reads as "".
    """

    name: str = Field(description="One of LABEL_NAMES.")
    op: Lax[MatchOp]
    value: str = Field(max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        if not isinstance(data, str):
            return data
        found = _MATCHER.match(data)
        if not found:
            raise ValueError(
                "not a matcher: write name=value, name!=value, name=~regex or name!~regex"
            )
        name, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return {"name": name, "op": op, "value": value}

    @model_validator(mode="after")
    def _known_and_compiles(self) -> Matcher:
        if self.name not in LABEL_NAMES:
            raise ValueError(f"unknown label {self.name!r}; known: {', '.join(LABEL_NAMES)}")
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"{self.name}: not a regular expression ({exc})") from None
        return self

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value}"


class Silence(Frozen):
    """A maintenance window: alerts matching every matcher between `starts_at` and `ends_at`
    are still recorded and shown, but not pushed (大促, a known carrier outage).

    Kept on a compacted topic keyed by `silence_id`; expiring early rewrites the record with
    `expired_at`/`expired_by`, so the record itself says who created and who ended it, when.
    """

    silence_id: Identifier
    matchers: tuple[Matcher, ...] = Field(min_length=1, max_length=20)
    starts_at: Timestamp
    ends_at: Timestamp
    created_by: ShortText = Field(description="Who asked for it (API key name or the CLI user).")
    created_at: Timestamp
    comment: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="Why, for the people it silences, e.g. 顺丰中转站停运."
    )
    expired_at: Timestamp | None = Field(default=None, description="Ended early at.")
    expired_by: ShortText | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Silence:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be later than starts_at")
        return self

    def active(self, now: datetime) -> bool:
        """Whether it holds pushes at `now` (started, not ended, not expired early)."""
        ended = self.ends_at if self.expired_at is None else min(self.ends_at, self.expired_at)
        return self.starts_at <= now < ended
