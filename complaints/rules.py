"""The rule book: what the business decided (tiers, cues -> tiers, SLA targets, calendars,
escalation, grouping, follow-up, compensation), as validated data.

The only module that knows YAML. A broken file fails at load with the field's path, e.g.
`tier_rules.3.tier: Input should be 1, 2 or 3`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from complaints.durations import Duration
from streams.records import (
    Category,
    ClockKind,
    Emotion,
    Intent,
    Matcher,
    ParentOutcome,
    ShipmentStatus,
    Source,
    TierNumber,
    known_label_names,
)

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.yaml"

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Tier = Literal[1, 2, 3]
Rung = Literal["basic", "emotional", "relationship"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- tiers -----------------------------------------------------------------------------------


class Condition(Frozen):
    """All the given tests must hold (AND); a rule list is an OR of its rules."""

    emotion: tuple[Emotion, ...] | None = None
    category: tuple[Category, ...] | None = None
    min_intensity: int | None = Field(default=None, ge=0, le=100)
    threats: bool | None = Field(
        default=None, description="true: at least one escalation threat was found."
    )
    repeat_contact: bool | None = Field(
        default=None, description="true: the text says it is not the first contact."
    )
    demands: bool | None = Field(
        default=None,
        description="true: the customer demands a refund, compensation, responsibility, an explanation…",
    )
    intent: tuple[Intent, ...] | None = Field(
        default=None,
        description="The text's intent is one of these (enquiry, request, complaint…).",
    )
    negative: bool | None = None
    shipment_status: tuple[ShipmentStatus, ...] | None = None
    source: tuple[Source, ...] | None = None
    min_reach: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not any(value is not None for value in self.__dict__.values()):
            raise ValueError("a condition must test at least one thing")
        return self


class TierRule(Frozen):
    id: RuleId
    tier: Tier
    when: Condition
    description: str = ""


class ClockRule(Frozen):
    """One SLA clock of a tier."""

    target: Duration
    warn_at: tuple[float, ...] = Field(
        default=(0.75,), description="Fractions of the target that warn."
    )
    escalate_every: Duration | None = Field(
        default=None, description="Escalate again after the breach, every…"
    )
    calendar: str = "always"

    @field_validator("target")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if value.total_seconds() <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("warn_at")
    @classmethod
    def _fractions(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("each warning fraction must lie strictly between 0 and 1")
        if list(value) != sorted(set(value)):
            raise ValueError("warning fractions must be ascending and distinct")
        return value


class TierPolicy(Frozen):
    name: str
    clocks: dict[ClockKind, ClockRule] = Field(default_factory=dict)


# -- calendars -------------------------------------------------------------------------------


class AlwaysOpen(Frozen):
    kind: Literal["always"]


class BusinessHours(Frozen):
    """Service hours on working days, with the mainland public holidays and make-up days (调休)."""

    kind: Literal["business_hours"]
    timezone: str = "Asia/Shanghai"
    opens: time
    closes: time
    weekdays: tuple[int, ...] = Field(
        default=(1, 2, 3, 4, 5), description="ISO weekdays: 1 = Monday."
    )
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = Field(
        default=(), description="Weekend days that are working days (调休)."
    )
    source: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= d <= 7 for d in value):
            raise ValueError("weekdays are ISO numbers 1 (Monday) to 7 (Sunday), at least one")
        return value

    @model_validator(mode="after")
    def _opens_before_closes(self) -> Self:
        if self.opens >= self.closes:
            raise ValueError("opens must be earlier than closes")
        if set(self.holidays) & set(self.workdays):
            raise ValueError("a date cannot be both a holiday and a make-up workday")
        return self


CalendarSpec = Annotated[AlwaysOpen | BusinessHours, Field(discriminator="kind")]


# -- grouping, escalation, follow-up, compensation -------------------------------------------


class Incidents(Frozen):
    group_window: Duration = Field(
        description="A new contact joins an open incident updated within this window."
    )
    repeat_window: Duration = Field(
        description="Complaining again within this window raises the tier (seed 002)."
    )
    keep_event_ids: int = Field(default=20, ge=1, le=200)
    excerpt_chars: int = Field(default=140, ge=20, le=1000)


class Escalation(Frozen):
    levels: tuple[str, ...] = Field(
        min_length=2, description="Level 0 is the front line; a breach goes one up."
    )


class FollowUpRule(Frozen):
    delay: Duration
    tiers: tuple[Tier, ...] = (1, 2)
    reopen_below_score: int = Field(
        default=3, ge=1, le=5, description="A score below this reopens the alert."
    )
    expire_after: Duration = Field(
        description="Close a follow-up nobody recorded after this long past due."
    )


class CompensationCondition(Frozen):
    tier: tuple[Tier, ...] | None = None
    min_contacts: int | None = Field(default=None, ge=1)
    min_reach: int | None = Field(default=None, ge=0)
    category: tuple[Category, ...] | None = None


class CompensationRule(Frozen):
    id: RuleId
    rung: Rung
    amount_yuan: int = Field(ge=0)
    when: CompensationCondition


class RungSpec(Frozen):
    label: str
    actions: tuple[str, ...] = Field(min_length=1)


class CompensationPolicy(Frozen):
    front_line_limit_yuan: int = Field(
        ge=0, description="Seed 003: the front line may grant up to 500 元."
    )
    rungs: dict[Rung, RungSpec]
    rules: tuple[CompensationRule, ...] = Field(min_length=1)

    @field_validator("rungs")
    @classmethod
    def _every_rung_described(cls, rungs: dict[Rung, RungSpec]) -> dict[Rung, RungSpec]:
        missing = {"basic", "emotional", "relationship"} - set(rungs)
        if missing:
            raise ValueError(f"must describe {', '.join(sorted(missing))}")
        return rungs


# -- surges ----------------------------------------------------------------------------------

#: What a surge is counted by (issue #7): the product family, its SKU and batch, the complaint
#: category, the region, the carrier and the channel (the upstream source).
SurgeDimension = Literal["product", "sku", "batch", "category", "region", "carrier", "channel"]
_ALL_DIMENSIONS: tuple[SurgeDimension, ...] = (
    "product",
    "sku",
    "batch",
    "category",
    "region",
    "carrier",
    "channel",
)


class SurgePolicy(Frozen):
    """How surges of negative contacts per key are detected (complaints/surge.py).

    Counts are kept per tumbling window of `windows[0]`; the longer `windows` are scanned as sums
    of that many consecutive windows, so a moderate rise on a small key is seen too. The baseline
    of a key is an exponentially weighted mean and variance of its own past windows.
    """

    windows: tuple[Duration, ...] = Field(
        default=(timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)),
        min_length=1,
        description="Tumbling window first, then longer scans, each a multiple of the first.",
    )
    half_life: Duration = Field(
        default=timedelta(hours=12),
        description="Age at which a window weighs half in the baseline.",
    )
    open_score: float = Field(
        default=4.0, gt=0, le=15, description="-log10 of the tail probability that opens a surge."
    )
    stay_score: float = Field(
        default=2.0, gt=0, le=15, description="-log10 p that still counts as 'high' once open."
    )
    min_count: int = Field(default=5, ge=1, description="Fewer contacts in a window never open.")
    min_ratio: float = Field(
        default=2.0, ge=1, description="Count / expected below this never opens."
    )
    growth: float = Field(
        default=1.5, gt=1, description="Announce growth when a window reaches this x the last."
    )
    close_after: int = Field(
        default=4, ge=1, le=1000, description="Windows without a high count that close a surge."
    )
    cooldown: int = Field(
        default=4, ge=0, le=1000, description="Windows after a close in which no surge opens."
    )
    warmup: Duration = Field(
        default=timedelta(days=1), description="A key younger than this is judged as a new key."
    )
    new_key_prior: float = Field(
        default=0.2, gt=0, description="Expected contacts per window of a key with no history."
    )
    min_expected: float = Field(
        default=0.02, gt=0, description="Floor of any expected count per window."
    )
    dispersion: float = Field(
        default=2.5,
        ge=1,
        le=100,
        description="Variance floor as a multiple of the mean: complaints come in clusters.",
    )
    clip_sd: float = Field(
        default=3.0, gt=0, description="A window folds into the baseline at most this many sd up."
    )
    daily_profile: tuple[float, ...] | None = Field(
        default=None,
        description="24 relative hourly weights (local time) of all negative contacts; None: off.",
    )
    profile_half_life: Duration | None = Field(
        default=timedelta(days=7),
        description="Memory of each key's own daily rhythm (None: one level all day).",
    )
    profile_prior: float = Field(
        default=20.0,
        gt=0,
        description="Pseudo-contacts per hour pulling a key's rhythm to daily_profile (or flat).",
    )
    timezone: str = "Asia/Shanghai"
    dimensions: tuple[SurgeDimension, ...] = Field(default=_ALL_DIMENSIONS, min_length=1)
    tier: TierNumber = Field(
        default=2, description="Response tier of a surge alert (2: owner, fix, review in 24 h)."
    )
    negative_shipment_statuses: tuple[ShipmentStatus, ...] = Field(
        default=(ShipmentStatus.DELAYED, ShipmentStatus.EXCEPTION, ShipmentStatus.LOST),
        description="Shipment changes without text that count as negative contacts.",
    )
    keyword_slots: int = Field(
        default=32, ge=1, le=1000, description="Distinct keywords tracked per key and window."
    )
    top_keywords: int = Field(default=5, ge=1, le=50)
    examples: int = Field(
        default=3, ge=0, le=20, description="Masked example texts kept per key and window."
    )
    example_chars: int = Field(
        default=140, ge=20, le=1000, description="Example texts are shortened to this length."
    )
    new_key_history: Duration = Field(
        default=timedelta(days=1),
        description=(
            "Day-one quiet: a key with no history of its own (a new key) opens an incident on "
            "its own only once kesu has watched for this long (since the first window of any "
            "key it has heard of); before that it can only join an incident an established key "
            "opened. 0s: new keys always may."
        ),
    )
    specificity: tuple[SurgeDimension, ...] = Field(
        default=("sku", "batch", "product", "carrier", "region", "category", "channel"),
        description="Most specific first: an incident is named by the most specific key that "
        "explains it (SKU ⊂ batch ⊂ product; a carrier or region before a whole category).",
    )
    explain_share: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="A key explains an incident when its contacts cover this share of the "
        "incident's members; the most specific such key names it.",
    )

    @field_validator("windows")
    @classmethod
    def _windows_multiples(cls, value: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        if any(w.total_seconds() <= 0 for w in value):
            raise ValueError("every window must be longer than zero")
        if list(value) != sorted(set(value)):
            raise ValueError("windows must be ascending and distinct")
        base = value[0].total_seconds()
        if base != int(base):
            raise ValueError("the first window must be a whole number of seconds")
        for window in value[1:]:
            multiple = window.total_seconds() / base
            if multiple != int(multiple) or multiple > 16:
                raise ValueError("each longer window must be 2-16 times the first")
        return value

    @field_validator("half_life", "warmup")
    @classmethod
    def _positive_duration(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("daily_profile")
    @classmethod
    def _hourly_weights(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if len(value) != 24 or any(not 0 < w < float("inf") for w in value):
            raise ValueError("must be 24 positive hourly weights (00:00-01:00 first)")
        mean = sum(value) / 24
        return tuple(w / mean for w in value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("dimensions")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("dimensions must be distinct")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.stay_score > self.open_score:
            raise ValueError("stay_score: must not exceed open_score (hysteresis)")
        if self.half_life < self.windows[0]:
            raise ValueError("half_life: must be at least one window")
        if self.profile_half_life is not None and self.profile_half_life < timedelta(days=1):
            raise ValueError("profile_half_life: a daily rhythm needs at least a day of memory")
        if set(self.specificity) != set(_ALL_DIMENSIONS) or len(self.specificity) != len(
            _ALL_DIMENSIONS
        ):
            raise ValueError("specificity: must rank every dimension exactly once")
        if self.new_key_history.total_seconds() < 0:
            raise ValueError("new_key_history: must not be negative")
        return self

    def specificity_rank(self, dimension: str) -> int:
        """0 for the most specific dimension."""
        ranked: list[str] = list(self.specificity)
        return ranked.index(dimension)

    @property
    def window_seconds(self) -> int:
        return int(self.windows[0].total_seconds())

    @property
    def scan_lengths(self) -> tuple[int, ...]:
        """Each scanned window as a number of tumbling windows: (1, 2, 4) for 15m, 30m, 1h."""
        base = self.windows[0].total_seconds()
        return tuple(int(w.total_seconds() // base) for w in self.windows)


# -- proactive signals: logistics delays and churn (issue #6) --------------------------------


class DelayBucket(Frozen):
    """One delay bucket and the compensation it earns (seed 003's e-commerce case)."""

    id: RuleId
    label: str = Field(min_length=1, description="Chinese label, e.g. 延误 24 小时内.")
    up_to: Duration | None = Field(
        description="Delays shorter than this fall in the bucket; null: no upper bound (last)."
    )
    coupon_yuan: int = Field(ge=0, description="Coupon value in 元 (not 分).")
    dedicated_agent: bool = Field(
        default=False, description="Also assign a dedicated agent (专属客服): the emotional rung."
    )


class WavePolicy(Frozen):
    """A logistics wave: many orders of one region x carrier delayed at once (issue #16).

    One parent alert stands for them (the orders' own alerts become its members), so a hub
    outage is one incident to handle with the carrier, not one push per parcel.
    """

    min_orders: int = Field(
        default=5, ge=2, le=10_000, description="Orders of one region x carrier that open a wave."
    )
    within: Duration = Field(
        default=timedelta(hours=2), description="…whose delays began within this long."
    )
    tier: Tier = Field(default=2, description="An owner to work with the carrier, within 24 h.")
    actions: tuple[str, ...] = Field(
        default=("联系承运商核实", "批量发放延误补偿"),
        description="What the wave's alert asks for (shown as its compensation actions).",
    )

    @field_validator("within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be longer than zero")
        return value


class LogisticsPolicy(Frozen):
    """When a shipment becomes a proactive alert, at which tier, and what it is compensated."""

    buckets: tuple[DelayBucket, ...] = Field(
        min_length=1, description="Ascending by up_to; only the last has no bound."
    )
    tiers: dict[ShipmentStatus, Tier] = Field(
        description="Tier per status class: delayed (any predicted delay), exception, lost."
    )
    status_actions: dict[ShipmentStatus, tuple[str, ...]] = Field(
        default_factory=dict, description="Extra actions for a status, e.g. lost: [补发或退款]."
    )
    wave: WavePolicy = Field(default_factory=WavePolicy)
    forget_after: Duration = Field(
        default=timedelta(days=45),
        description=(
            "An order silent this long is forgotten: the orders changelog deletes it, so the "
            "topic (and a new worker's recovery) stays bounded. Longer than every bucket bound."
        ),
    )

    @field_validator("buckets")
    @classmethod
    def _ascending(cls, buckets: tuple[DelayBucket, ...]) -> tuple[DelayBucket, ...]:
        bounds = [b.up_to for b in buckets]
        if bounds[-1] is not None:
            raise ValueError("the last bucket must have no upper bound (up_to: null)")
        finite = [b for b in bounds[:-1] if b is not None]
        if len(finite) != len(bounds) - 1:
            raise ValueError("only the last bucket may have no upper bound")
        if any(b.total_seconds() <= 0 for b in finite) or finite != sorted(set(finite)):
            raise ValueError("up_to bounds must be positive, ascending and distinct")
        ids = [b.id for b in buckets]
        if len(set(ids)) != len(ids):
            raise ValueError("bucket ids must be unique")
        return buckets

    @field_validator("tiers")
    @classmethod
    def _every_class(cls, tiers: dict[ShipmentStatus, Tier]) -> dict[ShipmentStatus, Tier]:
        wanted = {ShipmentStatus.DELAYED, ShipmentStatus.EXCEPTION, ShipmentStatus.LOST}
        if set(tiers) != wanted:
            raise ValueError("must give a tier for exactly delayed, exception and lost")
        return tiers

    @model_validator(mode="after")
    def _remembered_past_every_bucket(self) -> Self:
        bounds = [b.up_to for b in self.buckets if b.up_to is not None]
        longest = max(bounds, default=timedelta(0))
        if self.forget_after <= longest + timedelta(days=1):
            raise ValueError(
                "forget_after must exceed the largest bucket bound by more than a day: an "
                "order must not be forgotten before its last overdue check"
            )
        return self

    def bucket_for(self, delay: timedelta) -> DelayBucket:
        """The bucket a delay falls in (the first whose bound it stays under)."""
        for bucket in self.buckets:
            if bucket.up_to is None or delay < bucket.up_to:
                return bucket
        return self.buckets[-1]


def _default_logistics() -> LogisticsPolicy:
    return LogisticsPolicy(
        buckets=(
            DelayBucket(
                id="delay-under-24h",
                label="延误 24 小时内",
                up_to=timedelta(hours=24),
                coupon_yuan=10,
            ),
            DelayBucket(
                id="delay-24-48h",
                label="延误 24–48 小时",
                up_to=timedelta(hours=48),
                coupon_yuan=20,
            ),
            DelayBucket(
                id="delay-over-48h",
                label="延误超过 48 小时",
                up_to=None,
                coupon_yuan=50,
                dedicated_agent=True,
            ),
        ),
        tiers={ShipmentStatus.DELAYED: 3, ShipmentStatus.EXCEPTION: 1, ShipmentStatus.LOST: 1},
    )


class ChurnPolicy(Frozen):
    """When a customer's activity says they are leaving (seed 003's SaaS case)."""

    silence: Duration = Field(
        default=timedelta(days=7), description="No login for this long is a churn signal."
    )
    week: Duration = Field(
        default=timedelta(days=7),
        description="The feature-use comparison window (weeks start Monday 00:00 Beijing time).",
    )
    feature_drop: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Feature use down by at least this fraction, week over week, is a signal.",
    )
    min_baseline_uses: int = Field(
        default=5, ge=1, description="Fewer uses in the earlier week never count as a drop."
    )
    require: Literal["any", "all"] = Field(
        default="any", description="any: either rule raises the signal; all: both must hold."
    )
    tier: Tier = 3

    @field_validator("silence", "week")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 1:
            raise ValueError("must be at least one second")
        if value.total_seconds() != int(value.total_seconds()):
            raise ValueError("must be a whole number of seconds")
        return value


