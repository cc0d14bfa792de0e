"""The one-command embedded stack, for real: start it, use it, interrupt it, find nothing left.

Runs the same entry point as `make run` (scripts/embedded.py run) with its own ports and var
folder, so it can run beside a developer's stack.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

pytestmark = [pytest.mark.slow, pytest.mark.llama]

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` (children, grandchildren, ...) with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        try:
            found[child] = (
                (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except OSError:
            continue
        pending.extend(children.get(child, []))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left to collect


class Stack:
    def __init__(self, process: subprocess.Popen[bytes], log: Path, ports: dict[str, int]):
        self.process = process
        self.log = log
        self.ports = ports
        self.base_url = f"http://127.0.0.1:{ports['MMOS_PORT']}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"launcher exited ({self.process.returncode}) before {what}:\n"
                    + self.output()[-5000:]
                )
            if ready():
                return
            time.sleep(0.5)
        pytest.fail(f"no {what} within {START_TIMEOUT:.0f}s:\n" + self.output()[-5000:])


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None


@pytest.fixture
def stack(tmp_path: Path, unused_tcp_port_factory: Callable[[], int]) -> Iterator[Stack]:
    ports = {
        name: unused_tcp_port_factory()
        for name in ("MMOS_PORT", "MMOS_REDIS_PORT", "MMOS_LLAMA_PORT")
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        MMOS_VAR_DIR=str(tmp_path / "var"),
        MMOS_ADMIN_USER="alice",
        MMOS_ADMIN_PASSWORD="alice-embedded-passphrase",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/embedded.py", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # only the signals this test sends reach it
        )
    started = Stack(process, log, ports)
    try:
        yield started
    finally:
        # A failed test must not leave a stack behind: kill whatever is still there.
        leftovers = _descendants(process.pid)
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in leftovers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_one_command_serves_the_login_page_and_ctrl_c_stops_every_process(stack: Stack) -> None:
    stack.wait_for("login page", lambda: _status(f"{stack.base_url}/login/") == 200)
    llama_models = f"http://127.0.0.1:{stack.ports['MMOS_LLAMA_PORT']}/v1/models"
    stack.wait_for("llama.cpp server", lambda: _status(llama_models) == 200)
    stack.wait_for("ready banner", lambda: f"MMOS is ready: {stack.base_url}/" in stack.output())

    assert [m["id"] for m in httpx.get(llama_models).json()["data"]] == ["smollm2"]
    anonymous = httpx.get(f"{stack.base_url}/", timeout=10)
    assert anonymous.status_code == 302
    assert anonymous.headers["location"].startswith("/login/")

    with httpx.Client(base_url=stack.base_url, timeout=10) as browser:
        form = browser.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        login = browser.post(
            "/login/",
            data={
                "username": "alice",
                "password": "alice-embedded-passphrase",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{stack.base_url}/login/"},
        )
    assert login.status_code == 302, login.text
    assert "sessionid" in login.cookies

    # Queued work survives a restart: Redis writes an append-only file in the var folder.
    queue = redis.Redis(port=stack.ports["MMOS_REDIS_PORT"])
    queue.rpush("mmos:test:durable", "still here")
    queue.close()

    processes = _descendants(stack.process.pid)
    commands = "\n".join(processes.values())
    for expected in ("redis-server", "llama_cpp.server", "worker", "beat", "daphne"):
        assert expected in commands, commands

    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=STOP_TIMEOUT) == 0  # a requested stop is a clean exit

    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = {pid: cmd for pid, cmd in processes.items() if _alive(pid)}
    assert orphans == {}
    aof = stack.log.parent / "var" / "redis" / "appendonly.aof"
    assert b"mmos:test:durable" in aof.read_bytes()
