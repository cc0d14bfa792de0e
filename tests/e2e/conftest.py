"""A live stack for the browser tests: Daphne serving the real ASGI app on this test run's
database and Redis, and headless Debian Chromium driven by Playwright.

``daphne_server`` (session)  Daphne on a free loopback port (static files collected first);
                        ``live_url`` is its address.
``browser`` (session)   Chromium from /usr/bin/chromium.
``watched_page``        a fresh page whose dialogs, console errors, page errors and requests are
                        recorded (``page.mmos_log``), logged in as ``user`` via ``login``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.stack import ROOT, Process, stack_env

CHROMIUM = os.environ.get("MMOS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: Process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not listen on {port}:\n{process.log()}")


def daphne_start(env: dict[str, str], log_dir: Path, port: int, name: str = "daphne") -> Process:
    process = Process(
        name,
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "mmos_site.asgi:application",
        ],
        env,
        log_dir,
    )
    _wait_for_port(port, process)
    return process


@pytest.fixture(scope="session")
def e2e_env(django_db_setup, django_db_blocker, redis_url) -> dict[str, str]:
    with django_db_blocker.unblock():
        env = stack_env(redis_url=redis_url, lease_seconds=10.0)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return env


@dataclass
class LiveServer:
    """Daphne on a fixed port; ``kill`` and ``start`` drop every socket and bring it back."""

    env: dict[str, str]
    log_dir: Path
    port: int
    process: Process | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = daphne_start(self.env, self.log_dir, self.port, f"daphne{self.restarts}")
        self.restarts += 1

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.stop()


@pytest.fixture(scope="session")
def daphne_server(e2e_env, tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(env=e2e_env, log_dir=tmp_path_factory.mktemp("daphne"), port=_free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def live_url(daphne_server) -> str:
    return daphne_server.url


@pytest.fixture(scope="session")
def browser(e2e_env) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, so tell Django not to refuse them (tests only).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class PageLog:
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def watched_page(browser, live_url) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=live_url)
    page = context.new_page()
    log = PageLog()

    def on_dialog(dialog) -> None:
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("request", lambda r: log.requests.append(r.url))
    page.mmos_log = log
    try:
        yield page
    finally:
        context.close()


def login(page, user, live_url: str) -> None:
    """Log in as ``user`` with a real session (the login form itself has its own test)."""
    from tests.inspector.live import session_cookie_for

    cookie = session_cookie_for(user).split("=", 1)[1]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie, "url": live_url, "httpOnly": True}]
    )
