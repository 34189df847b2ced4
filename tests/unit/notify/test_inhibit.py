"""Labels, matchers, inhibition and silences: the first two stages, as tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from complaints.rules import InhibitRule, load_rules
from notify.inhibit import Inhibitor, inhibited_by
from notify.labels import labels_of
from notify.matchers import matches, parse_matchers
from notify.silencing import silenced_by
from streams.records import (
    Alert,
    AlertKind,
    AlertStatus,
    GroupDetail,
    Silence,
    SurgeDetail,
)
from tests.unit.notify.samples import T0, make_alert


def _alert(alert_id: str, **overrides: Any) -> Alert:
    return make_alert(alert_id=alert_id, **overrides)


def _surge(alert_id: str = "al-surge", *, members: tuple[str, ...] = (), **overrides: Any) -> Alert:
    surge = SurgeDetail(
        dimension="batch",
        value="B2511-07",
        window_start=T0,
        window_minutes=15,
        count=30,
        expected=1.0,
        ratio=30.0,
        p_value=1e-6,
    )
    values: dict[str, Any] = {
        "kind": AlertKind.SURGE,
        "tier": 2,
        "case_key": "surge:batch:B2511-07",
        "customer_id": None,
        "surge": surge,
        "group": GroupDetail(member_case_keys=members, member_count=len(members)),
        "rule_id": "surge",
    }
    values.update(overrides)
    return _alert(alert_id, **values)


def _rule(**values: Any) -> InhibitRule:
    return InhibitRule.model_validate({"id": "r", **values})


class TestLabels:
    def test_a_complaint_has_its_facts_as_labels(self) -> None:
        """kind, tier, status, rule, case, category, emotion, region, carrier, channel, customer."""
        labels = labels_of(make_alert())
        assert labels == {
            "kind": "complaint",
            "tier": "1",
            "status": "open",
            "rule": "anger",
            "case": "customer:c1001",
            "category": "logistics",
            "emotion": "anger",
            "region": "华南-广州",
            "carrier": "顺达快运",
            "channel": "call",
            "customer": "c1001",
        }

    def test_a_surge_is_labelled_by_its_key_and_as_a_parent(self) -> None:
        """A batch surge has batch=B2511-07, dimension/key, and parent=true (it lists members)."""
        labels = labels_of(_surge(members=("customer:a",)))
        assert (labels["batch"], labels["dimension"], labels["key"]) == (
            "B2511-07",
            "batch",
            "B2511-07",
        )
        assert labels["parent"] == "true" and labels["kind"] == "surge"
        assert "parent" not in labels_of(make_alert())


LABELS = {"region": "华东-上海", "tier": "2", "kind": "complaint"}


class TestMatchers:
    @pytest.mark.parametrize(
        ("written", "holds"),
        [
            (["region=华东-上海"], True),
            (["region=华东"], False),  # equality is exact
            (["region=~华东.*"], True),
            (["region=~华东"], False),  # regexes are anchored at both ends
            (["region!~华南.*"], True),
            (["tier!=1"], True),
            (["tier!=2"], False),
            (["carrier="], True),  # a missing label reads as ""
            (["carrier!="], False),
            (["kind=~surge|complaint", "tier=2"], True),
            (["kind=~surge|complaint", "tier=3"], False),  # all must hold
            ([], True),
            (['region="华东-上海"'], True),  # quotes as Alertmanager writes them
        ],
    )
    def test_table(self, written: list[str], holds: bool) -> None:
        assert matches(parse_matchers(written), LABELS) is holds

    @pytest.mark.parametrize("written", ["tier>1", "nolabel=1", "region=~[华东", "=x"])
    def test_bad_matchers_are_refused(self, written: str) -> None:
        with pytest.raises(ValueError):
            parse_matchers([written])


MEMBERS = _rule(source_matchers=["parent=true"], members=True, target_matchers=["tier!=1"])
SAME_CUSTOMER = _rule(
    source_matchers=["kind=complaint", "tier=1"], target_matchers=["kind=churn"], equal=["customer"]
)


class TestInhibition:
    @pytest.mark.parametrize(
        ("case", "rule", "sources", "target", "inhibited_by_id"),
        [
            (
                "a tier-2 member of an open surge",
                MEMBERS,
                [_surge(members=("customer:c1001",))],
                _alert("al-m", tier=2),
                "al-surge",
            ),
            (
                "a tier-1 member is still pushed (target tier!=1)",
                MEMBERS,
                [_surge(members=("customer:c1001",))],
                _alert("al-m", tier=1),
                None,
            ),
            (
                "not a member",
                MEMBERS,
                [_surge(members=("customer:other",))],
                _alert("al-m", tier=2),
                None,
            ),
            (
                "the surge was resolved",
                MEMBERS,
                [_surge(members=("customer:c1001",), status=AlertStatus.RESOLVED)],
                _alert("al-m", tier=2),
                None,
            ),
            (
                "an acknowledged surge still holds its members",
                MEMBERS,
                [_surge(members=("customer:c1001",), status=AlertStatus.ACKNOWLEDGED)],
                _alert("al-m", tier=3),
                "al-surge",
            ),
            (
                "tier-1 complaint covers the same customer's churn alert",
                SAME_CUSTOMER,
                [_alert("al-c", tier=1)],
                _alert("al-churn", kind=AlertKind.CHURN, tier=3),
                "al-c",
            ),
            (
                "another customer's churn is not covered",
                SAME_CUSTOMER,
                [_alert("al-c", tier=1)],
                _alert("al-churn", kind=AlertKind.CHURN, tier=3, customer_id="c2002"),
                None,
            ),
            (
                "equal needs the label on both: none on either is not equal",
                SAME_CUSTOMER,
                [_alert("al-c", tier=1, customer_id=None)],
                _alert("al-churn", kind=AlertKind.CHURN, tier=3, customer_id=None),
                None,
            ),
            (
                "a tier-2 complaint is no source for this rule",
                SAME_CUSTOMER,
                [_alert("al-c", tier=2)],
                _alert("al-churn", kind=AlertKind.CHURN, tier=3),
                None,
            ),
        ],
        ids=lambda v: v if isinstance(v, str) else "",
    )
    def test_table(
        self,
        case: str,
        rule: InhibitRule,
        sources: list[Alert],
        target: Alert,
        inhibited_by_id: str | None,
    ) -> None:
        found = inhibited_by(target, [*sources, target], [rule])
        assert (found.source.alert_id if found else None) == inhibited_by_id
        if found:
            assert found.rule_id == "r"

    def test_an_alert_never_inhibits_itself(self) -> None:
        """A surge that is also a member of its own case matches both sides: not inhibited."""
        surge = _surge(members=("surge:batch:B2511-07",), tier=3)
        assert inhibited_by(surge, [surge], [MEMBERS]) is None

    def test_the_earliest_opened_source_explains_it(self) -> None:
        """Two surges list the same member: the one opened first is named, on every replica."""
        later = _surge("al-later", members=("customer:c1001",), opened_at=T0 + timedelta(hours=1))
        first = _surge("al-first", members=("customer:c1001",))
        inhibitor = Inhibitor([later, first], [MEMBERS])
        found = inhibitor.why(_alert("al-m", tier=2))
        assert found is not None and found.source.alert_id == "al-first"

    def test_the_shipped_rules_hold_back_a_batch_surges_members(self) -> None:
        """rules.yaml: a 30-member batch surge holds its tier-2 members, not a tier-1 one."""
        rules = load_rules().inhibit_rules
        members = tuple(f"customer:m{i}" for i in range(30))
        surge = _surge(members=members)
        inhibitor = Inhibitor([surge], rules)
        held = [inhibitor.why(_alert(f"al-{i}", tier=2, case_key=k)) for i, k in enumerate(members)]
        assert all(h is not None and h.rule_id == "incident-members" for h in held)
        assert inhibitor.why(_alert("al-x", tier=1, case_key=members[0])) is None


def _silence(silence_id: str = "sil-1", **values: Any) -> Silence:
    data: dict[str, Any] = {
        "silence_id": silence_id,
        "matchers": ("region=华南-广州",),
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "created_by": "ops",
        "created_at": T0,
        "comment": "顺丰中转站停运",
    }
    data.update(values)
    return Silence.model_validate(data)


class TestSilences:
    @pytest.mark.parametrize(
        ("at", "silence", "silenced"),
        [
            (T0, _silence(), True),
            (T0 - timedelta(seconds=1), _silence(), False),  # not started
            (T0 + timedelta(hours=2), _silence(), False),  # ends_at is exclusive
            (T0 + timedelta(hours=1), _silence(expired_at=T0 + timedelta(minutes=30)), False),
            (T0 + timedelta(minutes=20), _silence(expired_at=T0 + timedelta(minutes=30)), True),
            (T0, _silence(matchers=("region=华东-上海",)), False),
            (T0, _silence(matchers=("region=~华南.*", "tier=1")), True),
            (T0, _silence(matchers=("region=~华南.*", "tier=2")), False),
        ],
    )
    def test_table(self, at: Any, silence: Silence, silenced: bool) -> None:
        assert (silenced_by(make_alert(), [silence], at) is not None) is silenced

    def test_the_silence_ending_last_is_named(self) -> None:
        short = _silence("sil-short", ends_at=T0 + timedelta(hours=1))
        long = _silence("sil-long", ends_at=T0 + timedelta(hours=5))
        found = silenced_by(make_alert(), [short, long], T0)
        assert found is not None and found.silence_id == "sil-long"

    def test_a_silence_must_end_after_it_starts(self) -> None:
        with pytest.raises(ValueError, match="ends_at"):
            _silence(ends_at=T0)
