"""Every row of domain.md's tier table, as the shipped rules decide it."""

from __future__ import annotations

from typing import Any

import pytest

from complaints.rules import load_rules
from complaints.tiers import assign_tier
from streams.records import Category, Emotion, Intent, ShipmentStatus, Source
from tests.factories import make_assessed

RULES = load_rules()

# (what the row of the table says, contact fields, expected tier, expected rule)
ROWS: list[tuple[str, dict[str, Any], int | None, str | None]] = [
    ("anger", {"emotion": Emotion.ANGER, "category": Category.SERVICE_ATTITUDE}, 1, "anger"),
    ("high intensity", {"emotion": Emotion.ANXIETY, "intensity": 85}, 1, "high-intensity"),
    (
        "escalation threat",
        {"threats": ("12315",), "emotion": Emotion.DISAPPOINTMENT},
        1,
        "escalation-threat",
    ),
    (
        "demand (issue #18: 退一赔三, 给个说法)",
        {"demands": ("赔偿",), "emotion": Emotion.DISAPPOINTMENT},
        1,
        "escalation-demand",
    ),
    ("repeat complainant (text)", {"repeat_contact": True}, 1, "repeat-contact"),
    # Shipment changes without text open no alert here: the logistics tracker raises them
    # (tier 1 for lost and exception, complaints/logistics.py), so a lost parcel is one alert.
    (
        "lost parcel (tracker's job)",
        {"assessment": None, "source": Source.LOGISTICS, "shipment_status": ShipmentStatus.LOST},
        None,
        None,
    ),
    (
        "carrier exception (tracker's job)",
        {
            "assessment": None,
            "source": Source.LOGISTICS,
            "shipment_status": ShipmentStatus.EXCEPTION,
        },
        None,
        None,
    ),
    (
        "product fault",
        {"category": Category.PRODUCT_QUALITY, "emotion": Emotion.NEUTRAL},
        2,
        "product-fault",
    ),
    (
        "process defect",
        {"category": Category.SERVICE_PROCESS, "emotion": Emotion.NEUTRAL},
        2,
        "process-defect",
    ),
    (
        "after-sales failure",
        {"category": Category.AFTER_SALES, "emotion": Emotion.ANXIETY},
        2,
        "after-sales-failure",
    ),
    (
        "helplessness",
        {"emotion": Emotion.HELPLESSNESS, "category": Category.COMMUNICATION},
        2,
        "no-owner",
    ),
    (
        "disappointment",
        {"emotion": Emotion.DISAPPOINTMENT, "category": Category.PRICE},
        3,
        "disappointment",
    ),
    ("apathy", {"emotion": Emotion.APATHY, "category": Category.OTHER}, 3, "apathy"),
    (
        "other negative",
        {"emotion": Emotion.ANXIETY, "category": Category.LOGISTICS},
        3,
        "negative-other",
    ),
    (
        "praise",
        {
            "emotion": Emotion.POSITIVE,
            "negative": False,
            "negativity": 0.1,
            "category": Category.OTHER,
        },
        None,
        None,
    ),
    (
        "enquiry without negative content",
        {
            "intent": Intent.ENQUIRY,
            "emotion": Emotion.NEUTRAL,
            "negative": False,
            "negativity": 0.2,
            "intensity": 5,
            "category": Category.LOGISTICS,
        },
        None,
        None,
    ),
    (
        "delivered parcel",
        {
            "assessment": None,
            "source": Source.LOGISTICS,
            "shipment_status": ShipmentStatus.DELIVERED,
        },
        None,
        None,
    ),
    (
        "most urgent wins",
        {"emotion": Emotion.ANGER, "category": Category.PRODUCT_QUALITY},
        1,
        "anger",
    ),
]


@pytest.mark.parametrize(("row", "fields", "tier", "rule_id"), ROWS, ids=[row[0] for row in ROWS])
def test_tier_table_row(
    row: str, fields: dict[str, Any], tier: int | None, rule_id: str | None
) -> None:
    decision = assign_tier(make_assessed(**dict(fields)), RULES)
    if tier is None:
        assert decision is None
    else:
        assert decision is not None and (decision.tier, decision.rule_id) == (tier, rule_id)


def test_every_shipped_rule_has_a_row() -> None:
    assert {rule.id for rule in RULES.tier_rules} <= {row[3] for row in ROWS if row[3]}


def test_the_cues_that_made_the_rule_fire_are_kept() -> None:
    from streams.records import Cue

    cues = (
        Cue(kind="threat", term="12315", weight=2.0),
        Cue(kind="negative_term", term="慢", weight=0.4),
    )
    decision = assign_tier(make_assessed(threats=("12315",), cues=cues), RULES)
    assert decision is not None
    assert [cue.term for cue in decision.why] == ["12315"]


def test_a_term_matched_twice_is_shown_once() -> None:
    from streams.records import Cue

    cues = (
        Cue(kind="emotion", term="说好的", label="disappointment", weight=0.8),
        Cue(kind="emotion", term="说好的", label="disappointment", weight=0.5),
        Cue(kind="emotion", term="失望", label="disappointment", weight=0.6),
    )
    decision = assign_tier(make_assessed(emotion=Emotion.DISAPPOINTMENT, cues=cues), RULES)
    assert decision is not None
    assert [(c.term, c.weight) for c in decision.why] == [("说好的", 0.8), ("失望", 0.6)]


def test_a_demand_is_explained_by_its_cue() -> None:
    from streams.records import Cue

    cues = (
        Cue(kind="demand", term="退一赔三", label="赔偿", weight=1.0),
        Cue(kind="negative_term", term="假货", weight=-3.0),
    )
    decision = assign_tier(make_assessed(demands=("赔偿",), cues=cues), RULES)
    assert decision is not None and decision.rule_id == "escalation-demand"
    assert [cue.term for cue in decision.why] == ["退一赔三"]


def test_a_rule_can_test_the_intent() -> None:
    from complaints.rules import Condition, TierRule

    rules = RULES.model_copy(
        update={
            "tier_rules": [TierRule(id="asks", tier=3, when=Condition(intent=(Intent.ENQUIRY,)))]
        }
    )
    assert assign_tier(make_assessed(intent=Intent.ENQUIRY), rules) is not None
    assert assign_tier(make_assessed(intent=Intent.COMPLAINT), rules) is None
    assert assign_tier(make_assessed(), rules) is None  # scored before intents existed
