"""The dashboard's surge panel (`GET /v1/surges`): key surges ranked by how far above their
baseline, then emerging issues (新问题) by size, with no made-up baseline for an issue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.routes.surges import _issue_item, _item, active_surges
from streams.records import Alert, AlertKind, AlertStatus, GroupDetail, SurgeDetail
from tests.factories import T0


def _alert(alert_id: str, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "alert_id": alert_id,
        "version": 1,
        "case_key": f"surge:{alert_id}",
        "kind": AlertKind.SURGE,
        "tier": 2,
        "status": AlertStatus.OPEN,
        "rule_id": "surge",
        "rules_version": "t",
        "opened_at": T0,
        "updated_at": T0,
        "contacts": 0,
    }
    values.update(fields)
    return Alert(**values)


def _surge(ratio: float) -> SurgeDetail:
    return SurgeDetail(
        dimension="batch",
        value="B2511-07",
        window_start=T0,
        window_minutes=10,
        count=int(ratio * 2),
        expected=2.0,
        ratio=ratio,
        p_value=1e-6,
    )


def _issue(members: int) -> GroupDetail:
    return GroupDetail(
        member_case_keys=tuple(f"social:weibo:u{n}" for n in range(members)),
        member_count=members,
        examples=("左边耳机没声音了，电话13812345678",),
        keywords=("耳机", "左侧", "无声"),
    )


def test_key_surges_come_first_by_ratio_then_issues_by_size_and_closed_ones_are_left_out() -> None:
    alerts = [
        _alert("small-issue", rule_id="emerging-issue", group=_issue(5)),
        _alert("mild", surge=_surge(4.0)),
        _alert("big-issue", rule_id="emerging-issue", group=_issue(12)),
        _alert("sharp", surge=_surge(25.0)),
        _alert("closed", surge=_surge(90.0), status=AlertStatus.RESOLVED),
        _alert("complaint", kind=AlertKind.COMPLAINT, group=_issue(3)),
        _alert("wave-without-key", kind=AlertKind.LOGISTICS_DELAY, group=_issue(7)),
    ]
    assert [a.alert_id for a in active_surges(alerts)] == [
        "sharp",
        "mild",
        "big-issue",
        "small-issue",
    ]


def test_an_issue_shows_its_terms_and_customers_and_no_baseline() -> None:
    group = _issue(12)
    alert = _alert(
        "big-issue", rule_id="emerging-issue", group=group, updated_at=T0 + timedelta(hours=1)
    )
    item = _issue_item(alert, group)
    assert (item.kind, item.dimension, item.label) == (
        "emerging_issue",
        "issue",
        "新问题 耳机 左侧 无声",
    )
    assert item.count == 12 and item.keywords == ["耳机", "左侧", "无声"]
    assert (item.expected, item.ratio, item.window_minutes) == (None, None, None)
    assert "13812345678" not in item.examples[0]


def test_a_key_surge_keeps_its_baseline() -> None:
    item = _item(_alert("sharp", surge=_surge(25.0)), _surge(25.0))
    assert (item.kind, item.label, item.ratio, item.expected) == ("key", "批次 B2511-07", 25.0, 2.0)
