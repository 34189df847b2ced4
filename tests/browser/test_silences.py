"""Silences in the dashboard, in a real headless Chromium against the live API and worker: an
operator adds one from the 静默 panel, the silenced customer's alert says 推送暂停 with the
reason, and ending it from the panel records who did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from streams.records import Source
from tests.conftest import ApiServer, SettingsFactory, Worker
from tests.factories import make_event
from tests.integration.support import eventually

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
ANGRY = "你们再不给我退款我就去12315投诉！"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    settings = make_settings()
    worker = Worker(settings, tmp_path_factory.mktemp("worker-logs")).start()
    api = ApiServer(settings).start()
    eventually(  # the page lists silences once the API has read them (503 until then)
        lambda: (
            httpx.get(f"{api.url}/v1/silences", headers=api.headers("viewer")).status_code == 200
        ),
        timeout=60,
        what="the API to read the silences",
    )
    yield api
    api.stop()
    worker.stop()


def test_an_operator_silences_a_customer_and_ends_it(browser: Browser, service: ApiServer) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(f"{service.url}/#key={service.keys['operator']}")
    expect(page.locator("#silence-form")).to_be_visible(timeout=30_000)
    page.fill("#silence-matchers", "customer=cust-quiet")
    page.select_option("#silence-duration", "1h")
    page.fill("#silence-comment", "客户已在专线处理")
    page.click("#silence-form button[type=submit]")
    row = page.locator("#silences tbody tr").first
    expect(row).to_contain_text("customer=cust-quiet", timeout=15_000)
    expect(row).to_contain_text("生效中")

    event = make_event(Source.CALL, customer_id="cust-quiet", text=ANGRY)
    accepted = httpx.post(
        f"{service.url}/v1/events/call",
        json=[event],
        headers=service.headers("ingest"),
        timeout=30,
    )
    assert accepted.status_code == 202
    held = page.locator("#alerts-1 .alert.suppressed .held")
    expect(held).to_contain_text("推送暂停：静默中：客户已在专线处理", timeout=90_000)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard-silences.png"), full_page=True)

    row.locator("button").click()
    expect(row).to_contain_text("提前结束", timeout=15_000)
    expect(row).to_contain_text("未生效")
    listed = httpx.get(
        f"{service.url}/v1/silences", headers=service.headers("viewer"), timeout=30
    ).json()
    assert [(s["expired_by"], s["in_effect"]) for s in listed] == [("test-operator", False)]
    eventually(
        lambda: page.locator("#alerts-1 .alert.suppressed").count() == 0 or None,
        timeout=60,
        what="the alert no longer held once the silence ended",
    )


def test_a_viewer_sees_silences_but_cannot_add_or_end_them(
    browser: Browser, service: ApiServer
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(f"{service.url}/#key={service.keys['viewer']}")
    expect(page.locator("#silences-panel")).to_be_visible(timeout=30_000)
    expect(page.locator("#silence-form")).to_be_hidden()
    expect(page.locator("#silences tbody tr button")).to_have_count(0)
