"""Signatures: Standard Webhooks, DingTalk 加签, Feishu 签名校验 and card action tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.signing import (
    CARD_ACTIONS,
    InvalidSignature,
    InvalidToken,
    SignatureFailure,
    TokenFailure,
    dingtalk_sign,
    dingtalk_signed_url,
    feishu_sign,
    make_action_token,
    sign_webhook,
    unverified_alert_id,
    verify_action_token,
    verify_webhook,
    webhook_headers,
    webhook_key,
)
from streams.records import ActionKind

# The Standard Webhooks specification's published test vector (its reference libraries use it).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class TestStandardWebhooks:
    def test_matches_the_spec_test_vector(self) -> None:
        """Signing the spec's message with its whsec_ secret gives the spec's signature."""
        assert sign_webhook(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, SPEC_SECRET) == SPEC_SIGNATURE

    def test_whsec_secret_is_base64_decoded_other_secrets_are_utf8(self) -> None:
        """A whsec_ secret is its base64 payload; a plain secret is its UTF-8 bytes."""
        assert webhook_key(SPEC_SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        assert webhook_key("密钥-plain") == "密钥-plain".encode()
        with pytest.raises(ValueError, match="base64"):
            webhook_key("whsec_not*base64")

    def test_signature_is_hmac_of_id_timestamp_body(self) -> None:
        """The signed content is "{id}.{timestamp}.{body}", computed independently here."""
        body = '{"告警":"SLA 超时"}'.encode()
        mac = hmac.new(b"plain-secret", b"msg_1.1700000000." + body, hashlib.sha256).digest()
        assert sign_webhook("msg_1", 1700000000, body, "plain-secret") == (
            "v1," + base64.b64encode(mac).decode()
        )

    def test_verify_accepts_the_spec_vector_and_returns_the_id(self) -> None:
        """A genuine request verifies, whatever the header capitalisation, and yields webhook-id."""
        headers = {
            "Webhook-Id": SPEC_ID,
            "Webhook-Timestamp": str(SPEC_TIMESTAMP),
            "Webhook-Signature": SPEC_SIGNATURE,
        }
        assert verify_webhook(headers, SPEC_BODY, SPEC_SECRET, now=SPEC_TIMESTAMP + 10) == SPEC_ID

    def test_verify_accepts_any_of_several_signatures(self) -> None:
        """During key rotation the header carries several signatures; one match is enough."""
        headers = webhook_headers("msg_2", 1700000000, b"{}", "new-secret")
        headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
        assert verify_webhook(headers, b"{}", "new-secret", now=1700000000) == "msg_2"

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"body": b'{"test": 2432232315}'}, SignatureFailure.BAD_SIGNATURE),
            (
                {"secret": "whsec_" + base64.b64encode(b"x" * 24).decode()},
                SignatureFailure.BAD_SIGNATURE,
            ),
            ({"now": SPEC_TIMESTAMP + 301}, SignatureFailure.STALE_TIMESTAMP),
            ({"now": SPEC_TIMESTAMP - 301}, SignatureFailure.FUTURE_TIMESTAMP),
            ({"headers": {"webhook-id": "msg_other"}}, SignatureFailure.BAD_SIGNATURE),
            ({"headers": {"webhook-timestamp": "soon"}}, SignatureFailure.BAD_TIMESTAMP),
            ({"headers": {"webhook-signature": ""}}, SignatureFailure.MISSING_HEADER),
            (
                {"headers": {"webhook-signature": "v2," + SPEC_SIGNATURE[3:]}},
                SignatureFailure.BAD_SIGNATURE,
            ),
        ],
        ids=[
            "tampered-body",
            "wrong-secret",
            "stale",
            "future",
            "other-id",
            "bad-timestamp",
            "missing",
            "wrong-version",
        ],
    )
    def test_verify_rejects(self, change: dict[str, Any], reason: SignatureFailure) -> None:
        """Tampering, a wrong secret, a stale or future timestamp and broken headers are refused."""
        headers = {
            "webhook-id": SPEC_ID,
            "webhook-timestamp": str(SPEC_TIMESTAMP),
            "webhook-signature": SPEC_SIGNATURE,
        }
        headers |= change.get("headers", {})
        with pytest.raises(InvalidSignature) as caught:
            verify_webhook(
                headers,
                change.get("body", SPEC_BODY),
                change.get("secret", SPEC_SECRET),
                now=change.get("now", SPEC_TIMESTAMP),
            )
        assert caught.value.reason is reason

    def test_tolerance_window_is_five_minutes_by_default(self) -> None:
        """Exactly 300 s old still verifies; the tolerance can be narrowed."""
        headers = webhook_headers("m", 1000, b"x", "k")
        assert verify_webhook(headers, b"x", "k", now=1300) == "m"
        with pytest.raises(InvalidSignature):
            verify_webhook(headers, b"x", "k", now=1300, tolerance=60)


class TestDingTalk:
    SECRET = "SEC0123456789abcdef"
    TIMESTAMP_MS = 1700000000000
    # Derived by hand from DingTalk's recipe: base64(HmacSHA256(key=secret,
    # msg="1700000000000\nSEC0123456789abcdef")), then urlEncode.
    EXPECTED = "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="
    EXPECTED_ENCODED = "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"

    def test_fixed_vector(self) -> None:
        """A fixed timestamp and secret give the sign derived from the documented recipe."""
        assert dingtalk_sign(self.SECRET, self.TIMESTAMP_MS) == self.EXPECTED

    def test_recipe_secret_is_key_and_string_is_message(self) -> None:
        """string_to_sign = timestamp + "\\n" + secret, HMAC keyed by the secret (DingTalk's order)."""
        string_to_sign = f"{self.TIMESTAMP_MS}\n{self.SECRET}".encode()
        mac = hmac.new(self.SECRET.encode(), string_to_sign, hashlib.sha256).digest()
        assert dingtalk_sign(self.SECRET, self.TIMESTAMP_MS) == base64.b64encode(mac).decode()

    def test_signed_url_appends_timestamp_and_url_encoded_sign(self) -> None:
        """The robot URL keeps its access_token and gains &timestamp=…&sign=<urlencoded>."""
        url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
        signed = dingtalk_signed_url(url, self.SECRET, self.TIMESTAMP_MS)
        assert signed == (f"{url}&timestamp={self.TIMESTAMP_MS}&sign={self.EXPECTED_ENCODED}")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)
        assert query == {
            "access_token": ["abc"],
            "timestamp": [str(self.TIMESTAMP_MS)],
            "sign": [self.EXPECTED],
        }

    def test_signed_url_without_query(self) -> None:
        """A URL without a query gets one."""
        signed = dingtalk_signed_url("http://127.0.0.1:9/send", self.SECRET, 1)
        assert signed.startswith("http://127.0.0.1:9/send?timestamp=1&sign=")


