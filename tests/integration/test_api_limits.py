"""S3 and the API's front door, against the real app on a real broker: every body is bounded,
the caller is authenticated before a body is read, each key and each anonymous address has a
rate, and answers with customer data are never cached.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ApiServer, SettingsFactory
from tests.integration.trials import TrialRow, report

SMALL_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def api(make_settings: SettingsFactory) -> Iterator[ApiServer]:
    """An API whose keys may make 3 requests at once and anonymous callers 2, refilled so
    slowly (one per 100 s) that no test depends on how fast the machine is."""
    server = ApiServer(
        make_settings(
            http_rate_limit=0.01,
            http_rate_burst=3,
            http_anonymous_rate_limit=0.01,
            http_anonymous_rate_burst=2,
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def roomy(make_settings: SettingsFactory) -> Iterator[ApiServer]:
    """An API with rate limits off, for the tests that send many requests."""
    server = ApiServer(make_settings(http_rate_limit=0, http_anonymous_rate_limit=0)).start()
    yield server
    server.stop()


def _head_only(api: ApiServer, path: str, headers: dict[str, str], length: int) -> str:
    """Send a request line and headers announcing `length` bytes, no body; the status line."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {length}")
    with socket.create_connection(("127.0.0.1", api.settings.api_port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(4096).decode("latin-1")
    return answer.split("\r\n", 1)[0]


class TestBodies:
    def test_an_unauthenticated_300_mb_body_is_refused_before_it_is_read(
        self, roomy: ApiServer
    ) -> None:
        """401 answers the headers alone: the API never waits for (or holds) the body."""
        status = _head_only(roomy, "/v1/alerts/x/comment", {}, 300_000_000)
        assert " 401 " in status, status

    def test_an_authenticated_oversize_body_is_413_from_its_length_alone(
        self, roomy: ApiServer
    ) -> None:
        """A key does not buy an unbounded body: the declared length is refused at once."""
        status = _head_only(roomy, "/v1/alerts/x/comment", roomy.headers("operator"), 300_000_000)
        assert " 413 " in status, status

    def test_a_chunked_body_is_cut_off_at_the_limit(self, roomy: ApiServer) -> None:
        """Without a Content-Length the body is counted as it arrives, and refused past it."""

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * 8192

        response = httpx.post(
            f"{roomy.url}/v1/alerts/x/comment",
            content=chunks(),
            headers={**roomy.headers("operator"), "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413
        assert response.json()["error"]["reason"] == "TOO_LARGE"

    def test_every_route_that_takes_a_body_answers_413_over_its_limit(
        self, roomy: ApiServer
    ) -> None:
        """Every POST/PUT/PATCH/DELETE of the OpenAPI document, with an admin key (or none for
        the callbacks), refuses a body just over its limit; none answers 5xx."""
        spec = httpx.get(f"{roomy.url}/openapi.json", timeout=30).json()
        checked = 0
        for path, operations in spec["paths"].items():
            for method in operations:
                if method.upper() not in {"POST", "PUT", "PATCH", "DELETE"}:
                    continue
                url = roomy.url + path.replace("{", "").replace("}", "")
                limit = (
                    roomy.settings.http_max_body_bytes
                    if path.startswith("/v1/events/")
                    else roomy.settings.http_max_request_bytes
                )
                response = httpx.request(
                    method.upper(),
                    url,
                    content=b"{" + b" " * limit + b"}",
                    headers={**roomy.headers("admin"), "Content-Type": "application/json"},
                    timeout=30,
                )
                assert response.status_code == 413, (method, path, response.status_code)
                checked += 1
        assert checked >= 5
        report(
            TrialRow(
                "S3 bodies over the limit",
                checked,
                0,
                0,
                0,
                0,
                note=f"{checked} routes with a body: 413 each, none 5xx",
            )
        )

    def test_an_unauthenticated_caller_gets_no_validation_details(self, roomy: ApiServer) -> None:
        """Malformed JSON without a key is a 401, not a 422 that describes the body."""
        response = httpx.post(
            f"{roomy.url}/v1/alerts/x/comment",
            content=b'{"comment": ',
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 401
        assert response.json()["error"]["reason"] == "UNAUTHENTICATED"
        assert "comment" not in response.text


class TestRates:
    def test_a_key_over_its_rate_gets_429_with_retry_after(self, api: ApiServer) -> None:
        """Three at once pass; the fourth waits, and says how long; another key is unaffected."""
        statuses = [
            httpx.get(f"{api.url}/v1/whoami", headers=api.headers("viewer"), timeout=30)
            for _ in range(4)
        ]
        assert [s.status_code for s in statuses[:3]] == [200, 200, 200]
        limited = statuses[3]
        assert limited.status_code == 429
        assert limited.json()["error"]["reason"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
        other = httpx.get(f"{api.url}/v1/whoami", headers=api.headers("operator"), timeout=30)
        assert other.status_code == 200
        report(
            TrialRow(
                "S3 a key over its rate",
                5,
                4,
                4,
                0,
                0,
                note=f"4th of a burst: 429, Retry-After {limited.headers['retry-after']} s; "
                "another key: 200",
            )
        )

    def test_guessing_keys_is_rate_limited_per_address(self, api: ApiServer) -> None:
        """Wrong keys count against the caller's address: 401, 401, then 429."""
        statuses = [
            httpx.get(
                f"{api.url}/v1/whoami", headers={"Authorization": f"Bearer guess-{i}"}, timeout=30
            ).status_code
            for i in range(3)
        ]
        assert statuses[:2] == [401, 401]
        assert statuses[2] == 429


class TestAnswers:
    def test_answers_with_customer_data_are_not_cached(self, roomy: ApiServer) -> None:
        """Every /v1/ JSON answer says no-store; so do the refusals."""
        listed = httpx.get(f"{roomy.url}/v1/alerts", headers=roomy.headers("viewer"), timeout=30)
        refused = httpx.get(f"{roomy.url}/v1/alerts", timeout=30)
        assert listed.status_code == 200 and refused.status_code == 401
        assert listed.headers["cache-control"] == refused.headers["cache-control"] == "no-store"

    def test_a_time_without_offset_is_a_clear_422_not_a_500(self, roomy: ApiServer) -> None:
        """`since` without an offset cannot be placed in time: the caller is told so."""
        response = httpx.get(
            f"{roomy.url}/v1/alerts",
            params={"since": "2020-01-01T00:00:00"},
            headers=roomy.headers("viewer"),
            timeout=30,
        )
        assert response.status_code == 422
        assert "since" in response.json()["error"]["message"]

    def test_a_forged_cursor_without_offset_is_400(self, roomy: ApiServer) -> None:
        """A cursor the API did not issue is refused, whatever time it carries."""
        cursor = base64.urlsafe_b64encode(b"2020-01-01T00:00:00|a-1").decode()
        response = httpx.get(
            f"{roomy.url}/v1/alerts",
            params={"cursor": cursor},
            headers=roomy.headers("viewer"),
            timeout=30,
        )
        assert response.status_code == 400
        assert response.json()["error"]["reason"] == "BAD_CURSOR"
