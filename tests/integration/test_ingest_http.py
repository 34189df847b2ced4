"""HTTP ingestion against the live app and the real broker."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from kesu.broker import free_port
from kesu.settings import Settings
from streams.records import Source
from streams.topics import CLEAN, RAW, VALID
from tests import hostile
from tests.conftest import ApiServer, Broker, SettingsFactory, Worker
from tests.factories import make_event, to_bytes
from tests.integration.support import read_all, read_until, wait_caught_up

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiServer, Worker]]:
    """API and worker on one fresh namespace."""
    settings = make_settings(http_max_batch=50)
    worker = Worker(settings, tmp_path_factory.mktemp("worker-logs")).start()
    api = ApiServer(settings).start()
    yield api, worker
    api.stop()
    worker.stop()


@pytest.fixture
def client(service: tuple[ApiServer, Worker]) -> Iterator[httpx.Client]:
    """An upstream's client: it holds an `ingest` key."""
    with httpx.Client(
        base_url=service[0].url, timeout=30, headers=service[0].headers("ingest")
    ) as http:
        yield http


def _raw(kafka_broker: Broker, settings: Settings, source: Source) -> list[dict[str, object]]:
    return [
        json.loads(r.value)
        for r in read_all(kafka_broker.bootstrap, [RAW[source].name(settings.namespace)])
    ]


def test_single_event_is_acknowledged_and_reaches_the_clean_topic(
    kafka_broker: Broker, service: tuple[ApiServer, Worker], client: httpx.Client
) -> None:
    """202 means Kafka has it: the event is already on the raw topic, and the worker cleans it."""
    settings = service[0].settings
    event = make_event(Source.SOCIAL)
    response = client.post("/v1/events/social", content=to_bytes(event), headers=JSON)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "accepted": [event["event_id"]],
        "count": 1,
        "topic": RAW[Source.SOCIAL].name(settings.namespace),
    }
    assert event["event_id"] in [e["event_id"] for e in _raw(kafka_broker, settings, Source.SOCIAL)]
    read_until(
        kafka_broker.bootstrap,
        [CLEAN[Source.SOCIAL].name(settings.namespace)],
        lambda rs: event["event_id"] in [json.loads(r.value)["event_id"] for r in rs],
        what="the posted event on the clean topic",
    )


def test_batch_is_accepted_whole(
    kafka_broker: Broker, service: tuple[ApiServer, Worker], client: httpx.Client
) -> None:
    events = [make_event(Source.ACTIVITY) for _ in range(20)]
    response = client.post("/v1/events/activity", json=events)
    assert response.status_code == 202
    assert response.json()["accepted"] == [e["event_id"] for e in events]
    on_topic = {e["event_id"] for e in _raw(kafka_broker, service[0].settings, Source.ACTIVITY)}
    assert {e["event_id"] for e in events} <= on_topic


def test_batch_with_invalid_items_is_refused_whole_and_names_each(
    kafka_broker: Broker, service: tuple[ApiServer, Worker], client: httpx.Client
) -> None:
    """One bad event refuses the request; the answer says which and why, and nothing is published."""
    good = make_event(Source.CALL)
    events = [good, make_event(Source.CALL, text=""), make_event(Source.CALL, customer_id=None)]
    response = client.post("/v1/events/call", json=events)
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["reason"] == "INVALID_EVENTS"
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "EMPTY_TEXT"),
        (2, "INVALID_FIELD"),
    ]
    assert good["event_id"] not in [
        e["event_id"] for e in _raw(kafka_broker, service[0].settings, Source.CALL)
    ]


@pytest.mark.parametrize("case", hostile.cases(), ids=lambda case: case.name)
def test_hostile_body_gets_a_4xx_with_its_reason(
    client: httpx.Client, case: hostile.Hostile
) -> None:
    """H2: every hostile class is answered 400/413/422 with its reason code; never 5xx."""
    response = client.post("/v1/events/call", content=case.payload or b"", headers=JSON)
    assert response.status_code == case.http_status, response.text[:300]
    body = response.json()
    reasons = {body["error"]["reason"]} | {r["reason"] for r in body["rejected"]}
    assert (case.http_reason or case.reason).value in reasons, body