class TestFeishu:
    SECRET = "feishu-secret"
    TIMESTAMP = 1700000000
    # Derived by hand from Feishu's recipe: base64(HmacSHA256(key="1700000000\nfeishu-secret",
    # msg=b"")).
    EXPECTED = "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU="

    def test_fixed_vector(self) -> None:
        """A fixed timestamp and secret give the sign derived from the documented recipe."""
        assert feishu_sign(self.SECRET, self.TIMESTAMP) == self.EXPECTED

    def test_recipe_string_is_key_and_message_is_empty(self) -> None:
        """Feishu keys the HMAC with timestamp + "\\n" + secret and signs nothing."""
        key = f"{self.TIMESTAMP}\n{self.SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        assert feishu_sign(self.SECRET, self.TIMESTAMP) == expected

    def test_differs_from_dingtalk_order(self) -> None:
        """Swapping key and message (DingTalk's order) gives another value: the order matters."""
        swapped = hmac.new(
            self.SECRET.encode(), f"{self.TIMESTAMP}\n{self.SECRET}".encode(), hashlib.sha256
        ).digest()
        assert feishu_sign(self.SECRET, self.TIMESTAMP) != base64.b64encode(swapped).decode()


NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SECRET = b"callback-secret"


def _token(**overrides: object) -> str:
    values: dict[str, object] = {
        "alert_id": "al-1",
        "case_key": "customer:c1001",
        "kind": ActionKind.ACKNOWLEDGE,
        "subject": "card:sub-1",
        "expires_at": NOW + timedelta(hours=1),
        "secret": SECRET,
    }
    values.update(overrides)
    return make_action_token(**values)  # type: ignore[arg-type]


def _swap_payload(token: str, other: str) -> str:
    version, _, mac = token.split(".")
    return f"{version}.{other.split('.')[1]}.{mac}"