# -- parent incidents: surges and logistics waves that absorb their members (issue #16) ------


ParentKind = Literal["surge", "logistics_wave"]


def _default_on_resolve() -> dict[ParentKind, ParentOutcome]:
    return {"surge": ParentOutcome.HAND_BACK, "logistics_wave": ParentOutcome.RESOLVE}


class GroupingPolicy(Frozen):
    """How parent incidents list their members and what resolving them does to the members."""

    max_members: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Member cases, events and orders listed on a parent (member_count counts "
        "all). Members past it are not held back by the parent nor resolved with it.",
    )
    examples: int = Field(default=3, ge=0, le=20, description="Masked member texts shown.")
    window_members: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Contacts of one window a surge key keeps to list when it opens (later "
        "ones it reports one by one); bounds the surge table's entries.",
    )
    on_resolve: dict[ParentKind, ParentOutcome] = Field(
        default_factory=_default_on_resolve,
        description="What a person resolving the parent does to its members: resolve them "
        "with it, or hand them back to their own handling. Closing a parent (or a surge "
        "going quiet) always hands back.",
    )

    @field_validator("on_resolve")
    @classmethod
    def _every_kind(cls, value: dict[ParentKind, ParentOutcome]) -> dict[ParentKind, ParentOutcome]:
        missing = {"surge", "logistics_wave"} - set(value)
        if missing:
            raise ValueError(f"must say what happens for {', '.join(sorted(missing))}")
        return value