@pytest.mark.parametrize(
    ("content_type", "reason"),
    [
        (None, "UNSUPPORTED_MEDIA_TYPE"),
        ("text/plain", "UNSUPPORTED_MEDIA_TYPE"),
        ("application/json; charset=gbk", "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_wrong_content_type_is_415(
    client: httpx.Client, content_type: str | None, reason: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/v1/events/call", content=to_bytes(make_event(Source.CALL)), headers=headers
    )
    assert response.status_code == 415
    assert response.json()["error"]["reason"] == reason


def test_batch_over_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post(
        "/v1/events/activity", json=[make_event(Source.ACTIVITY) for _ in range(51)]
    )
    assert response.status_code == 413
    assert "limit is 50" in response.json()["error"]["message"]


def test_body_over_the_limit_is_413_without_reading_it_all(client: httpx.Client) -> None:
    huge = b"[" + b'"x",' * 1_000_000 + b'"x"]'
    response = client.post("/v1/events/call", content=huge, headers=JSON)
    assert response.status_code == 413


def test_unknown_source_is_422(client: httpx.Client) -> None:
    response = client.post("/v1/events/fax", json=make_event(Source.CALL))
    assert response.status_code == 422
    assert response.json()["error"]["reason"] == "UNKNOWN_SOURCE"


def test_retry_of_the_same_events_is_safe(
    kafka_broker: Broker, service: tuple[ApiServer, Worker], client: httpx.Client
) -> None:
    """A client that retries after a timeout gets 202 again, and the event is still one event."""
    settings = service[0].settings
    event = make_event(Source.CALL)
    for _ in range(2):
        assert client.post("/v1/events/call", json=event).status_code == 202
    clean = CLEAN[Source.CALL].name(settings.namespace)
    marker = make_event(Source.CALL, customer_id=event["customer_id"])
    assert client.post("/v1/events/call", json=marker).status_code == 202
    read_until(
        kafka_broker.bootstrap,
        [clean],
        lambda rs: marker["event_id"] in [json.loads(r.value)["event_id"] for r in rs],
    )
    wait_caught_up(
        kafka_broker.bootstrap,
        settings.namespace,
        [RAW[Source.CALL].name(settings.namespace), VALID.name(settings.namespace)],
    )
    records = read_all(kafka_broker.bootstrap, [clean])
    assert [json.loads(r.value)["event_id"] for r in records].count(event["event_id"]) == 1


def test_kafka_unreachable_is_503_with_retry_after(
    api_factory: Callable[[Settings], ApiServer], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Nothing is confirmed when Kafka cannot acknowledge: 503 and Retry-After, never 500 or 202."""
    settings = Settings(
        _env_file=None,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        publish_timeout="2s",
        data_dir=tmp_path_factory.mktemp("nokafka"),
    )
    api = api_factory(settings)
    with httpx.Client(base_url=api.url, timeout=30, headers=api.headers("ingest")) as http:
        response = http.post("/v1/events/call", json=make_event(Source.CALL))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"]["reason"] == "KAFKA_UNAVAILABLE"
        assert http.get("/readyz").status_code == 503
        assert http.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        ("bad", 401),
        ("viewer", 403),
        ("operator", 403),
        ("ingest", 202),
        ("admin", 202),
    ],
)
def test_ingestion_needs_an_ingest_key(
    service: tuple[ApiServer, Worker], role: str | None, status: int
) -> None:
    """Upstreams have their own keys; people's read/act keys cannot publish events."""
    api = service[0]
    headers = (
        {}
        if role is None
        else {"Authorization": "Bearer kesu_nope"}
        if role == "bad"
        else api.headers(role)
    )
    response = httpx.post(
        f"{api.url}/v1/events/call", json=make_event(Source.CALL), headers=headers, timeout=30
    )
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
