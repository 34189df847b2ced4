"""A parent incident as the API shows it: members counted, member texts masked again."""

from __future__ import annotations

from api.present import present_alert
from streams.records import Alert, AlertKind, AlertStatus, GroupDetail
from tests.factories import T0


def test_a_parents_member_texts_are_masked_and_its_members_counted() -> None:
    alert = Alert(
        alert_id="al-parent",
        version=3,
        case_key="surge:batch:B2511-07",
        kind=AlertKind.SURGE,
        tier=2,
        status=AlertStatus.OPEN,
        rule_id="surge",
        rules_version="t",
        opened_at=T0,
        updated_at=T0,
        contacts=30,
        group=GroupDetail(
            member_case_keys=("customer:c1",),
            member_count=30,
            examples=("手机发热，打我电话13812345678",),
        ),
    )
    shown = present_alert(alert, T0)
    assert shown.group is not None and "13812345678" not in shown.group.examples[0]
    assert shown.group.member_case_keys == ("customer:c1",)
    assert shown.labels["members"] == "30 条成员"
