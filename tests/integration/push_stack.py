"""The whole service on one namespace, pushing to a local DingTalk robot: the robot (which
enforces the platform's limits and signatures, tests/robots.py), a worker, the API and the
notifier, started together and stopped in reverse. For tests that follow an incident from raw
events to what a chat group receives (test_incident_push.py, test_emerging_issue.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kesu.settings import Settings
from tests.conftest import ApiServer, Worker
from tests.integration.test_push_wiring import Notifier
from tests.robots import Robot, RobotServer

DING = Robot("dingtalk", "ding", secret="SECtest-ding-secret", token="ding-token")


@dataclass
class PushStack:
    robots: RobotServer
    worker: Worker
    api: ApiServer
    notifier: Notifier

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The API as `role` sees it."""
        return httpx.request(
            method, f"{self.api.url}{path}", headers=self.api.headers(role), timeout=30, **kwargs
        )

    def subscribe_ding(self, **extra: Any) -> None:
        """The duty group's DingTalk subscription ('ding'), `extra` fields (a policy) added."""
        created = self.call(
            "admin",
            "POST",
            "/v1/subscriptions",
            json={
                "id": "ding",
                "name": "值班群",
                "format": "dingtalk",
                "url": self.robots.url("ding"),
                "secret": DING.secret,
                **extra,
            },
        )
        assert created.status_code == 201, created.text


@contextmanager
def push_stack(settings: Settings, log_dir: Path) -> Iterator[PushStack]:
    robots = RobotServer([DING]).start()
    worker = Worker(settings, log_dir).start()
    api = ApiServer(settings).start()
    notifier = Notifier(settings, log_dir).start()
    try:
        yield PushStack(robots, worker, api, notifier)
    finally:
        notifier.stop()
        api.stop()
        worker.stop()
        robots.stop()
