"""Real MMOS processes for tests: Celery workers and beat as subprocesses of the test run.

They share the test database file and the session's Redis with the test process, so a test can
start a run in-process and watch real workers carry it out (and kill them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def stack_env(
    *, redis_url: str, lease_seconds: float = 3.0, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for subprocesses: this test run's database file and Redis, short leases."""
    db_name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mmos_site.settings",
        "DATABASE_URL": f"sqlite:///{db_name}",
        "REDIS_URL": redis_url,
        "MMOS_STEP_LEASE_SECONDS": str(lease_seconds),
        "MMOS_VAR_DIR": str(Path(settings.VAR_DIR)),
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }
    return env


class Process:
    """A subprocess in its own process group, so kill() takes its children with it."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL the whole group: nothing gets to clean up (the crash under test)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def celery_worker(
    env: dict[str, str], log_dir: Path, *, name: str = "worker", concurrency: int = 4
) -> Process:
    return Process(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mmos_site",
            "worker",
            "-P",
            "threads",
            "-c",
            str(concurrency),
            "-l",
            "info",
            "-n",
            f"{name}-{time.monotonic_ns()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        log_dir,
    )


def celery_beat(env: dict[str, str], log_dir: Path) -> Process:
    return Process(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mmos_site",
            "beat",
            "-l",
            "info",
            "-s",
            str(log_dir / "celerybeat-schedule"),
        ],
        env,
        log_dir,
    )


@contextmanager
def running(*processes: Process) -> Iterator[tuple[Process, ...]]:
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


def wait_until(predicate, *, timeout: float, interval: float = 0.05, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message}")
