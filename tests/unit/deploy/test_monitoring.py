"""The Grafana dashboard and Prometheus rules in deploy/ query only metrics kesu defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from kesu import metrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "kesu-dashboard.json"
RULES = DEPLOY / "prometheus" / "alerts.yml"
_METRIC = re.compile(r"\bkesu_[a-z0-9_]+")
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def _exposed() -> set[str]:
    """Every series name kesu/metrics.py exposes (a counter `x` is scraped as `x_total`)."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            family = value.describe()[0]
            names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    return names


def _dashboard_exprs() -> list[str]:
    board: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in board["panels"] for t in p["targets"]]


def _rule_exprs() -> list[str]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_the_exposed_names_are_read_from_the_metrics_module() -> None:
    """Guards the check below: it knows the real names, suffixes included."""
    exposed = _exposed()
    assert {"kesu_events_total", "kesu_scoring_seconds_bucket", "kesu_consumer_lag"} <= exposed
    assert "kesu_events" not in exposed


@pytest.mark.parametrize(
    ("what", "exprs"), [("dashboard", _dashboard_exprs), ("rules", _rule_exprs)]
)
def test_every_queried_metric_exists(what: str, exprs: Any) -> None:
    queried = {name for expr in exprs() for name in _METRIC.findall(expr)}
    assert queried, f"the {what} queries no kesu metric"
    assert queried - _exposed() == set(), f"the {what} queries metrics kesu does not define"


def test_the_dashboard_covers_what_operations_watch() -> None:
    queried = " ".join(_dashboard_exprs())
    for name in (
        "kesu_events_total",
        "kesu_dead_letters_total",
        "kesu_scoring_seconds_bucket",
        "kesu_alerts",
        "kesu_alert_transitions_total",
        "kesu_consumer_lag",
        "kesu_push_deliveries_total",
    ):
        assert name in queried


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian's `prometheus` package; `make test` installs it)",
)
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian's `prometheus` package; `make test` installs it)",
)
def test_promtool_accepts_the_compose_prometheus_config() -> None:
    """deploy/prometheus/prometheus.yml (the Compose monitoring profile) loads, rules included."""
    result = subprocess.run(
        ["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout
