"""What a surge alert shows: the contacts of one key and window, summarised in bounded space.

Pure. `SurgeSample` is the value of the windowed table: the count of negative contacts, the
keywords that drove them (space-saving counters, at most `keyword_slots`, so the top ones are
right even on a huge key), up to `examples` masked texts, the most intense first, and the
window's first members (case and event, at most `max_members`) that a surge's incident absorbs.
`summarize_surge` turns a verdict and its sample into what the alert says.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from complaints.rules import SurgePolicy
from complaints.surge import SurgeKey, SurgeSignal, Verdict
from streams.records import (
    CATEGORY_LABELS,
    SOURCE_LABELS,
    AssessedEvent,
    Category,
    GroupMember,
    Source,
    SurgeContact,
)

#: (case key, event id, epoch seconds, intensity, its surge keys) of one contact in a window.
Member = tuple[str, str, int, int, tuple[str, ...]]

#: Chinese labels of the dimensions, for alert texts and the dashboard.
DIMENSION_LABELS: dict[str, str] = {
    "product": "产品",
    "sku": "SKU",
    "batch": "批次",
    "category": "类别",
    "region": "地区",
    "carrier": "承运商",
    "channel": "渠道",
}


def key_label(dimension: str, value: str) -> str:
    """A surge key as operators read it: 批次 B2511-07, 类别 物流, 渠道 社交媒体."""
    shown = value
    if dimension == "category" and value in Category.__members__.values():
        shown = CATEGORY_LABELS[Category(value)]
    elif dimension == "channel" and value in Source.__members__.values():
        shown = SOURCE_LABELS[Source(value)]
    return f"{DIMENSION_LABELS.get(dimension, dimension)} {shown}"


@dataclass(frozen=True, slots=True)
class SurgeSample:
    """Negative contacts of one key in one window: count, keyword counters, example texts."""

    count: int = 0
    keywords: tuple[tuple[str, int], ...] = ()  # (keyword, count), at most keyword_slots
    examples: tuple[tuple[int, str], ...] = ()  # (intensity, masked text), most intense first
    members: tuple[Member, ...] = ()  # the window's first contacts, at most max_members

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SurgeSample:
        """The sample `to_json` wrote (also one written before members were kept)."""
        data = json.loads(text)
        return cls(
            count=int(data["count"]),
            keywords=tuple((str(k), int(n)) for k, n in data["keywords"]),
            examples=tuple((int(i), str(t)) for i, t in data["examples"]),
            members=tuple(
                (str(c), str(e), int(t), int(i), tuple(str(k) for k in keys))
                for c, e, t, i, keys in data.get("members", ())
            ),
        )

    def group_members(self) -> tuple[GroupMember, ...]:
        return tuple(member_of(m) for m in self.members)


def member_of(member: Member) -> GroupMember:
    case_key, event_id, at, intensity, keys = member
    return GroupMember(
        case_key=case_key,
        event_id=event_id,
        at=datetime.fromtimestamp(at, UTC),
        intensity=intensity,
        keys=keys,
    )


def surge_contact_of(
    event: AssessedEvent, keys: tuple[str, ...], policy: SurgePolicy
) -> SurgeContact:
    """What surge counting keeps of a negative contact counted toward `keys`."""
    score = event.assessment
    return SurgeContact(
        case_key=event.case_key,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        intensity=score.intensity if score is not None else 0,
        scored=score is not None,
        keywords=tuple(dict.fromkeys(score.keywords)) if score is not None else (),
        example=score.masked_text[: policy.example_chars] if score is not None else "",
        shipment_status=event.shipment_status,
        keys=keys,
    )


def member_from(contact: SurgeContact) -> Member:
    return (
        contact.case_key,
        contact.event_id,
        int(contact.occurred_at.timestamp()),
        contact.intensity,
        contact.keys,
    )


def add_to_sample(
    sample: SurgeSample, contact: SurgeContact, policy: SurgePolicy, max_members: int = 20
) -> SurgeSample:
    """Count one negative contact into its window's sample (the caller checked `surge_keys`).

    The window's first `max_members` contacts are kept (with every surge key each counts
    toward) to list them when the key opens; later ones are reported one by one.
    """
    keywords = sample.keywords
    examples = sample.examples
    members = sample.members
    if len(members) < max_members:
        members = (*members, member_from(contact))
    if contact.scored:
        for word in contact.keywords:
            keywords = _count_keyword(keywords, word, policy.keyword_slots)
        text = contact.example[: policy.example_chars]
        if policy.examples and text and all(text != t for _, t in examples):
            ranked = sorted(
                (*examples, (contact.intensity, text)), key=lambda e: -e[0]
            )  # stable: among equals, the earlier contact stays
            examples = tuple(ranked[: policy.examples])
    elif contact.shipment_status is not None:
        keywords = _count_keyword(keywords, contact.shipment_status.value, policy.keyword_slots)
    return SurgeSample(sample.count + 1, keywords, examples, members)


def _count_keyword(
    counters: tuple[tuple[str, int], ...], word: str, slots: int
) -> tuple[tuple[str, int], ...]:
    """Space-saving: a full table gives the least-counted slot to the new word, +1."""
    for position, (known, n) in enumerate(counters):
        if known == word:
            return (*counters[:position], (word, n + 1), *counters[position + 1 :])
    if len(counters) < slots:
        return (*counters, (word, 1))
    position = min(range(len(counters)), key=lambda i: counters[i][1])
    return (*counters[:position], (word, counters[position][1] + 1), *counters[position + 1 :])


def top_keywords(sample: SurgeSample, policy: SurgePolicy) -> tuple[str, ...]:
    ranked = sorted(sample.keywords, key=lambda kn: (-kn[1], kn[0]))
    return tuple(word for word, _ in ranked[: policy.top_keywords])


@dataclass(frozen=True, slots=True)
class SurgeSummary:
    """What a surge alert says about a key: how far above its baseline, about what, examples."""

    key: SurgeKey
    signal: SurgeSignal
    opened_at: datetime | None
    window_start: datetime
    count: int  # contacts in the scan that decided
    expected: float
    ratio: float
    score: float
    scan_minutes: int
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    detail: str  # one line for people, in Chinese


def summarize_surge(
    key: SurgeKey,
    verdict: Verdict,
    sample: SurgeSample,
    window_start: datetime,
    policy: SurgePolicy,
) -> SurgeSummary:
    """The alert-facing summary of a verdict on `key`, with its window's sample."""
    minutes = verdict.scan * policy.window_seconds // 60
    detail = (
        f"{key_label(key.dimension, key.value)}：{minutes} 分钟内 {verdict.count} 条负面反馈，"
        f"基线预期 {verdict.expected:.1f} 条（{verdict.ratio:.1f} 倍）"
    )
    return SurgeSummary(
        key=key,
        signal=verdict.signal,
        opened_at=verdict.opened_at,
        window_start=window_start,
        count=verdict.count,
        expected=verdict.expected,
        ratio=verdict.ratio,
        score=verdict.score,
        scan_minutes=minutes,
        keywords=top_keywords(sample, policy),
        examples=tuple(text for _, text in sample.examples),
        detail=detail,
    )
