"""The production shape: what can be checked without a Docker engine."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the `<<: *app` merge keys the way Compose does.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_production_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "migrate",
        *APP_SERVICES,
        "redis",
        "postgres",
        "ollama01",
        "ollama02",
    }


@pytest.mark.parametrize("name", (*APP_SERVICES, "migrate"))
def test_app_services_get_their_deployment_from_the_environment(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    env = service["environment"]

    assert env["DATABASE_URL"].startswith("postgres://mmos:")
    assert env["DATABASE_URL"].endswith("@postgres:5432/mmos")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert env["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS")
    assert env["DEBUG"] == "0"
    assert "./config:/app/config:ro" in service["volumes"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_after_migrations_and_healthy_stores(
    compose: dict[str, Any], name: str
) -> None:
    depends = compose["services"][name]["depends_on"]

    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


def test_web_worker_and_beat_run_the_right_programs(compose: dict[str, Any]) -> None:
    commands = {name: compose["services"][name]["command"] for name in APP_SERVICES}

    assert commands["web"][:1] == ["daphne"] and commands["web"][-1] == "mmos_site.asgi:application"
    assert commands["worker"][:4] == ["celery", "-A", "mmos_site", "worker"]
    assert commands["beat"][:4] == ["celery", "-A", "mmos_site", "beat"]
    assert "migrate --noinput" in compose["services"]["migrate"]["command"]


def test_stores_keep_their_data_and_report_health(compose: dict[str, Any]) -> None:
    services = compose["services"]

    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
        assert services[name]["volumes"][0].split(":")[0] in compose["volumes"]
    assert "--appendonly" in services["redis"]["command"]


@pytest.mark.parametrize("name", ["ollama01", "ollama02"])
def test_ollama_servers_are_optional_and_reserve_an_nvidia_gpu(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    devices = service["deploy"]["resources"]["reservations"]["devices"]

    assert service["image"].startswith("ollama/ollama")
    assert service["profiles"] == ["ollama"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert service["volumes"][0].endswith(":/root/.ollama")


def test_dockerfile_builds_a_slim_non_root_image_without_the_embedded_extra() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)

    assert stages[-1] == "python:3.11-slim"
    assert "npm ci" in text and "COPY package.json package-lock.json" in text
    assert "collectstatic --noinput" in text
    assert users and users[-1] not in {"root", "0"}
    assert "embedded" not in re.findall(r"pip install (.*)", text)[0]


def _deploy_check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="mmos.example.org",
        SECURE_COOKIES="1",
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
        # A host that cannot resolve: the check must not need a database connection.
        DATABASE_URL="postgres://mmos:secret@postgres.invalid:5432/mmos",
        REDIS_URL="redis://redis.invalid:6379/0",
        MMOS_VAR_DIR=str(tmp_path / "var"),
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # SECRET_KEY came from the environment, so no key file was written.
    assert not (tmp_path / "var" / "secret_key").exists()


def test_deploy_check_fails_when_debug_is_on(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path, DEBUG="1")

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr
