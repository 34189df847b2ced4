"""S2 for personal data typed where it does not belong: phone numbers in ids, names and
regions, and written so as to slip past a filter. After validation no topic downstream of
the raw ones, and no API answer, holds the number; a filter by the raw id still finds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from streams.records import Source
from streams.topics import ALL_TOPICS, CLEAN, DLQ, RAW, VALID
from tests.conftest import ApiServer, Broker, SettingsFactory, Worker
from tests.factories import make_event
from tests.integration.support import eventually, read_all

CUSTOMER_PHONE = "13912345678"
AUTHOR_PHONE = "13787654321"
TEXT_PHONE = "13611112222"
PHONES = (CUSTOMER_PHONE, AUTHOR_PHONE, TEXT_PHONE)


def _phones_in(text: str) -> list[str]:
    """Which of our numbers `text` holds, whatever separators or widths were put in it."""
    digits = re.sub(r"[\s._\-．\u3000]", "", text)
    digits = digits.translate({0xFF10 + i: str(i) for i in range(10)})
    return [phone for phone in PHONES if phone in digits]


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Worker, ApiServer]]:
    settings = make_settings()
    worker = Worker(settings, tmp_path_factory.mktemp("pii-logs")).start()
    api = ApiServer(settings).start()
    events = {
        Source.CALL: [
            make_event(
                Source.CALL,
                customer_id=CUSTOMER_PHONE,
                text=f"再不退款我就去12315投诉！回电 {'.'.join([TEXT_PHONE[:3], TEXT_PHONE[3:7], TEXT_PHONE[7:]])}",
            ),
            make_event(
                Source.CALL,
                customer_id="cust-pii-2",
                text=f"第三次打电话了还没人处理，我的号码是 {' '.join(TEXT_PHONE)}",
            ),
        ],
        Source.SOCIAL: [
            make_event(
                Source.SOCIAL,
                author=AUTHOR_PHONE,
                region=f"华东 {CUSTOMER_PHONE}",
                product=f"手机{AUTHOR_PHONE}",
                text="垃圾手机，用一天就黑屏，客服还骗人，我要曝光！",
            )
        ],
        Source.LOGISTICS: [make_event(Source.LOGISTICS, customer_id=CUSTOMER_PHONE)],
    }
    for source, batch in events.items():
        response = httpx.post(
            f"{api.url}/v1/events/{source.value}",
            json=batch,
            headers=api.headers("ingest"),
            timeout=30,
        )
        assert response.status_code == 202, response.text
    eventually(lambda: _get(api, "/v1/alerts")["total"] >= 3, timeout=120, what="the three alerts")
    yield worker, api
    api.stop()
    worker.stop()


def _get(api: ApiServer, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(
        f"{api.url}{path}", headers=api.headers("admin"), params=params, timeout=30
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_no_topic_after_validation_holds_a_number(
    kafka_broker: Broker, service: tuple[Worker, ApiServer]
) -> None:
    """Keys and values of every kesu topic after scoring are clean. The raw, valid and clean
    topics hold the customer's words as written (the scorer reads them; ids are already
    pseudonymised on valid and clean), and dead letters keep the exact bytes refused."""
    worker, _ = service
    ns = worker.settings.namespace
    as_written = [*RAW.values(), *CLEAN.values(), VALID, DLQ]
    kept_raw = {spec.name(ns) for spec in as_written}
    topics = [spec.name(ns) for spec in ALL_TOPICS if spec.name(ns) not in kept_raw]
    records = read_all(kafka_broker.bootstrap, topics)
    assert len(records) > 10
    leaks = [
        (record.topic, _phones_in((record.key or b"").decode() + (record.value or b"").decode()))
        for record in records
    ]
    assert [leak for leak in leaks if leak[1]] == []
    accepted = read_all(
        kafka_broker.bootstrap, [VALID.name(ns), *(CLEAN[s].name(ns) for s in Source)]
    )
    ids = [
        (record.key or b"").decode()
        + json.dumps({k: v for k, v in json.loads(record.value).items() if k != "text"})
        for record in accepted
    ]
    assert len(ids) >= 4 and [i for i in ids if _phones_in(i)] == []


def test_no_api_answer_holds_a_number(service: tuple[Worker, ApiServer]) -> None:
    """Lists, details, surges and KPIs show pseudonyms and masked text only."""
    _, api = service
    alerts = _get(api, "/v1/alerts")
    answers = [alerts, _get(api, "/v1/surges"), _get(api, "/v1/status")]
    answers += [_get(api, f"/v1/alerts/{a['alert_id']}") for a in alerts["items"]]
    text = json.dumps(answers, ensure_ascii=False)
    assert _phones_in(text) == []
    assert "139xxxx5678#" in text  # the customer, pseudonymised and still readable


def test_a_filter_by_the_raw_customer_id_finds_its_alerts(
    service: tuple[Worker, ApiServer],
) -> None:
    """`?customer=13912345678` finds the customer whose id was pseudonymised."""
    _, api = service
    found = _get(api, "/v1/alerts", customer=CUSTOMER_PHONE)
    assert found["total"] >= 1
    assert all(item["customer_id"].startswith("139xxxx5678#") for item in found["items"])
