"""The sample feed (kesu/data/sample_feed.jsonl): valid, complete, and in sync with its generator.

The scenario assertions are deliberately concrete, so an edit that breaks a storyline the demo
relies on (delay wave, batch surge, repeat complainants, churn, masking) fails here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streams.codec import Limits, Rejection, check_event
from streams.records import Source

ROOT = Path(__file__).resolve().parents[2]
FEED = ROOT / "kesu" / "data" / "sample_feed.jsonl"
GENERATOR = ROOT / "deploy" / "samples" / "build_feed.py"

BASE = datetime.fromisoformat("2026-01-05T09:00:00+08:00")
NOW = BASE + timedelta(hours=3)

EMOTIONS = {"anger", "disappointment", "apathy", "anxiety", "helplessness", "neutral", "positive"}
CATEGORIES = {
    "product_quality",
    "service_attitude",
    "service_process",
    "after_sales",
    "communication",
    "price",
    "logistics",
    "other",
}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@#-]*$")

WAVE_REGION, WAVE_CARRIER = "华南-广州", "顺达快运"
SURGE = {"product": "星耀X5手机", "sku": "SX5-128G", "batch": "B2511-07"}
NEGATIVE = {"anger", "disappointment", "apathy", "anxiety", "helplessness"}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kesu_sample_build_feed", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def raw() -> str:
    return FEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lines(raw: str) -> list[dict[str, Any]]:
    return [json.loads(text) for text in raw.splitlines()]


def _at(line: dict[str, Any], field: str = "occurred_at") -> datetime:
    return datetime.fromisoformat(line["event"][field])


def _texts(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["source"] in ("call", "social")]


def _customer_texts(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        line for line in _texts(lines) if line["event"].get("speaker", "customer") == "customer"
    ]


def _of(lines: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["source"] == source]


def _text(line: dict[str, Any]) -> str:
    return str(line["event"]["text"])


# ---------------------------------------------------------------------------------------
# Format and validity
# ---------------------------------------------------------------------------------------


def test_file_matches_generator(raw: str) -> None:
    generator = _load_generator()
    assert generator.build_feed() == raw, "run `.venv/bin/python deploy/samples/build_feed.py`"
    assert generator.build_feed() == generator.build_feed()


def test_every_line_is_a_utf8_json_object_with_the_expected_shape(raw: str) -> None:
    assert raw.endswith("\n")
    assert "\\u" not in raw, "written with ensure_ascii=False"
    for number, text in enumerate(raw.splitlines(), start=1):
        line = json.loads(text)
        assert set(line) == {"source", "event", "intent"}, number
        assert line["source"] in {s.value for s in Source}
        assert line["event"]["source"] == line["source"]
        assert set(line["intent"]) == {"emotion", "category", "scenario", "note"}
        assert line["intent"]["scenario"] and line["intent"]["note"]


def test_every_event_passes_the_projects_validator(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        result = check_event(Source(line["source"]), line["event"], NOW, Limits())
        assert not isinstance(result, Rejection), (line["event"]["event_id"], result)


def test_ids_are_unique_readable_and_valid(lines: list[dict[str, Any]]) -> None:
    ids = [line["event"]["event_id"] for line in lines]
    assert len(ids) == len(set(ids))
    prefix = {"call": "call-", "social": "post-", "logistics": "ship-", "activity": "act-"}
    for line in lines:
        event_id = line["event"]["event_id"]
        assert ID_PATTERN.match(event_id) and len(event_id) <= 128
        assert re.fullmatch(re.escape(prefix[line["source"]]) + r"\d{4}", event_id)
    post_ids = [line["event"]["post_id"] for line in _of(lines, "social")]
    assert len(post_ids) == len(set(post_ids))


def test_timestamps_are_absolute_beijing_time_inside_the_window(
    lines: list[dict[str, Any]],
) -> None:
    for line in lines:
        assert line["event"]["occurred_at"].endswith("+08:00")
        assert BASE <= _at(line) <= NOW
    for line in _of(lines, "logistics"):
        for field in ("promised_at", "estimated_at"):
            if field in line["event"]:
                assert line["event"][field].endswith("+08:00")
                assert abs(_at(line, field) - BASE) < timedelta(days=5)


def test_sorted_by_occurred_at_except_the_deliberate_late_update(
    lines: list[dict[str, Any]],
) -> None:
    in_order = [_at(line) for line in lines if line["intent"]["scenario"] != "out_of_order"]
    assert in_order == sorted(in_order)


def test_intent_labels(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        intent = line["intent"]
        if line["source"] in ("call", "social"):
            assert intent["emotion"] in EMOTIONS and intent["category"] in CATEGORIES
        else:
            assert intent["emotion"] is None and intent["category"] is None


# ---------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------


def test_counts_per_source(lines: list[dict[str, Any]]) -> None:
    counts = Counter(line["source"] for line in lines)
    assert 280 <= len(lines) <= 340
    assert 80 <= counts["call"] <= 100
    assert 70 <= counts["social"] <= 90
    assert 70 <= counts["logistics"] <= 90
    assert 50 <= counts["activity"] <= 70


def test_every_emotion_and_category_is_covered(lines: list[dict[str, Any]]) -> None:
    customer = _customer_texts(lines)
    emotions = Counter(line["intent"]["emotion"] for line in customer)
    categories = Counter(line["intent"]["category"] for line in customer)
    assert set(emotions) == EMOTIONS and min(emotions.values()) >= 8, emotions
    assert set(categories) == CATEGORIES and min(categories.values()) >= 6, categories


def test_intensity_cues(lines: list[dict[str, Any]]) -> None:
    texts = [_text(line) for line in _customer_texts(lines)]

    def count(*cues: str) -> int:
        return sum(any(cue in text for cue in cues) for text in texts)

    assert count("！！", "？？", "‼") >= 5
    assert count("太", "简直", "气死", "真的") >= 10
    assert count("12315") >= 3
    for threat in ("投诉", "曝光", "律师", "差评", "退款", "媒体"):
        assert count(threat) >= 1, threat
    assert count("等了") >= 3
    assert count("又", "再次", "第三次", "第四次", "多次") >= 8
    assert count("你们") >= 20 and count("您") >= 5


def test_call_details(lines: list[dict[str, Any]]) -> None:
    calls = _of(lines, "call")
    rates = [line["event"]["speech_rate"] for line in calls if "speech_rate" in line["event"]]
    assert sum(3 <= r <= 5 for r in rates) >= 15
    assert sum(6 <= r <= 8 for r in rates) >= 10
    assert any("speech_rate" not in line["event"] for line in calls)
    agents = [line for line in calls if line["event"]["speaker"] == "agent"]
    assert len(agents) >= 10
    assert all(line["intent"]["emotion"] in ("neutral", "positive") for line in agents)
    transcripts = [line for line in calls if line["event"]["segment"] == "transcript"]
    assert len(transcripts) >= 3
    for line in transcripts:
        assert _text(line).count("\n") >= 4 and len(_text(line)) >= 200
    by_call = Counter(line["event"]["call_id"] for line in calls)
    assert sum(n >= 2 for n in by_call.values()) >= 10, "utterances grouped by call id"
    customers_per_call = defaultdict(set)
    for line in calls:
        customers_per_call[line["event"]["call_id"]].add(line["event"]["customer_id"])
    assert all(len(c) == 1 for c in customers_per_call.values())


def test_scorer_traps(lines: list[dict[str, Any]]) -> None:
    texts = "\n".join(_text(line) for line in _texts(lines))
    for trap in (
        "不是不满意",
        "虽然",
        "但是",
        "本来以为",
        "结果还不错",
        "也是醉了",
        "要的热的给的冰的",
        "不能说不好",
    ):
        assert trap in texts, trap
    assert sum(line["intent"]["scenario"] == "scorer_trap" for line in lines) >= 8


def test_social_reach_and_tags(lines: list[dict[str, Any]]) -> None:
    posts = [line["event"] for line in _of(lines, "social")]
    assert len({p["platform"] for p in posts}) >= 7
    followers = [p["author_followers"] for p in posts]
    assert min(followers) == 10 and max(followers) == 2_000_000
    viral = [p for p in posts if p["author_followers"] >= 1_000_000]
    assert len(viral) >= 2 and all(p["reposts"] >= 1000 for p in viral)
    assert sum("region" in p for p in posts) >= 30
    assert sum("product" in p for p in posts) >= 30
    assert len({p["product"] for p in posts if "product" in p}) >= 5


# ---------------------------------------------------------------------------------------
# Storylines
# ---------------------------------------------------------------------------------------


def test_repeat_complainants(lines: list[dict[str, Any]]) -> None:
    contacts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in _customer_texts(lines):
        customer = line["event"].get("customer_id")
        if customer:
            contacts[customer].append(line)
    repeaters = []
    for customer, items in contacts.items():
        # one contact = one call (several utterances) or one post
        keys = {(i["source"], i["event"].get("call_id") or i["event"]["event_id"]) for i in items}
        sources = {i["source"] for i in items}
        if len(keys) >= 3 and sources == {"call", "social"}:
            repeaters.append(customer)
            span = max(_at(i) for i in items) - min(_at(i) for i in items)
            assert span <= timedelta(hours=3)
    assert len(repeaters) >= 3, repeaters
    for customer in ("cust-0012", "cust-0027", "cust-0035", "cust-0041"):
        assert customer in repeaters
        items = sorted(contacts[customer], key=_at)
        assert items[0]["intent"]["emotion"] != items[-1]["intent"]["emotion"], "the emotion moves"
        assert items[-1]["intent"]["emotion"] in {"anger", "apathy", "helplessness"}


def test_delay_wave(lines: list[dict[str, Any]]) -> None:
    wave = [
        line
        for line in _of(lines, "logistics")
        if line["event"]["region"] == WAVE_REGION and line["event"]["carrier"] == WAVE_CARRIER
    ]
    first_problem: dict[str, dict[str, Any]] = {}
    for line in wave:
        if line["event"]["status"] in ("delayed", "exception", "lost"):
            first_problem.setdefault(line["event"]["order_id"], line)
    times = sorted(_at(line) for line in first_problem.values())
    assert len(times) >= 25
    assert times[-1] - times[0] <= timedelta(hours=1)
    statuses = Counter(line["event"]["status"] for line in first_problem.values())
    assert statuses["lost"] >= 2 and statuses["exception"] >= 3
    buckets = Counter()
    for line in first_problem.values():
        if "estimated_at" in line["event"]:
            delay = _at(line, "estimated_at") - _at(line, "promised_at")
            assert delay > timedelta(0)
            hours = delay.total_seconds() / 3600
            buckets["<24" if hours < 24 else "24-48" if hours <= 48 else ">48"] += 1
    assert all(buckets[b] >= 3 for b in ("<24", "24-48", ">48")), buckets
    delivered = {
        line["event"]["order_id"] for line in wave if line["event"]["status"] == "delivered"
    }
    assert len(delivered & set(first_problem)) >= 3
    for order in delivered:
        delivered_at = next(
            _at(item)
            for item in wave
            if item["event"]["order_id"] == order and item["event"]["status"] == "delivered"
        )
        assert delivered_at > _at(first_problem[order])
    # customers of wave orders complain later, linked by customer and order
    wave_orders = {
        line["event"]["order_id"]: (line["event"]["customer_id"], _at(line))
        for line in first_problem.values()
    }
    linked = {
        line["event"]["order_id"]
        for line in _customer_texts(lines)
        if line["event"].get("order_id") in wave_orders
        and line["event"].get("customer_id") == wave_orders[line["event"]["order_id"]][0]
        and _at(line) > wave_orders[line["event"]["order_id"]][1]
    }
    assert len(linked) >= 8
    assert {"call", "social"} <= {
        line["source"] for line in _customer_texts(lines) if line["event"].get("order_id") in linked
    }


def test_background_logistics_elsewhere(lines: list[dict[str, Any]]) -> None:
    other = [
        line["event"]
        for line in _of(lines, "logistics")
        if (line["event"]["region"], line["event"]["carrier"]) != (WAVE_REGION, WAVE_CARRIER)
    ]
    assert len(other) >= 25
    assert len({e["region"] for e in other}) >= 5 and len({e["carrier"] for e in other}) >= 4
    assert {"created", "shipped", "in_transit", "delivered"} <= {e["status"] for e in other}
    problems = [e for e in other if e["status"] in ("delayed", "exception", "lost")]
    assert len(problems) <= 3, "elsewhere, problems are scattered"


def test_out_of_order_status_change(lines: list[dict[str, Any]]) -> None:
    late = [
        (i, line) for i, line in enumerate(lines) if line["intent"]["scenario"] == "out_of_order"
    ]
    assert len(late) == 1
    index, line = late[0]
    assert line["event"]["status"] == "in_transit"
    delivered = [
        (i, item)
        for i, item in enumerate(lines[:index])
        if item["source"] == "logistics"
        and item["event"]["order_id"] == line["event"]["order_id"]
        and item["event"]["status"] == "delivered"
    ]
    assert delivered and _at(delivered[0][1]) > _at(line)


def test_batch_surge(lines: list[dict[str, Any]]) -> None:
    def about_batch(line: dict[str, Any]) -> bool:
        event = line["event"]
        if line["source"] == "social":
            return all(event.get(k) == v for k, v in SURGE.items())
        return "星耀X5" in event["text"]

    negative = sorted(
        _at(line)
        for line in _customer_texts(lines)
        if line["intent"]["scenario"] in ("batch_surge", "repeat_complainant")
        and about_batch(line)
        and line["intent"]["emotion"] in NEGATIVE
    )
    best = max(
        sum(1 for t in negative if start <= t <= start + timedelta(minutes=30))
        for start in negative
    )
    assert best >= 20
    social = [
        line
        for line in _of(lines, "social")
        if about_batch(line)
        and BASE + timedelta(minutes=90) <= _at(line) <= BASE + timedelta(minutes=120)
    ]
    assert len(social) >= 14
    defects = "".join(_text(line) for line in _texts(lines) if about_batch(line))
    for defect in ("发热", "黑屏", "自动重启", "充不进电"):
        assert defect in defects, defect
    # background: other products, scattered over the whole window
    others = [
        line
        for line in _customer_texts(lines)
        if line["source"] == "social"
        and line["event"].get("product")
        and line["event"].get("batch") != SURGE["batch"]
        and line["intent"]["emotion"] in NEGATIVE
    ]
    assert len({line["event"]["product"] for line in others}) >= 4
    spread = sorted(_at(line) for line in others)
    assert spread[-1] - spread[0] >= timedelta(hours=2)


def test_churn_signals(lines: list[dict[str, Any]]) -> None:
    activity = _of(lines, "activity")
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in activity:
        by_customer[line["event"]["customer_id"]].append(line)
    silent = {
        line["event"]["customer_id"]
        for line in activity
        if line["intent"]["scenario"] == "churn_silence"
    }
    dropping = {
        line["event"]["customer_id"]
        for line in activity
        if line["intent"]["scenario"] == "churn_usage_drop"
    }
    assert len(silent) >= 3 and len(dropping) >= 2
    cutoff = BASE + timedelta(minutes=75)
    for customer in silent:
        items = by_customer[customer]
        assert sum(i["event"]["kind"] == "login" for i in items) >= 3
        assert max(_at(i) for i in items) <= cutoff, customer
    for customer in dropping:
        uses = [i for i in by_customer[customer] if i["event"]["kind"] == "feature_use"]
        early = [i["event"]["count"] for i in uses if _at(i) < BASE + timedelta(minutes=90)]
        late = [i["event"]["count"] for i in uses if _at(i) >= BASE + timedelta(minutes=90)]
        assert early and late
        assert sum(late) / len(late) < 0.5 * sum(early) / len(early), customer
    healthy = set(by_customer) - silent - dropping
    assert len(healthy) >= 3
    for customer in healthy:
        assert max(_at(i) for i in by_customer[customer]) > BASE + timedelta(hours=2)
    complained_first = set()
    for line in _customer_texts(lines):
        customer = line["event"].get("customer_id")
        if customer in silent | dropping:
            signals = by_customer[customer]
            if _at(line) <= max(_at(i) for i in signals):
                complained_first.add(customer)
    assert complained_first, "at least one churning customer complained earlier"


# ---------------------------------------------------------------------------------------
# Personal data for masking, and look-alikes
# ---------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _luhn(number: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
DIGITS = re.compile(r"\d[\d ]*\d")


def _cards(text: str) -> list[str]:
    runs = [run.replace(" ", "") for run in DIGITS.findall(text)]
    return [run for run in runs if 16 <= len(run) <= 19 and _luhn(run) and not ID18.fullmatch(run)]


def test_personal_data_to_mask(lines: list[dict[str, Any]]) -> None:
    texts = [_text(line) for line in _texts(lines)]
    kinds: Counter[str] = Counter()
    with_pii = 0
    for text in texts:
        found = {
            "mobile": bool(MOBILE.search(text)),
            "landline": bool(LANDLINE.search(text)),
            "id": any(_id_valid(m) for m in ID18.findall(text)),
            "card": bool(_cards(text)),
            "email": bool(EMAIL.search(text)),
        }
        kinds.update(k for k, v in found.items() if v)
        with_pii += any(found.values())
    assert with_pii >= 10, with_pii
    assert kinds["mobile"] >= 4 and kinds["landline"] >= 2 and kinds["id"] >= 2
    assert kinds["card"] >= 2 and kinds["email"] >= 2, kinds


def test_look_alike_numbers_are_present(lines: list[dict[str, Any]]) -> None:
    texts = "\n".join(_text(line) for line in _texts(lines))
    runs = re.findall(r"(?<!\d)\d+(?![\dXx])|(?<!\d)\d{17}[Xx]", texts)
    eleven_not_mobile = [r for r in runs if len(r) == 11 and not MOBILE.fullmatch(r)]
    assert len(eleven_not_mobile) >= 2
    longer_with_mobile_inside = [
        r
        for r in runs
        if len(r) > 11 and len(r) != 18 and not _luhn(r) and re.search(r"1[3-9]\d{9}", r[1:])
    ]
    assert longer_with_mobile_inside
    bad_ids = [r for r in runs if len(r) == 18 and not _id_valid(r)]
    assert bad_ids
