"""Subscriptions validate what they hold and never show their URL or secret; delivery ids are stable."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from notify import DEFAULT_TRANSITIONS, Mention, PushFormat, Subscription, delivery_id_for
from streams.records import Transition
from tests.unit.notify.samples import DINGTALK_SECRET, subscription

ROBOT_URL = (
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
)


class TestSubscription:
    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/x",
            "javascript:alert(1)",
            "https://",
            "not a url",
            "file:///etc/passwd",
            "http://exa mple.com/",
        ],
    )
    def test_url_must_be_http(self, url: str) -> None:
        """Only http(s) URLs with a host are accepted."""
        with pytest.raises(ValidationError, match="url"):
            subscription(url=url)

    @pytest.mark.parametrize(
        ("fmt", "secret", "message"),
        [
            (PushFormat.JSON, None, "needs a secret"),
            (PushFormat.WECOM, "anything", "no signing"),
            (PushFormat.DINGTALK, "not-sec", "starts with 'SEC'"),
        ],
    )
    def test_secret_fits_the_format(
        self, fmt: PushFormat, secret: str | None, message: str
    ) -> None:
        """JSON must be signed, WeCom cannot be, and a DingTalk 加签 secret looks like one."""
        with pytest.raises(ValidationError, match=message):
            subscription(fmt, secret=secret)

    def test_url_and_secret_never_in_repr_or_public_view(self) -> None:
        """repr, str, the public model and the masked URL show neither the robot key nor the secret."""
        sub = subscription(PushFormat.DINGTALK, url=ROBOT_URL)
        shown = [repr(sub), str(sub), sub.public().model_dump_json(), sub.masked_url()]
        for text in shown:
            assert "693a91f6" not in text and DINGTALK_SECRET not in text
        assert sub.masked_url() == "https://qyapi.weixin.qq.com/***"
        assert sub.public().signed is True

    def test_masked_url_drops_userinfo_and_path_tokens(self) -> None:
        """Credentials in userinfo or a Feishu-style path token are hidden too."""
        sub = subscription(
            PushFormat.FEISHU, url="https://user:pw@open.feishu.cn/open-apis/bot/v2/hook/abc-123"
        )
        assert sub.masked_url() == "https://open.feishu.cn/***"

    def test_config_round_trip_keeps_secrets_for_the_store(self) -> None:
        """to_config() is the one form with the URL and secret in clear, and it round-trips."""
        sub = subscription(PushFormat.DINGTALK, url=ROBOT_URL, mention=Mention(user_ids=("u1",)))
        config = sub.to_config()
        assert config["url"] == ROBOT_URL and config["secret"] == DINGTALK_SECRET
        assert Subscription.model_validate(config) == sub
        assert "693a91f6" not in sub.model_dump_json()

    def test_defaults(self) -> None:
        """Enabled, paging transitions only, no mention, from plain JSON values."""
        data: dict[str, Any] = {"id": "s1", "name": "值班", "format": "wecom", "url": ROBOT_URL}
        sub = Subscription.model_validate(data)
        assert sub.enabled and sub.filters.transitions == DEFAULT_TRANSITIONS and sub.mention.empty
        assert Transition.COMMENTED not in DEFAULT_TRANSITIONS

    def test_unknown_fields_rejected_and_frozen(self) -> None:
        """A typo in configuration fails loudly; a subscription cannot be changed in place."""
        with pytest.raises(ValidationError, match="extra"):
            Subscription.model_validate(
                {"id": "s", "name": "n", "format": "wecom", "url": ROBOT_URL, "filter": {}}
            )
        with pytest.raises(ValidationError):
            subscription().enabled = False

    def test_mention_mobiles_are_validated(self) -> None:
        """On-call mobiles must be mainland mobile numbers."""
        assert Mention(mobiles=("13900001111",)).mobiles == ("13900001111",)
        with pytest.raises(ValidationError):
            Mention(mobiles=("12345",))


class TestDeliveryId:
    def test_stable_and_distinct(self) -> None:
        """Same subscription and record give the same id; any change gives another."""
        a = delivery_id_for("sub-1", "al-1:4")
        assert a == delivery_id_for("sub-1", "al-1:4")
        assert a.startswith("msg_") and len(a) == 36
        assert len({a, delivery_id_for("sub-2", "al-1:4"), delivery_id_for("sub-1", "al-1:5")}) == 3
