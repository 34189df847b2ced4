"""deploy/compose.yaml, deploy/k8s and deploy/Dockerfile agree with the code they run.

No Docker engine or Kubernetes cluster exists on the build machines, so these manifests are
never started by `make test`; what can drift is checked here instead: every container runs a
real `kesu` subcommand, every KESU_* variable is a setting and the values validate, ports and
probe paths are the ones the processes serve, the image copies every package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.app import create_app
from kesu.cli import cli
from kesu.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
REPO = DEPLOY.parent
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
_INTERPOLATION = re.compile(r"\$\{(\w+):\?[^}]*\}")


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _kesu_services() -> dict[str, dict[str, Any]]:
    return {
        n: s for n, s in _compose()["services"].items() if s.get("image", "").startswith("kesu:")
    }


def _k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def _k8s(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in _k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name)


def _k8s_containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in _k8s_docs():
        spec = doc.get("spec", {}).get("template", {}).get("spec")
        if spec:
            for container in spec["containers"]:
                yield doc["metadata"]["name"], container


def _settings_from(env: dict[str, str]) -> Settings:
    values = {k.removeprefix("KESU_").lower(): v for k, v in env.items() if k.startswith("KESU_")}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _compose_env(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as Compose would pass it, with ${X:?...} set to a placeholder."""
    return {k: _INTERPOLATION.sub("placeholder", str(v)) for k, v in service["environment"].items()}


def _k8s_env() -> dict[str, str]:
    """The ConfigMap plus the example Secret: what every kesu container gets via envFrom."""
    config = _k8s("ConfigMap", "kesu-config")["data"]
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    return {**config, **{k: v for k, v in secret["stringData"].items() if k.startswith("KESU_")}}


def test_the_manifests_are_found() -> None:
    """Guards the checks below against reading nothing."""
    assert set(_kesu_services()) == {"topics", "worker", "notifier", "api"}
    assert {name for name, _ in _k8s_containers()} == {
        "kesu-topics",
        "kesu-worker",
        "kesu-notifier",
        "kesu-api",
    }


def test_every_container_runs_a_kesu_subcommand() -> None:
    commands = [s["command"][0] for s in _kesu_services().values()]
    commands += [c["args"][0] for _, c in _k8s_containers() if c["image"] == "kesu"]
    assert commands and set(commands) <= set(cli.commands), set(commands) - set(cli.commands)


def test_every_kesu_variable_is_a_setting() -> None:
    names = {k for s in _kesu_services().values() for k in s["environment"]}
    names |= set(_k8s_env())
    names |= {e["name"] for _, c in _k8s_containers() for e in c.get("env", [])}
    unknown = {n for n in names if n.startswith("KESU_")} - {
        f"KESU_{field.upper()}" for field in Settings.model_fields
    }
    assert names and not unknown, f"not kesu settings: {sorted(unknown)}"


@pytest.mark.parametrize("service", ["topics", "worker", "notifier", "api"])
def test_the_compose_settings_validate(service: str) -> None:
    settings = _settings_from(_compose_env(_kesu_services()[service]))
    assert settings.kafka_bootstrap == "kafka:9092"  # never the embedded broker inside Compose
    assert settings.api_host == "0.0.0.0"  # noqa: S104 -- reachable from the other containers


def test_the_kubernetes_settings_validate() -> None:
    settings = _settings_from({**_k8s_env(), "KESU_WORKER_INSTANCE_ID": "kesu-worker-0"})
    assert settings.kafka_bootstrap and settings.topic_replication == 3
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.api_keys_path == Path("/etc/kesu/keys/api-keys.json")


def test_ports_are_the_ones_the_processes_serve() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    expected = {
        "kesu-api": defaults.api_port,
        "kesu-worker": defaults.worker_metrics_port,
        "kesu-notifier": defaults.notifier_metrics_port,
    }
    for name, container in _k8s_containers():
        if name in expected:
            assert [p["containerPort"] for p in container["ports"]] == [expected[name]], name
    assert _kesu_services()["api"]["ports"] == [f"{defaults.api_port}:{defaults.api_port}"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in scrape["scrape_configs"]}
    assert targets == {
        "kesu-api": [f"api:{defaults.api_port}"],
        "kesu-worker": [f"worker:{defaults.worker_metrics_port}"],
        "kesu-notifier": [f"notifier:{defaults.notifier_metrics_port}"],
    }


def test_probe_paths_are_routes_of_the_api() -> None:
    routes = set(create_app(Settings(_env_file=None)).openapi()["paths"])  # type: ignore[call-arg]
    api = next(c for name, c in _k8s_containers() if name == "kesu-api")
    probed = {api[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")}
    compose_probe = " ".join(_kesu_services()["api"]["healthcheck"]["test"])
    assert probed == {"/readyz", "/healthz"} and probed <= routes
    assert "/readyz" in compose_probe


def test_kustomization_applies_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == files


def test_secret_keys_mounted_exist_in_the_example_secret() -> None:
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    for doc in _k8s_docs():
        for volume in doc.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
            if volume.get("secret", {}).get("secretName") == "kesu-secrets":
                for item in volume["secret"].get("items", []):
                    assert item["key"] in secret["stringData"], item


def test_compose_runs_the_kafka_release_of_the_embedded_broker() -> None:
    pom = (DEPLOY / "kafka" / "pom.xml").read_text(encoding="utf-8")
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version is not None
    assert _compose()["services"]["kafka"]["image"] == f"apache/kafka:{version.group(1)}"


def test_the_image_copies_every_package_and_the_build_inputs() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"include = \[([^\]]+)\]", pyproject)
    assert include is not None
    packages = [p.strip(' "*') for p in include.group(1).split(",")]
    assert packages
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile, package
    for name in ("pyproject.toml", "setup.py", "constraints.txt"):
        assert name in dockerfile
    assert "-c constraints.txt" in dockerfile  # the same pins as `make install`