# -- emerging issues: same-issue texts of many customers (issue #18; complaints/emerging_*) ---


class EmergingPolicy(Frozen):
    """When same-issue texts of many customers, linked by no batch, SKU or region key, become
    one emerging-issue parent (新问题). How texts are read and grouped is the grouping
    lexicon's (complaints/lexicons/grouping.yaml); when a group is an issue is decided here."""

    enabled: bool = Field(default=True, description="false: the grouping stage ignores voices.")
    open_customers: int = Field(
        default=5,
        ge=2,
        le=10_000,
        description="Distinct customers within `window` that make a group an emerging issue.",
    )
    window: Duration = Field(
        default=timedelta(hours=1), description="Customers counted toward opening (and growth)."
    )
    growth: float = Field(
        default=2.0,
        gt=1,
        le=100,
        description="The issue is announced again (title, count) at this many times the "
        "customers last announced; its members join one by one in between.",
    )
    quiet_after: Duration = Field(
        default=timedelta(hours=2),
        description="The parent closes (its members handed back) when no new customer joined "
        "for this long, judged at the next voice the stage reads.",
    )
    tier: Tier = Field(default=2, description="An owner, a fix and a review within 24 h.")
    rule_id: RuleId = Field(default="emerging-issue", description="The parent's rule.")
    on_resolve: ParentOutcome = Field(
        default=ParentOutcome.HAND_BACK,
        description="What a person resolving the parent does to its members (each complaint "
        "still needs its own closed loop).",
    )
    member_tail: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Contacts a group not yet an issue keeps to list when it opens (bounds "
        "every group's entry; later ones join one by one).",
    )
    keyed_by: tuple[SurgeDimension, ...] = Field(
        default=("sku", "batch", "product"),
        description="Keys that name a cause on their own: when most of an issue's customers "
        "share one (a batch), it is the surge detector's to judge, and the issue waits "
        "`keyed_grace` for a surge to claim its customers before it opens by itself.",
    )
    keyed_grace: Duration = Field(
        default=timedelta(hours=1),
        description="How long a keyed issue waits for a surge (the surge's longest window).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.window.total_seconds() < 60 or self.window > timedelta(days=7):
            raise ValueError("window: must be between 1 minute and 7 days")
        if self.quiet_after.total_seconds() < 60:
            raise ValueError("quiet_after: must be at least 1 minute")
        if self.keyed_grace.total_seconds() < 0:
            raise ValueError("keyed_grace: must not be negative")
        if self.member_tail < self.open_customers:
            raise ValueError(
                "member_tail: a group must keep at least open_customers contacts to open"
            )
        return self


# -- notification: inhibition and on-call (issue #16; notify/) -------------------------------


class InhibitRule(Frozen):
    """Alertmanager's inhibition, for complaint streams: while an open alert matches
    `source_matchers`, alerts matching `target_matchers` are not pushed (still recorded and
    shown, with "inhibited by"), if they also share every `equal` label (present and equal on
    both) and, with `members: true`, their case is a member of the source's incident.
    """

    id: RuleId
    source_matchers: tuple[Matcher, ...] = Field(min_length=1)
    target_matchers: tuple[Matcher, ...] = ()
    equal: tuple[str, ...] = ()
    members: bool = Field(
        default=False,
        description="true: the target's case is one of the source incident's members "
        "(Alert.group.member_case_keys).",
    )
    description: str = ""

    @field_validator("equal")
    @classmethod
    def _known_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return known_label_names(value)

    @model_validator(mode="after")
    def _narrow(self) -> Self:
        if not (self.target_matchers or self.equal or self.members):
            raise ValueError(
                "a rule needs target_matchers, equal or members: it would inhibit every alert"
            )
        return self


Mobile = Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$")]
PlatformUserId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:-]+$")]


