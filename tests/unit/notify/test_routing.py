"""Routing: which subscriptions receive an alert event, and the reason for every one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from notify import Filters, NotRouted, PushFormat, Subscription, explain, matches, route, why_not
from streams.records import Category, Transition
from tests.unit.notify.samples import make_alert_event, subscription


def _sub(name: str = "s", **filters: Any) -> Subscription:
    return subscription(PushFormat.JSON, id=name, filters=Filters(**filters))


class TestWhyNot:
    def test_empty_filters_take_the_default_transitions_of_any_alert(self) -> None:
        """No tier, category or region filter means any; transitions default to the paging ones."""
        sub = _sub()
        for transition in (
            Transition.OPENED,
            Transition.TIER_RAISED,
            Transition.WARNED,
            Transition.BREACHED,
            Transition.ESCALATED,
            Transition.FOLLOW_UP_DUE,
        ):
            assert why_not(sub, make_alert_event(transition)) is None
        assert why_not(sub, make_alert_event(Transition.COMMENTED)) is NotRouted.TRANSITION

    def test_empty_transition_list_means_every_transition(self) -> None:
        """transitions=[] subscribes to the whole lifecycle (e.g. a ticketing system)."""
        sub = _sub(transitions=())
        assert why_not(sub, make_alert_event(Transition.COMMENTED)) is None

    @pytest.mark.parametrize(
        ("filters", "alert", "reason"),
        [
            ({"tiers": (2, 3)}, {}, NotRouted.TIER),
            ({"tiers": (1,)}, {}, None),
            ({"categories": (Category.PRODUCT_QUALITY,)}, {}, NotRouted.CATEGORY),
            ({"categories": (Category.LOGISTICS,)}, {}, None),
            ({"categories": (Category.LOGISTICS,)}, {"category": None}, NotRouted.CATEGORY),
            ({"regions": ("华东",)}, {}, NotRouted.REGION),
            ({"regions": ("华南",)}, {}, None),  # parent region matches 华南-广州
            ({"regions": ("华南-广州",)}, {}, None),
            ({"regions": ("华南-广",)}, {}, NotRouted.REGION),  # a prefix is not a parent
            ({"regions": ("华南",)}, {"region": None}, NotRouted.REGION),
        ],
    )
    def test_filters(
        self, filters: dict[str, Any], alert: dict[str, Any], reason: NotRouted | None
    ) -> None:
        """Each filter rejects with its own reason; a matching filter lets the event through."""
        assert why_not(_sub(**filters), make_alert_event(**alert)) is reason

    def test_disabled_comes_first(self) -> None:
        """A disabled subscription is DISABLED even when its filters would also reject."""
        sub = subscription(enabled=False, filters=Filters(tiers=(3,)))
        assert why_not(sub, make_alert_event()) is NotRouted.DISABLED

    def test_transition_is_checked_before_alert_fields(self) -> None:
        """The most common drop (a non-paging transition) is reported as such."""
        sub = _sub(tiers=(3,))
        assert why_not(sub, make_alert_event(Transition.COMMENTED)) is NotRouted.TRANSITION


class TestRoute:
    def test_route_keeps_order_and_explain_gives_every_reason(self) -> None:
        """route() returns the matching subscriptions in order; explain() accounts for all of them."""
        subs = [
            _sub("tier1", tiers=(1,)),
            _sub("tier3", tiers=(3,)),
            _sub("south", regions=("华南",)),
            subscription(id="off", enabled=False),
        ]
        event = make_alert_event()
        assert [s.id for s in route(subs, event)] == ["tier1", "south"]
        assert [(s.id, r) for s, r in explain(subs, event)] == [
            ("tier1", None),
            ("tier3", NotRouted.TIER),
            ("south", None),
            ("off", NotRouted.DISABLED),
        ]
        assert matches(subs[0], event) and not matches(subs[1], event)