class TestActionTokens:
    def test_round_trip(self) -> None:
        """A fresh token verifies and carries alert, case, action, subject and expiry."""
        claims = verify_action_token(_token(), secret=SECRET, case_key="customer:c1001", now=NOW)
        assert (claims.alert_id, claims.case_key, claims.kind, claims.subject) == (
            "al-1",
            "customer:c1001",
            ActionKind.ACKNOWLEDGE,
            "card:sub-1",
        )
        assert claims.expires_at == int((NOW + timedelta(hours=1)).timestamp())

    def test_url_safe_and_case_key_not_readable(self) -> None:
        """The token fits a URL path and does not spell out the customer's case key."""
        token = _token()
        assert all(c.isalnum() or c in "-_." for c in token)
        payload = base64.urlsafe_b64decode(token.split(".")[1] + "==")
        assert b"c1001" not in payload and "c1001" not in token
        assert unverified_alert_id(token) == "al-1"

    def test_expired(self) -> None:
        """At the expiry instant the token is refused."""
        with pytest.raises(InvalidToken) as caught:
            verify_action_token(
                _token(), secret=SECRET, case_key="customer:c1001", now=NOW + timedelta(hours=1)
            )
        assert caught.value.reason is TokenFailure.EXPIRED

    @pytest.mark.parametrize(
        "forge",
        [
            lambda t: _swap_payload(t, _token(kind=ActionKind.RESOLVE)),  # acknowledge -> resolve
            lambda t: _swap_payload(t, _token(alert_id="al-2")),  # another alert
            lambda t: _swap_payload(t, _token(expires_at=NOW + timedelta(days=365))),  # longer life
            lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # flipped MAC
        ],
        ids=["kind", "alert", "expiry", "mac"],
    )
    def test_tampering_is_a_bad_signature(self, forge: object) -> None:
        """Any change to the payload or MAC is refused before the payload is believed."""
        forged = forge(_token())  # type: ignore[operator]
        with pytest.raises(InvalidToken) as caught:
            verify_action_token(forged, secret=SECRET, case_key="customer:c1001", now=NOW)
        assert caught.value.reason is TokenFailure.BAD_SIGNATURE

    def test_other_case_or_secret_is_a_bad_signature(self) -> None:
        """A token is bound to its case key and to the service secret."""
        for kwargs in (
            {"case_key": "customer:c9999", "secret": SECRET},
            {"case_key": "customer:c1001", "secret": b"other"},
        ):
            with pytest.raises(InvalidToken) as caught:
                verify_action_token(_token(), now=NOW, **kwargs)  # type: ignore[arg-type]
            assert caught.value.reason is TokenFailure.BAD_SIGNATURE

    def test_wrong_action(self) -> None:
        """An endpoint expecting resolve refuses an acknowledge token."""
        with pytest.raises(InvalidToken) as caught:
            verify_action_token(
                _token(),
                secret=SECRET,
                case_key="customer:c1001",
                now=NOW,
                expected_kind=ActionKind.RESOLVE,
            )
        assert caught.value.reason is TokenFailure.WRONG_ACTION

    def test_only_card_actions_can_be_issued(self) -> None:
        """Cards carry acknowledge and resolve only; anything needing input stays in the dashboard."""
        assert {ActionKind.ACKNOWLEDGE, ActionKind.RESOLVE} == CARD_ACTIONS
        with pytest.raises(ValueError, match="cannot close"):
            _token(kind=ActionKind.CLOSE)

    @pytest.mark.parametrize(
        "token", ["", "v1", "v1.a.b.c", "v2.abc.def", "v1.!!!.abc", "v1.e30.abc", "x" * 5000]
    )
    def test_malformed(self, token: str) -> None:
        """Garbage is MALFORMED (or, once the MAC is checked, BAD_SIGNATURE), never an exception leak."""
        with pytest.raises(InvalidToken) as caught:
            verify_action_token(token, secret=SECRET, case_key="customer:c1001", now=NOW)
        assert caught.value.reason in (TokenFailure.MALFORMED, TokenFailure.BAD_SIGNATURE)

    def test_genuine_mac_over_bad_payload_is_malformed(self) -> None:
        """A correctly signed but structurally wrong payload is MALFORMED, not a crash."""
        payload = base64.urlsafe_b64encode(b'{"a":1}').rstrip(b"=").decode()
        mac = hmac.new(
            SECRET, b"kesu-action-token/v1\x00" + payload.encode() + b"\x00case", hashlib.sha256
        ).digest()
        token = f"v1.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        with pytest.raises(InvalidToken) as caught:
            verify_action_token(token, secret=SECRET, case_key="case", now=NOW)
        assert caught.value.reason is TokenFailure.MALFORMED
