from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.wait_for import http_answers, redis_answers, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
STARTED = [sys.executable, "-c", "print('started')"]


class _StatusHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_running_redis_answers(redis_url: str) -> None:
    assert redis_answers(redis_url)


def test_nothing_listening_is_not_an_answer(unused_tcp_port_factory: Callable[[], int]) -> None:
    port = unused_tcp_port_factory()

    assert not redis_answers(f"redis://127.0.0.1:{port}/0")
    assert not http_answers(f"http://127.0.0.1:{port}/")


def test_only_a_2xx_http_status_is_an_answer(http_url: str) -> None:
    assert http_answers(f"{http_url}/ok")
    assert not http_answers(f"{http_url}/loading")


def test_wait_returns_what_still_does_not_answer_after_the_timeout(
    redis_url: str, http_url: str
) -> None:
    pending = wait_until_ready(
        redis_urls=[redis_url], http_urls=[f"{http_url}/ok", f"{http_url}/down"], timeout=0.3
    )

    assert pending == [f"{http_url}/down"]


def test_the_command_runs_once_its_services_answer(redis_url: str, http_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/wait_for.py",
            "--redis",
            redis_url,
            "--http",
            f"{http_url}/ok",
            "--",
            *STARTED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0
    assert result.stdout.strip() == "started"


def test_the_command_never_runs_when_a_service_stays_silent(http_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/wait_for.py",
            "--http",
            f"{http_url}/down",
            "--timeout",
            "0.5",
            "--",
            *STARTED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "started" not in result.stdout
    assert f"{http_url}/down" in result.stdout
