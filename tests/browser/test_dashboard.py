"""The dashboard in a real headless Chromium, against the live API, worker and broker.

Asserts on what a person sees (Chinese labels, countdowns, highlighting, buttons) and saves a
screenshot under test-output/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bench.grouping_traffic import ISSUES
from streams.records import Source
from tests.conftest import ApiServer, SettingsFactory, Worker
from tests.factories import make_event, now_utc
from tests.integration.support import eventually, short_sla_rules

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！电话13812345678"
LATE = "说好的次日达，结果等了三天还没到，有点失望"
LATER = "屏幕又黑了，已经第三次找你们了，到底管不管"
HOT = "新手机发热严重，充电就烫手，客服还敷衍"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    rules = short_sla_rules(
        tmp_path_factory.mktemp("rules"),
        # A fresh deployment: its new keys may open a surge at once (day-one quiet is tested
        # in tests/integration/test_surge.py), so the surge panel has something to show.
        surge={"new_key_history": "0s"},
        tier1={
            "first_action": {
                "target": "8s",
                "warn_at": [0.5],
                "escalate_every": "1h",
                "calendar": "always",
            }
        },
    )
    settings = make_settings(rules_file=rules, tick_interval="0.5s")
    worker = Worker(settings, tmp_path_factory.mktemp("worker-logs")).start()
    api = ApiServer(settings).start()
    events = [
        make_event(Source.CALL, customer_id="cust-angry", text=THREAT),
        make_event(Source.CALL, customer_id="cust-late", text=LATE),
    ]
    assert (
        httpx.post(
            f"{api.url}/v1/events/call", json=events, headers=api.headers("ingest"), timeout=30
        ).status_code
        == 202
    )
    eventually(
        lambda: (
            httpx.get(f"{api.url}/v1/alerts", headers=api.headers("viewer"), timeout=10).json()[
                "total"
            ]
            == 2
        ),
        timeout=90,
        what="two alerts",
    )
    yield api
    api.stop()
    worker.stop()


def _open(browser: Browser, service: ApiServer, role: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(f"{service.url}/#key={service.keys[role]}")
    expect(page.locator("#app")).to_be_visible(timeout=30_000)
    return page


def test_an_operator_sees_the_alerts_live_and_acknowledges_one(
    browser: Browser, service: ApiServer
) -> None:
    page = _open(browser, service, "operator")
    assert page.evaluate("location.hash") == "", "the key must not stay in the address bar"
    expect(page.locator("header h1")).to_have_text("客诉实时监控")
    expect(page.locator("#conn")).to_have_text("实时", timeout=15_000)
    expect(page.locator("#who")).to_contain_text("值班处理")

    angry = page.locator("#alerts-1 .alert", has_text="cust-angry")
    expect(angry).to_contain_text("愤怒型")
    expect(angry).to_contain_text("138****5678")
    expect(page.locator("#alerts-3 .alert", has_text="cust-late")).to_contain_text("失望型")
    expect(page.locator("#kpi-negative")).to_contain_text("%", timeout=20_000)
    expect(page.locator("#kpi-open-tiers")).to_contain_text("一级 1")

    # The 8 s first-action clock runs out while we watch: the row turns red and says so.
    expect(angry).to_have_class("alert breached", timeout=30_000)
    expect(angry.locator(".sla")).to_contain_text("首次响应已超时")

    # A new complaint appears without reloading (Server-Sent Events).
    assert (
        httpx.post(
            f"{service.url}/v1/events/call",
            json=make_event(Source.CALL, customer_id="cust-live", text=LATER),
            headers=service.headers("ingest"),
            timeout=30,
        ).status_code
        == 202
    )
    expect(page.locator(".alert", has_text="cust-live")).to_be_visible(timeout=30_000)

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)

    angry.locator("button.ack").click()
    expect(page.locator("#toast")).to_contain_text("已确认")
    expect(page.locator("#alerts-1 .alert", has_text="cust-angry").locator(".status")).to_have_text(
        "已确认", timeout=30_000
    )
    assert "13812345678" not in page.content()
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')"), (
        "no CJK font: Chinese would be boxes"
    )
    page.close()


def test_a_viewer_sees_no_action_buttons(browser: Browser, service: ApiServer) -> None:
    page = _open(browser, service, "viewer")
    first = page.locator(".alert").first
    expect(first).to_be_visible(timeout=30_000)
    expect(page.locator(".alert button.ack:visible")).to_have_count(0)
    expect(page.locator(".alert button.resolve:visible")).to_have_count(0)
    page.close()


def test_a_wrong_key_asks_for_a_key(browser: Browser, service: ApiServer) -> None:
    page = browser.new_page()
    page.goto(f"{service.url}/#key=kesu_not_a_real_key")
    expect(page.locator("#login")).to_be_visible(timeout=15_000)
    expect(page.locator("#login-error")).to_contain_text("密钥无效")
    page.close()


def test_surges_and_the_delay_map_show_what_is_happening(
    browser: Browser, service: ApiServer
) -> None:
    """A batch with a burst of complaints and a late parcel: both panels say so, in Chinese."""
    moment = now_utc()  # one instant: the burst falls into one surge window
    posts = [
        make_event(Source.SOCIAL, author=f"用户{n}", text=HOT, batch="B-UI-1", at=moment)
        for n in range(6)
    ]
    parcel = make_event(
        Source.LOGISTICS, order_id="SO-UI-1", customer_id="cust-ship", region="华南-广州"
    )
    for source, body in (("social", posts), ("logistics", [parcel])):
        response = httpx.post(
            f"{service.url}/v1/events/{source}",
            json=body,
            headers=service.headers("ingest"),
            timeout=30,
        )
        assert response.status_code == 202, response.text

    def shown(path: str) -> bool:
        body = httpx.get(f"{service.url}{path}", headers=service.headers("viewer"), timeout=10)
        return bool(body.json()["items"])

    eventually(lambda: shown("/v1/surges") and shown("/v1/logistics/delays"), timeout=90)

    page = _open(browser, service, "viewer")
    expect(page.locator("#surges-panel")).to_be_visible(timeout=15_000)
    expect(page.locator("#surges")).to_contain_text("批次 B-UI-1")
    row = page.locator("#delays tbody tr", has_text="华南-广州")
    expect(row).to_contain_text("顺达快运")
    expect(row.locator("td").nth(2)).to_have_text("1")  # one delayed order
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard-surges-delays.png"), full_page=True)
    page.close()


def test_an_emerging_issue_is_on_the_surge_panel_with_its_customers(
    browser: Browser, service: ApiServer
) -> None:
    """Customers describing one fault in their own words, no key linking them: the panel lists
    the 新问题 with its terms and how many customers, and no made-up baseline."""
    posts = [
        make_event(Source.SOCIAL, author=f"耳机客户{n}", text=text)
        for n, text in enumerate(ISSUES["earbud-left-silent"][:8])
    ]
    response = httpx.post(
        f"{service.url}/v1/events/social", json=posts, headers=service.headers("ingest"), timeout=30
    )
    assert response.status_code == 202, response.text

    def issue() -> dict[str, object] | None:
        body = httpx.get(f"{service.url}/v1/surges", headers=service.headers("viewer"), timeout=10)
        found = [i for i in body.json()["items"] if i["kind"] == "emerging_issue"]
        return found[0] if found else None

    listed = eventually(issue, timeout=120, what="an emerging issue on /v1/surges")
    page = _open(browser, service, "viewer")
    expect(page.locator("#surges-panel")).to_be_visible(timeout=15_000)
    row = page.locator("#surges li", has_text="新问题")
    expect(row).to_contain_text("耳机")
    expect(row).to_contain_text(f"{listed['count']} 位客户")
    expect(row).not_to_contain_text("基线 null")
    page.close()
