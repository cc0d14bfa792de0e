"""Health polling writes what each server says onto its ``Server`` row."""

from __future__ import annotations

import time

import pytest
import redis

from orchestration.models import Server
from orchestration.providers.breaker import Breaker
from orchestration.services.model_directory import server_pool
from orchestration.services.servers import server_health_check, server_health_check_all
from orchestration.tasks.servers import server_health_poll
from tests.fakes import replies as r

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pool_on_test_redis(redis_url, settings):
    redis.Redis.from_url(redis_url).flushdb()
    settings.REDIS_URL = redis_url  # the pool is rebuilt for the new URL
    yield
    server_pool.cache_clear()


def make_server(name: str, url: str, kind: str = "ollama") -> Server:
    return Server.objects.create(name=name, kind=kind, base_url=url, parallel=2)


def test_healthy_ollama_server_reports_version_models_and_context_lengths(fake_ollama):
    fake_ollama.loaded = {"qwen2.5:14b": 16384}
    ollama01 = make_server("ollama01", fake_ollama.url)
    row = server_health_check(server=ollama01)
    assert row.is_healthy is True
    assert row.version == "0.13.5"
    assert row.loaded_models == ["qwen2.5:14b"]
    assert row.context_lengths["qwen2.5:32b"] == 32768
    assert row.last_error == ""
    assert row.last_checked_at is not None and row.recent_latency_ms is not None
    assert row.cooldown_until is None


def test_unreachable_server_is_marked_unhealthy_and_keeps_what_was_known(refused_url):
    ollama02 = make_server("ollama02", refused_url)
    Server.objects.filter(pk=ollama02.pk).update(version="0.12.0", loaded_models=["qwen2.5:32b"])
    started = time.monotonic()
    row = server_health_check(server=ollama02)
    assert time.monotonic() - started < 5
    assert row.is_healthy is False
    assert "ConnectError" in row.last_error or "refused" in row.last_error.lower()
    assert (row.version, row.loaded_models) == ("0.12.0", ["qwen2.5:32b"])


def test_openai_compatible_server_reports_its_served_models(fake_ollama):
    llama = make_server("llama", fake_ollama.url, kind="openai")
    row = server_health_check(server=llama)
    assert row.is_healthy is True
    assert "qwen2.5:14b" in row.loaded_models
    assert row.version == ""


def test_a_server_cooling_down_shows_until_when(fake_ollama):
    ollama01 = make_server("ollama01", fake_ollama.url)
    breaker = Breaker(server_pool().breaker.redis, server_pool().breaker.policy)
    for _ in range(breaker.policy.failure_threshold):
        breaker.record_failure("ollama01")
    row = server_health_check(server=ollama01)
    assert row.cooldown_until is not None
    assert row.cooldown_until.timestamp() > time.time()


def test_the_beat_task_polls_every_server_at_once(fake_ollama_factory):
    slow, fast = fake_ollama_factory(), fake_ollama_factory()
    slow.always(r.Reply(body=b'{"version":"0.13.5"}', latency_s=0.5), path="/api/version")
    make_server("ollama01", slow.url)
    make_server("ollama02", fast.url)
    started = time.monotonic()
    assert server_health_poll() == 2
    assert time.monotonic() - started < 1.0, "polled concurrently, not one after another"
    assert set(Server.objects.values_list("is_healthy", flat=True)) == {True}


def test_poll_of_no_servers_does_nothing():
    assert server_health_check_all() == []