class OnCallPerson(Frozen):
    """Someone on a rotation, with the ids each chat platform @-mentions them by."""

    name: str = Field(min_length=1, max_length=32, description="Shown in messages, e.g. 王芳.")
    wecom: PlatformUserId | None = Field(default=None, description="企业微信 userid.")
    dingtalk: PlatformUserId | None = Field(default=None, description="钉钉 userid.")
    feishu: PlatformUserId | None = Field(default=None, description="飞书 open_id or user_id.")
    mobile: Mobile | None = Field(
        default=None, description="Staff mobile: DingTalk can @ by it (WeCom/Feishu cards cannot)."
    )


class ShiftOverride(Frozen):
    """A swapped shift (调班): `person` is on duty from `starts` to `ends` instead."""

    starts: datetime
    ends: datetime
    person: str

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if (self.starts.tzinfo is None) != (self.ends.tzinfo is None):
            raise ValueError("write starts and ends both with an offset, or both without")
        if self.ends <= self.starts:
            raise ValueError("ends must be later than starts")
        return self


class Rotation(Frozen):
    """Who is on duty at one escalation level: `people` take turns of `every`, from `start`."""

    level: int = Field(ge=0, description="Index into escalation.levels (0 = the front line).")
    start: datetime = Field(
        description="When the first person's first shift begins; without an offset it is "
        "local time in on_call.timezone."
    )
    every: Duration = Field(description="Length of one shift, e.g. 1d or 12h.")
    people: tuple[str, ...] = Field(min_length=1, description="Keys of on_call.people, in turn.")
    overrides: tuple[ShiftOverride, ...] = ()

    @field_validator("every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 60:
            raise ValueError("a shift lasts at least a minute")
        return value


class OnCall(Frozen):
    """值班表: rotations per escalation level; an escalation @-mentions whoever is on duty."""

    timezone: str = "Asia/Shanghai"
    people: dict[str, OnCallPerson] = Field(default_factory=dict)
    rotations: tuple[Rotation, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        levels = [r.level for r in self.rotations]
        if len(set(levels)) != len(levels):
            raise ValueError("rotations: one rotation per level")
        for index, rotation in enumerate(self.rotations):
            named = [*rotation.people, *(o.person for o in rotation.overrides)]
            unknown = sorted({p for p in named if p not in self.people})
            if unknown:
                raise ValueError(
                    f"rotations.{index}: unknown people {', '.join(unknown)} (add them to people)"
                )
        return self


# -- the book --------------------------------------------------------------------------------


class RuleBook(Frozen):
    version: str = Field(min_length=1)
    tiers: dict[Tier, TierPolicy]
    calendars: dict[str, CalendarSpec]
    tier_rules: tuple[TierRule, ...] = Field(min_length=1)
    incidents: Incidents
    escalation: Escalation
    follow_up: FollowUpRule
    compensation: CompensationPolicy
    surge: SurgePolicy = Field(default_factory=SurgePolicy)
    logistics: LogisticsPolicy = Field(default_factory=_default_logistics)
    churn: ChurnPolicy = Field(default_factory=ChurnPolicy)
    grouping: GroupingPolicy = Field(default_factory=GroupingPolicy)
    emerging: EmergingPolicy = Field(default_factory=EmergingPolicy)
    inhibit_rules: tuple[InhibitRule, ...] = ()
    on_call: OnCall = Field(default_factory=OnCall)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [rule.id for rule in self.tier_rules] + [rule.id for rule in self.compensation.rules]
        ids += [bucket.id for bucket in self.logistics.buckets]
        ids += [rule.id for rule in self.inhibit_rules]
        ids += [self.emerging.rule_id]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicates)}")
        if set(self.tiers) != {1, 2, 3}:
            raise ValueError("tiers must define 1, 2 and 3")
        for index, rotation in enumerate(self.on_call.rotations):
            if rotation.level >= len(self.escalation.levels):
                raise ValueError(
                    f"on_call.rotations.{index}.level: no escalation level {rotation.level} "
                    f"(escalation.levels has {len(self.escalation.levels)})"
                )
        for tier, policy in self.tiers.items():
            for kind, clock in policy.clocks.items():
                if clock.calendar not in self.calendars:
                    raise ValueError(
                        f"tiers.{tier}.clocks.{kind.value}.calendar: no calendar named {clock.calendar!r}"
                    )
        return self

    def clock_rule(self, tier: int, kind: ClockKind) -> ClockRule | None:
        return self.tiers[tier].clocks.get(kind)  # type: ignore[index]


class RulesError(ValueError):
    """A rules file that cannot be used; `problems` are 'field.path: message' lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def parse_rules(text: str, source: str = "<rules>") -> RuleBook:
    """A RuleBook from YAML text, or RulesError naming every bad field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(source, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise RulesError(source, ["the file must be a mapping (version:, tiers:, tier_rules:, …)"])
    try:
        return RuleBook.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise RulesError(source, problems) from exc


def load_rules(path: Path | None = None) -> RuleBook:
    """The rule book in `path`, or the shipped default (read once)."""
    if path is None:
        return _default_rules()
    return parse_rules(path.read_text(encoding="utf-8"), str(path))


@cache
def _default_rules() -> RuleBook:
    return parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"), str(DEFAULT_RULES))
