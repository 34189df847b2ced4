"""H4: schemathesis against the API's own OpenAPI document, on the real app and broker.

Every operation, with an admin key and with none: generated paths, queries, headers and
bodies (the ingestion body is described by the upstream records' schemas, so valid events
reach Kafka too). The API must never answer 5xx, and each answer must match the document.
A small pass runs in `make test`; `make reliability` runs ≥ 1,000 cases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.conftest import ApiServer, SettingsFactory
from tests.integration.support import eventually
from tests.integration.trials import TrialRow, report

#: Cases per operation: a smoke pass in `make test`, ≥ 1,000 in all for `make reliability`.
EXAMPLES = int(os.environ.get("KESU_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_api(make_settings: SettingsFactory) -> Iterator[ApiServer]:
    """An API on a fresh namespace, rate limits off (the fuzzer is one very busy client)."""
    server = ApiServer(make_settings(http_rate_limit=0, http_anonymous_rate_limit=0)).start()
    eventually(
        lambda: httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200,
        what="the API ready (views loaded)",
    )
    yield server
    server.stop()


def _fuzz(api: ApiServer, call: Callable[[Any], None]) -> int:
    """Run `call` on EXAMPLES generated cases of every operation; the number of cases run.

    (schemathesis's pytest integration relies on a pytest internal that pytest 9 removed, so
    the strategies are driven with hypothesis directly.)"""
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            nonlocal ran
            ran += 1
            call(case)

        run()
    return ran


def test_no_operation_fails_with_an_admin_key(fuzzed_api: ApiServer) -> None:
    """Whatever the input, an authenticated caller gets a documented 2xx/4xx, never a 5xx."""
    ran = _fuzz(
        fuzzed_api,
        lambda case: case.call_and_validate(
            base_url=fuzzed_api.url, headers=fuzzed_api.headers("admin"), checks=CHECKS
        ),
    )
    print(f"H4 authenticated: {ran} cases, 0 answers >= 500")
    assert ran >= 10
    report(
        TrialRow(
            "H4 schemathesis, admin key", ran, ran, ran, 0, 0, note=f"{ran} cases, 0 answers >= 500"
        )
    )


def test_no_operation_fails_without_a_key(fuzzed_api: ApiServer) -> None:
    """Without a key, every operation under /v1 (but card callbacks) is a 401, never a 5xx."""

    def call(case: Any) -> None:
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
        }
        response = case.call(base_url=fuzzed_api.url)
        where = (case.method, case.path, response.status_code)
        assert response.status_code < 500, where
        if case.path.startswith("/v1/") and not case.path.startswith("/v1/callbacks/"):
            assert response.status_code == 401, where

    ran = _fuzz(fuzzed_api, call)
    print(f"H4 unauthenticated: {ran} cases, 0 answers >= 500")
    assert ran >= 10
    report(
        TrialRow(
            "H4 schemathesis, no key", ran, ran, ran, 0, 0, note=f"{ran} cases, 0 >= 500, /v1 401"
        )
    )
