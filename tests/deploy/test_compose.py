"""docker-compose.yml describes the scale-out deployment DESIGN §5 asks for.

There is no Docker engine on every machine that runs the suite, so the file is checked as data;
`test_real_kafka.py` runs the bus against real Apache Kafka where Docker is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"catalog": 8001, "provisioning": 8002, "rating": 8003, "invoicing": 8004, "overage": 8005}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_kafka_runs_in_kraft_mode_without_zookeeper() -> None:
    services = _compose()["services"]
    assert "zookeeper" not in services
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_service_has_its_own_database_and_the_cluster() -> None:
    services = _compose()["services"]
    init_sql = (ROOT / "deploy/postgres/init.sql").read_text()
    for name, port in SERVICES.items():
        env = services[name]["environment"]
        assert env["DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert f"CREATE DATABASE {name};" in init_sql
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["PORT"] == str(port)
        assert services[name]["command"] == ["python", "-m", name]
        assert env["ENVIRONMENT"] == "production"


def test_stateless_services_run_several_replicas_behind_the_gateway() -> None:
    services = _compose()["services"]
    assert any(services[name].get("deploy", {}).get("replicas", 1) > 1 for name in SERVICES)
    gateway_ports = {int(p.split(":")[0]) for p in services["gateway"]["ports"]}
    assert gateway_ports == set(SERVICES.values())
    nginx = (ROOT / "deploy/gateway/nginx.conf").read_text()
    for name, port in SERVICES.items():
        assert f"server {name}:{port};" in nginx


def test_every_service_reports_ready_and_the_gateway_waits_for_it() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        check = services[name]["healthcheck"]
        probe = " ".join(check["test"])
        # The probe asks the service's own /readyz on the port its environment gives it.
        assert check["test"][0] == "CMD" and "/readyz" in probe and "os.environ['PORT']" in probe
        assert services[name]["depends_on"]["kafka"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert services["gateway"]["depends_on"][name] == {"condition": "service_healthy"}
    for dependency in ("kafka", "postgres"):
        assert services[dependency]["healthcheck"]["test"]


def test_the_image_runs_the_packages_the_compose_file_names() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY libs" in dockerfile and "COPY services" in dockerfile
    assert "pip install -e ." in dockerfile


def test_no_secret_has_a_default_in_compose() -> None:
    # `${VAR:-default}` would start a production stack with a password everyone knows;
    # `${VAR:?message}` refuses to start until the operator sets it.
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in SERVICES:
        assert "${POSTGRES_PASSWORD:?" in services[name]["environment"]["DATABASE_URL"]
    for secret in ("POSTGRES_PASSWORD", "API_KEYS", "CATALOG_API_KEY"):
        assert f"${{{secret}:-" not in text and f"${{{secret}-" not in text
    assert "postgresql://billing:billing@" not in text


def test_every_example_value_is_refused_in_production() -> None:
    # The example file is copied as it is more often than anyone likes: none of its values may run.
    from libs.platform.settings import weak_key_reason

    for line in (ROOT / "deploy/env.example").read_text().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        for item in line.partition("=")[2].split(","):
            value = item.partition(":")[2] if line.startswith("API_KEYS=") else item
            assert weak_key_reason(value, set()) is not None, value
