"""Build kesu's realistic sample feed: kesu/data/sample_feed.jsonl (what `kesu demo` streams).

About 310 events from the four upstream sources over three hours of event time, starting at the
fixed base 2026-01-05T09:00:00+08:00 (the demo shifts every timestamp so the feed starts "now").
Each line is {"source", "event", "intent"}: `event` is exactly what gets published and validates
against streams.records; `intent` is our own label (emotion, category, scenario, note).

Scenarios (intent.scenario):

- delay_wave: 28 orders shipped by 顺达快运 to 华南-广州 turn delayed / exception / lost between
  09:42 and 10:39 (the Guangzhou hub's sorting equipment fails). Delays past the promised time
  cover the three compensation buckets (< 24 h, 24-48 h, > 48 h); two parcels are lost, five
  are exceptions; seven are delivered late before noon. Customers of these orders then call or
  post (same customer_id / order_id), and a 1.28M-follower local account collects cases.
- batch_surge: 星耀X5手机 / SX5-128G / batch B2511-07 overheats, blacks out, reboots and stops
  charging. 20+ negative posts and calls land between 10:30 and 11:00 (two viral ones), against
  scattered background complaints about other products and a happy owner of batch B2510-02.
- repeat_complainant: four customers contact us 3-4 times across call and social, escalating:
  cust-0012 (parcel in the delay wave, anxiety -> 12315 threat), cust-0027 (an X5 of the bad
  batch, disappointment -> 律师/媒体), cust-0035 (air-fryer repair no-show, ends in apathy),
  cust-0041 (membership double charge, ends by cancelling and uninstalling).
- churn_silence: customers who log in regularly early and then go quiet (cust-0041 also
  complained); churn_usage_drop: feature-use counts fall by more than half (cust-0088 also told
  us it will not renew).
- scorer_trap: negation (不是不满意), contrast (虽然…但是), reversal (本来以为…结果还不错),
  sarcasm (等了2个多小时也是醉了), literal words (要的热的给的冰的).
- pii_masking: mobile numbers, landlines, valid ID numbers, Luhn-valid bank cards, e-mails; and
  look-alikes that must not be masked (11-digit order numbers not starting 1[3-9], a 19-digit
  order number, an 18-digit ID with a wrong checksum).
- out_of_order: an `in_transit` update that arrives after the same order's `delivered` but
  carries an earlier occurred_at. It is the only line placed out of occurred_at order: the
  file is in arrival (publish) order, which equals occurred_at order everywhere else.
- background: everyday calls and posts in every category, normal shipments on other regions and
  carriers, healthy app usage.

Deterministic: texts are hand-written (feed_texts.py); ids, jitter and reach come from
random.Random(SEED); no network, no wall clock. Run: `.venv/bin/python deploy/samples/build_feed.py`
(validates every event with streams.codec.check_event, then writes the file).
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

# The scenario tables below keep one order / customer per line, so they may run long.

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUTPUT = ROOT / "kesu" / "data" / "sample_feed.jsonl"

SEED = 20260105
CST = timezone(timedelta(hours=8))
BASE = datetime(2026, 1, 5, 9, 0, tzinfo=CST)
WINDOW = timedelta(hours=3)

SOURCE_RANK = {"logistics": 0, "activity": 1, "call": 2, "social": 3}
ID_PREFIX = {"call": "call", "social": "post", "logistics": "ship", "activity": "act"}
POST_ID_PREFIX = {
    "weibo": "wb",
    "douyin": "dy",
    "xiaohongshu": "xhs",
    "wechat": "wx",
    "zhihu": "zh",
    "bilibili": "bili",
    "dianping": "dp",
    "other": "ext",
}


def _load_texts() -> ModuleType:
    """Import the sibling feed_texts.py (this file runs as a script or is imported by path)."""
    name = "kesu_sample_feed_texts"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "feed_texts.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HERE / 'feed_texts.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def at(clock: str) -> datetime:
    """'HH:MM:SS' (or 'HH:MM') on the base day, Beijing time."""
    parts = [int(p) for p in clock.split(":")] + [0]
    return BASE.replace(hour=parts[0], minute=parts[1], second=parts[2])


def day(stamp: str) -> datetime:
    """'2026-01-04T18:00' (Beijing time)."""
    return datetime.fromisoformat(stamp).replace(tzinfo=CST)


def iso(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat()


# ---------------------------------------------------------------------------------------
# Logistics scenario definitions
# ---------------------------------------------------------------------------------------
# fmt: off

WAVE_REGION = "华南-广州"
WAVE_CARRIER = "顺达快运"
HUB_ARRIVAL = "快件已到达【广州白云转运中心】，正在分拣"
HUB_JAM = "广州白云转运中心分拣设备故障，件量积压，派送顺延"

# order, customer, promised, status, delay past promise (h; None = no estimate), problem at,
# carrier note (None = HUB_JAM), arrived at hub (in_transit) at, delivered at, sku
WAVE_ORDERS: list[tuple[Any, ...]] = [
    ("YG260103558201", "cust-0012", "2026-01-04T18:00", "delayed", 52, "09:47:30", None, None, None, None),
    ("YG260102771034", "cust-0203", "2026-01-05T12:00", "exception", 20, "09:58:10", "外包装破损，待核实内件", "09:05:30", None, None),
    ("YG260103140562", "cust-0205", "2026-01-04T23:00", "delayed", 12, "09:44:20", None, None, "11:35:10", None),
    ("YG260103902217", "cust-0207", "2026-01-05T14:00", "delayed", 44, "10:02:40", None, "09:08:15", None, None),
    ("YG260104213377", "cust-0211", "2026-01-05T18:00", "lost", None, "10:31:50", "转运中心盘点未找到快件，判定遗失，已启动理赔", "09:10:05", None, "SA3-WHT"),
    ("YG260103466820", "cust-0212", "2026-01-05T10:00", "exception", 6, "10:05:15", "派送员联系收件人，电话无法接通", None, None, None),
    ("YG260102659043", "cust-0214", "2026-01-04T20:00", "delayed", 60, "09:51:05", None, None, None, None),
    ("YG260103375198", "cust-0216", "2026-01-05T16:00", "delayed", 30, "10:12:30", None, "09:25:30", None, None),
    ("YG260104028856", "cust-0218", "2026-01-05T12:00", "delayed", 46, "10:20:45", None, "09:12:40", None, None),
    ("YG260102987410", "cust-0219", "2026-01-04T22:00", "exception", 72, "09:55:35", "快件状态异常，待核实", None, None, None),
    ("YG260104117625", "cust-0220", "2026-01-05T09:30", "delayed", 3.5, "09:42:10", None, None, None, None),
    ("YG260103720964", "cust-0222", "2026-01-04T21:00", "delayed", 22, "10:09:20", None, None, None, None),
    ("YG260103208451", "cust-0224", "2026-01-04T10:00", "delayed", 26, "09:49:40", None, None, "11:50:05", None),
    ("YG260103846217", "cust-0225", "2026-01-04T20:00", "delayed", 15, "09:45:55", None, None, "11:20:30", None),
    ("YG260102533790", "cust-0228", "2026-01-05T15:00", "lost", None, "10:36:25", "干线运输途中快件遗失，已启动理赔", None, None, "SR7-STD"),
    ("YG260103011472", "cust-0201", "2026-01-05T08:00", "delayed", 3, "09:43:00", None, None, "11:08:40", None),
    ("YG260103655308", "cust-0202", "2026-01-05T09:00", "delayed", 2, "09:46:30", None, None, "11:02:15", None),
    ("YG260104350916", "cust-0204", "2026-01-04T21:00", "delayed", 14, "09:53:15", None, None, "11:45:20", None),
    ("YG260102874521", "cust-0206", "2026-01-05T18:00", "delayed", 25, "09:57:05", None, "09:31:45", None, None),
    ("YG260103590746", "cust-0208", "2026-01-05T20:00", "delayed", 36, "10:00:50", None, "09:20:10", None, "SP11-WIFI"),
    ("YG260104462083", "cust-0209", "2026-01-04T19:00", "exception", 55, "10:14:00", "分拣中心爆仓，快件滞留", None, None, None),
    ("YG260103137759", "cust-0210", "2026-01-05T13:00", "delayed", 9, "10:17:35", None, None, None, None),
    ("YG260102746612", "cust-0213", "2026-01-05T17:00", "delayed", 40, "10:24:10", None, "09:03:20", None, None),
    ("YG260103918305", "cust-0215", "2026-01-05T22:00", "delayed", 66, "10:27:40", None, "09:36:20", None, None),
    ("YG260104605147", "cust-0217", "2026-01-04T23:30", "exception", 33, "10:29:55", "地址信息不全，待联系收件人", None, None, None),
    ("YG260103284960", "cust-0221", "2026-01-05T11:00", "delayed", 18, "10:33:20", None, None, "11:57:00", None),
    ("YG260102419873", "cust-0223", "2026-01-05T19:00", "delayed", 80, "10:35:45", None, "09:15:50", None, None),
    ("YG260103763528", "cust-0226", "2026-01-05T21:00", "delayed", 27, "10:38:30", None, None, None, None),
]

# Later updates of wave orders: order, status, at, delay past promise (h), note.
WAVE_FOLLOW_UPS: list[tuple[Any, ...]] = [
    ("YG260103466820", "delayed", "10:55:30", 8, "已联系上收件人，改约今日下午派送"),
    ("YG260102771034", "in_transit", "11:30:15", 20, "内件核实完好，重新打包后继续转运"),
]

# Background shipments: order, customer, region, carrier, promised, sku, batch, [(status, at, note)].
BACKGROUND_ORDERS: list[tuple[Any, ...]] = [
    ("YG260102330918", "cust-0401", "华东-上海", "云通速递", "2026-01-06T18:00", None, None,
     [("in_transit", "09:40:20", "快件已到达【上海青浦转运中心】")]),
    ("YG260104880125", "cust-0501", "华东-上海", "云通速递", "2026-01-07T18:00", "SW2-BLK", None,
     [("created", "09:05:40", None), ("shipped", "10:20:15", "已从悦购上海仓发出"), ("in_transit", "11:30:50", None)]),
    ("YG260103377642", "cust-0502", "华东-上海", "云通速递", "2026-01-05T18:00", "SAF5-5L", None,
     [("in_transit", "09:15:25", "快件已到达【上海闵行营业部】"), ("delivered", "10:45:35", "已签收，签收人：本人")]),
    ("YG260104219580", "cust-0503", "华北-北京", "畅捷物流", "2026-01-06T20:00", None, None,
     [("shipped", "09:20:55", "已从悦购北京仓发出"), ("in_transit", "10:35:05", None), ("delivered", "11:55:25", "已签收，放置快递柜")]),
    ("YG260102448617", "cust-0426", "华北-北京", "畅捷物流", "2026-01-07T12:00", None, None,
     [("shipped", "10:10:30", "已从悦购北京仓发出")]),
    ("YG260103694403", "cust-0504", "华北-北京", "畅捷物流", "2026-01-05T20:00", "SP11-WIFI", None,
     [("in_transit", "09:30:15", None), ("delivered", "11:05:45", "已签收，签收人：前台")]),
    ("YG260104735218", "cust-0505", "西南-成都", "飞鸿快递", "2026-01-07T20:00", None, None,
     [("created", "09:12:05", None), ("shipped", "10:40:35", "已从悦购成都仓发出"), ("in_transit", "11:50:40", None)]),
    ("YG260103520369", "cust-0506", "西南-成都", "飞鸿快递", "2026-01-05T14:00", None, None,
     [("in_transit", "09:25:50", None), ("delivered", "10:15:10", "已签收，签收人：本人")]),
    ("YG260103048851", "cust-0507", "华南-深圳", "顺达快运", "2026-01-06T12:00", "SX5-256G", "B2510-02",
     [("shipped", "09:35:30", "已从悦购深圳仓发出"), ("in_transit", "10:25:45", None), ("delivered", "11:40:20", "已签收，签收人：本人")]),
    ("YG260104166297", "cust-0508", "华南-深圳", "顺达快运", "2026-01-05T18:00", None, None,
     [("in_transit", "09:45:10", None), ("delivered", "11:15:35", "已签收，放置驿站")]),
    ("YG260103817734", "cust-0509", "华南-广州", "畅捷物流", "2026-01-05T18:00", None, None,
     [("in_transit", "09:50:55", "快件已到达【广州番禺营业部】"), ("delivered", "11:25:05", "已签收，签收人：本人")]),
    ("YG260104397015", "cust-0510", "华南-广州", "畅捷物流", "2026-01-07T12:00", None, None,
     [("created", "10:05:20", None), ("shipped", "11:10:40", "已从悦购广州仓发出")]),
    ("YG260103263588", "cust-0511", "华中-武汉", "云通速递", "2026-01-05T12:00", None, None,
     [("in_transit", "09:10:30", None), ("delayed", "09:55:05", "大雾高速封闭，干线延误")]),
    ("YG260104510472", "cust-0513", "华北-北京", "疾风同城", "2026-01-05T11:30", None, None,
     [("created", "10:30:25", "悦购到家订单"), ("delivered", "11:05:15", "骑手已送达")]),
    ("YG260104502261", "cust-0514", "华东-上海", "疾风同城", "2026-01-05T10:30", None, None,
     [("created", "09:40:45", "悦购到家订单"), ("delivered", "10:05:55", "骑手已送达")]),
    ("YG260104591736", "cust-0427", "华东-上海", "云通速递", "2026-01-06T18:00", None, None,
     [("in_transit", "10:50:20", "快件已到达【上海浦东转运中心】")]),
    ("YG260104812950", "cust-0515", "西南-重庆", "飞鸿快递", "2026-01-08T18:00", "SR7-STD", None,
     [("created", "11:20:10", None)]),
]
BACKGROUND_DELAY_HOURS = {"YG260103263588": 6}

# The out-of-order update: shipped, delivered, then a stale in_transit arrives late.
OUT_OF_ORDER = ("YG260103959384", "cust-0512", "华东-杭州", "飞鸿快递", "2026-01-05T18:00",
                ("shipped", "09:08:35"), ("delivered", "10:20:15"), ("in_transit", "09:50:40", "10:24:30"))

# ---------------------------------------------------------------------------------------
# Customer-activity scenario definitions
# ---------------------------------------------------------------------------------------

# (customer, scenario, note, [(clock, kind, feature, count)])
ACTIVITY: list[tuple[Any, ...]] = [
    ("cust-0041", "churn_silence", "complained about membership charges, then silent after 10:00", [
        ("09:02", "login", None, 1), ("09:03", "feature_use", "会员中心", 2),
        ("09:29", "login", None, 1), ("09:31", "feature_use", "订单查询", 3),
        ("09:58", "login", None, 1), ("10:00", "feature_use", "会员中心", 1)]),
    ("cust-0063", "churn_silence", "logs in every ~15 min, silent after 10:03", [
        ("09:01", "login", None, 1), ("09:16", "login", None, 1), ("09:17", "feature_use", "积分商城", 5),
        ("09:32", "login", None, 1), ("09:47", "login", None, 1), ("09:48", "feature_use", "积分商城", 4),
        ("10:03", "login", None, 1)]),
    ("cust-0095", "churn_silence", "regular logins, silent after 10:08", [
        ("09:06", "login", None, 1), ("09:07", "feature_use", "设备管理", 2),
        ("09:37", "login", None, 1), ("09:38", "feature_use", "设备管理", 2),
        ("10:08", "login", None, 1)]),
    ("cust-0072", "churn_usage_drop", "cloud-backup use drops from ~120 to ~25 per half hour", [
        ("09:09", "login", None, 1), ("09:10", "feature_use", "云相册备份", 120),
        ("09:40", "feature_use", "云相册备份", 115), ("10:10", "feature_use", "云相册备份", 130),
        ("10:39", "login", None, 1), ("10:40", "feature_use", "云相册备份", 40),
        ("11:10", "feature_use", "云相册备份", 22), ("11:40", "feature_use", "云相册备份", 15)]),
    ("cust-0088", "churn_usage_drop", "business account said it will not renew; order lookups fall by >50%", [
        ("09:12", "login", None, 1), ("09:14", "feature_use", "订单查询", 30),
        ("09:44", "feature_use", "订单查询", 28), ("10:14", "feature_use", "订单查询", 33),
        ("10:50", "login", None, 1), ("11:14", "feature_use", "订单查询", 12),
        ("11:44", "feature_use", "订单查询", 6)]),
]
# Healthy customers: (customer, feature, typical count, first login minute).
HEALTHY = [("cust-0101", "订单查询", 6, 4), ("cust-0102", "云相册备份", 80, 11),
           ("cust-0103", "积分商城", 3, 17), ("cust-0104", "设备管理", 4, 23)]

# fmt: on

# ---------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------


class _Feed:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - deterministic sample data, not security
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        source: str,
        occurred: datetime,
        event: dict[str, Any],
        intent: dict[str, Any],
        arrival: datetime | None = None,
    ) -> None:
        if not BASE <= occurred <= BASE + WINDOW:
            raise ValueError(f"{source} event at {occurred} is outside the feed window")
        self.items.append(
            {
                "source": source,
                "occurred": occurred,
                "arrival": arrival or occurred,
                "event": event,
                "intent": intent,
                "seq": len(self.items),
            }
        )

    # -- text -----------------------------------------------------------------------------

    def calls(self, calls: list[dict[str, Any]]) -> None:
        ordered = sorted(calls, key=lambda c: (at(c["lines"][0]["clock"]), c["customer"]))
        for number, spec in enumerate(ordered, start=1):
            call_id = f"CALL-260105-{number:03d}"
            for line in spec["lines"]:
                event: dict[str, Any] = {
                    "call_id": call_id,
                    "customer_id": spec["customer"],
                    "agent_id": spec["agent"],
                    "speaker": line["speaker"],
                    "segment": spec["segment"],
                    "text": line["text"],
                }
                if line["rate"] is not None:
                    event["speech_rate"] = line["rate"]
                if spec["order"] is not None:
                    event["order_id"] = spec["order"]
                self.add(
                    "call",
                    at(line["clock"]),
                    event,
                    _intent(line["emotion"], line["category"], spec["scenario"], line["note"]),
                )

    def posts(self, posts: list[dict[str, Any]]) -> None:
        for spec in posts:
            post_id = f"{POST_ID_PREFIX[spec['platform']]}-{self.rng.randrange(10**9, 10**10)}"
            event: dict[str, Any] = {
                "post_id": post_id,
                "platform": spec["platform"],
                "author": spec["author"],
                "text": spec["text"],
                "author_followers": spec["followers"],
                "reposts": spec.get("reposts", 0),
                "comments": spec.get("comments", 0),
            }
            for key, field in (
                ("url", "url"),
                ("product", "product"),
                ("sku", "sku"),
                ("batch", "batch"),
                ("region", "region"),
                ("customer", "customer_id"),
                ("order", "order_id"),
            ):
                if spec.get(key) is not None:
                    event[field] = spec[key]
            self.add(
                "social",
                at(spec["clock"]),
                event,
                _intent(spec["emotion"], spec["category"], spec["scenario"], spec["note"]),
            )

    # -- logistics ------------------------------------------------------------------------

    def shipment(
        self,
        order: str,
        customer: str,
        status: str,
        occurred: datetime,
        promised: datetime,
        estimated: datetime | None,
        region: str,
        carrier: str,
        scenario: str,
        note: str,
        remark: str | None = None,
        sku: str | None = None,
        batch: str | None = None,
        arrival: datetime | None = None,
    ) -> None:
        event: dict[str, Any] = {
            "order_id": order,
            "customer_id": customer,
            "status": status,
            "promised_at": iso(promised),
        }
        if estimated is not None:
            event["estimated_at"] = iso(estimated)
        event["region"] = region
        event["carrier"] = carrier
        if sku is not None:
            event["sku"] = sku
        if batch is not None:
            event["batch"] = batch
        if remark is not None:
            event["note"] = remark
        self.add("logistics", occurred, event, _intent(None, None, scenario, note), arrival)

    def delay_wave(self) -> None:
        for (
            order,
            customer,
            promised_s,
            status,
            delay,
            problem_at,
            remark,
            hub_at,
            delivered_at,
            sku,
        ) in WAVE_ORDERS:
            promised = day(promised_s)
            if hub_at is not None:
                self.shipment(
                    order,
                    customer,
                    "in_transit",
                    at(hub_at),
                    promised,
                    promised,
                    WAVE_REGION,
                    WAVE_CARRIER,
                    "delay_wave",
                    "wave order reaches the Guangzhou hub on time",
                    HUB_ARRIVAL,
                    sku,
                )
            estimated = None if delay is None else promised + timedelta(hours=delay)
            if status == "lost":
                note = "lost in the wave: tier 1, no estimate"
            else:
                note = f"{status} in the wave: estimate {delay:g} h past promise ({_bucket(delay)})"
            self.shipment(
                order,
                customer,
                status,
                at(problem_at),
                promised,
                estimated,
                WAVE_REGION,
                WAVE_CARRIER,
                "delay_wave",
                note,
                remark or HUB_JAM,
                sku,
            )
            if delivered_at is not None:
                done = at(delivered_at)
                late = (done - promised).total_seconds() / 3600
                self.shipment(
                    order,
                    customer,
                    "delivered",
                    done,
                    promised,
                    done,
                    WAVE_REGION,
                    WAVE_CARRIER,
                    "delay_wave",
                    f"wave order delivered {late:.1f} h after the promise",
                    "已签收，签收人：本人",
                    sku,
                )
        promised_of = {o[0]: (o[1], day(o[2]), o[9]) for o in WAVE_ORDERS}
        for order, status, when, delay, remark in WAVE_FOLLOW_UPS:
            customer, promised, sku = promised_of[order]
            self.shipment(
                order,
                customer,
                status,
                at(when),
                promised,
                promised + timedelta(hours=delay),
                WAVE_REGION,
                WAVE_CARRIER,
                "delay_wave",
                f"wave follow-up: {status}, estimate {delay:g} h past promise",
                remark,
                sku,
            )

    def background_logistics(self) -> None:
        for order, customer, region, carrier, promised_s, sku, batch, steps in BACKGROUND_ORDERS:
            promised = day(promised_s)
            for status, when, remark in steps:
                occurred = at(when)
                if status == "delivered":
                    estimated = occurred
                    note = "normal delivery on time"
                elif status == "delayed":
                    estimated = promised + timedelta(hours=BACKGROUND_DELAY_HOURS[order])
                    note = "isolated delay elsewhere (fog), not part of the wave"
                else:
                    estimated = promised if status != "created" else None
                    note = f"normal shipment: {status}"
                self.shipment(
                    order,
                    customer,
                    status,
                    occurred,
                    promised,
                    estimated,
                    region,
                    carrier,
                    "background",
                    note,
                    remark,
                    sku,
                    batch,
                )
        order, customer, region, carrier, promised_s, shipped, delivered, late = OUT_OF_ORDER
        promised = day(promised_s)
        self.shipment(
            order,
            customer,
            shipped[0],
            at(shipped[1]),
            promised,
            promised,
            region,
            carrier,
            "background",
            "normal shipment: shipped",
            "已从悦购杭州仓发出",
        )
        self.shipment(
            order,
            customer,
            delivered[0],
            at(delivered[1]),
            promised,
            at(delivered[1]),
            region,
            carrier,
            "background",
            "delivered; a stale in_transit for this order arrives later",
            "已签收，签收人：本人",
        )
        self.shipment(
            order,
            customer,
            late[0],
            at(late[1]),
            promised,
            promised,
            region,
            carrier,
            "out_of_order",
            "stale in_transit (occurred 09:50) published after delivered (10:20); must not reopen the order",
            "快件已到达【杭州萧山转运中心】",
            arrival=at(late[2]),
        )

    # -- activity -------------------------------------------------------------------------

    def activity(self) -> None:
        for customer, scenario, note, signals in ACTIVITY:
            for clock, kind, feature, count in signals:
                when = at(clock) + timedelta(seconds=self.rng.randrange(5, 55))
                self._signal(customer, kind, feature, count, when, scenario, note)
        for customer, feature, typical, first in HEALTHY:
            minute = first
            for visit in range(4):
                when = BASE + timedelta(minutes=minute, seconds=self.rng.randrange(0, 60))
                self._signal(
                    customer, "login", None, 1, when, "background", "healthy usage: regular login"
                )
                if visit != 2:
                    count = max(1, typical + self.rng.randint(-typical // 4 - 1, typical // 4 + 1))
                    self._signal(
                        customer,
                        "feature_use",
                        feature,
                        count,
                        when + timedelta(minutes=2),
                        "background",
                        "healthy usage: steady feature use",
                    )
                minute += 45 + self.rng.randrange(-6, 7)

    def _signal(
        self,
        customer: str,
        kind: str,
        feature: str | None,
        count: int,
        when: datetime,
        scenario: str,
        note: str,
    ) -> None:
        event: dict[str, Any] = {"customer_id": customer, "kind": kind}
        if feature is not None:
            event["feature"] = feature
        event["count"] = count
        self.add("activity", when, event, _intent(None, None, scenario, note))

    # -- output ---------------------------------------------------------------------------

    def lines(self) -> list[dict[str, Any]]:
        ordered = sorted(
            self.items, key=lambda i: (i["arrival"], SOURCE_RANK[i["source"]], i["seq"])
        )
        numbers: Counter[str] = Counter()
        out = []
        for item in ordered:
            source = item["source"]
            numbers[source] += 1
            event = {
                "event_id": f"{ID_PREFIX[source]}-{numbers[source]:04d}",
                "source": source,
                "occurred_at": iso(item["occurred"]),
                **item["event"],
            }
            out.append({"source": source, "event": event, "intent": item["intent"]})
        return out


def _intent(emotion: str | None, category: str | None, scenario: str, note: str) -> dict[str, Any]:
    return {"emotion": emotion, "category": category, "scenario": scenario, "note": note}


def _bucket(delay_hours: float) -> str:
    if delay_hours < 24:
        return "<24h: 10 yuan coupon"
    if delay_hours <= 48:
        return "24-48h: 20 yuan coupon"
    return ">48h: 50 yuan coupon + dedicated agent"


def build_lines() -> list[dict[str, Any]]:
    """The feed as a list of {"source", "event", "intent"} dicts, in publish order."""
    texts = _load_texts()
    feed = _Feed()
    feed.calls(
        texts.REPEAT_CALLS
        + texts.WAVE_CALLS
        + texts.WAVE_TRANSCRIPTS
        + texts.SURGE_CALLS
        + texts.TRAP_CALLS
        + texts.PII_CALLS
        + texts.TRANSCRIPT_PII
        + texts.BACKGROUND_CALLS
        + texts.BACKGROUND_TRANSCRIPTS
    )
    feed.posts(
        texts.REPEAT_POSTS
        + texts.WAVE_POSTS
        + texts.SURGE_POSTS
        + texts.TRAP_POSTS
        + texts.PII_POSTS
        + texts.BACKGROUND_POSTS
    )
    feed.delay_wave()
    feed.background_logistics()
    feed.activity()
    return feed.lines()


def build_feed() -> str:
    """The exact content of kesu/data/sample_feed.jsonl."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in build_lines())


def _validate(lines: list[dict[str, Any]]) -> None:
    sys.path.insert(0, str(ROOT))
    from streams.codec import Limits, Rejection, check_event
    from streams.records import Source

    now = BASE + WINDOW
    for line in lines:
        result = check_event(Source(line["source"]), line["event"], now, Limits())
        if isinstance(result, Rejection):
            raise SystemExit(f"{line['event']['event_id']}: {result.message}")


def main() -> None:
    lines = build_lines()
    _validate(lines)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(build_feed(), encoding="utf-8")
    counts = Counter(line["source"] for line in lines)
    print(
        f"wrote {len(lines)} events to {OUTPUT.relative_to(ROOT)}: {dict(sorted(counts.items()))}"
    )


if __name__ == "__main__":
    main()
