"""What a run costs on top of its model calls: Celery, Redis, the database and events.

The "consult" workload: classification, the arbiter calls ``consult_coding_specialist``, the
specialist answers, the arbiter gives its final answer — end to end through a real Celery worker
(threads pool), a real Redis, SQLite (WAL) and event publishing, against the fake Ollama server
at 0 ms and 50 ms latency, sequentially and with 20 runs in flight. Beside it, in the same run,
raw httpx makes the same model calls against the same server: the floor.

Prints a table and, last, ``overhead_ms_per_call=<sequential median at 0 ms>``.
Run: ``.venv/bin/python bench/run_overhead.py [--runs 30] [--concurrent-runs 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import start_redis  # noqa: E402

CONCURRENCY = 20


def setup_django(workdir: Path, redis_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mmos_site.settings",
            "MMOS_VAR_DIR": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def floor_bodies(model_calls: list[tuple[str, dict]]) -> list[dict]:
    return [dict(body, model=model, stream=False) for model, body in model_calls]


# The same four calls a run makes, as raw request bodies the fake answers the same way.
_TOOLS = [{"type": "function", "function": {"name": "final_answer"}}]
_TASK = {"role": "user", "content": "task"}
CALLS = [
    ("analysis-model", {"messages": [_TASK], "format": {"type": "object"}}),
    ("arbiter-model", {"messages": [_TASK], "tools": _TOOLS}),
    ("coder-model", {"messages": [{"role": "user", "content": "Write the parser."}]}),
    ("arbiter-model", {"messages": [_TASK, {"role": "tool", "content": "r"}], "tools": _TOOLS}),
]


def floor_sequential(url: str, runs: int) -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            for body in floor_bodies(CALLS):
                client.post("/api/chat", json=body).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def floor_concurrent(url: str, runs: int) -> float:
    import httpx

    async def one(client: httpx.AsyncClient) -> None:
        for body in floor_bodies(CALLS):
            (await client.post("/api/chat", json=body)).raise_for_status()

    async def main() -> float:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def gated() -> None:
                async with gate:
                    await one(client)

            t0 = time.perf_counter()
            await asyncio.gather(*(gated() for _ in range(runs)))
            return runs / (time.perf_counter() - t0)

    return asyncio.run(main())


def mmos_sequential(runs: int) -> list[float]:
    from orchestration.models import Conversation
    from orchestration.services.runs import conversation_start

    times = []
    for i in range(runs):
        conversation = conversation_start(task=f"Write a parser ({i})")
        wait_terminal([conversation.pk])
        conversation.refresh_from_db()
        if conversation.status != Conversation.Status.COMPLETED:
            raise RuntimeError(
                f"run {conversation.pk}: {conversation.status} {conversation.status_reason}"
            )
        times.append((conversation.finished_at - conversation.created_at).total_seconds() * 1000)
    return times


def mmos_concurrent(runs: int) -> float:
    from orchestration.services.runs import conversation_start

    t0 = time.perf_counter()
    active: list[int] = []
    started = 0
    while started < runs or active:
        while started < runs and len(active) < CONCURRENCY:
            active.append(conversation_start(task=f"Concurrent parser ({started})").pk)
            started += 1
        active = unfinished(active)
        time.sleep(0.002)
    return runs / (time.perf_counter() - t0)


def unfinished(ids: list[int]) -> list[int]:
    from orchestration.models import Conversation

    done = set(
        Conversation.objects.filter(pk__in=ids, status__in=Conversation.TERMINAL).values_list(
            "pk", flat=True
        )
    )
    return [i for i in ids if i not in done]


def wait_terminal(ids: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while unfinished(ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs {ids} did not finish in {timeout}s")
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30, help="sequential runs per latency")
    parser.add_argument("--concurrent-runs", type=int, default=100)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mmos-bench-"))
    redis_proc, redis_url = start_redis(workdir)
    setup_django(workdir, redis_url)

    from orchestration.config.schema import config_parse
    from orchestration.services.config import config_load
    from tests.fakes.ollama import FakeOllama
    from tests.fakes.scenarios import ConsultScenario, consult_config_yaml
    from tests.fakes.stack import celery_worker, stack_env

    scenario = ConsultScenario()
    fake = FakeOllama().start()
    fake.respond_with(scenario)
    config_load(config=config_parse(consult_config_yaml(fake.url)))
    env = stack_env(redis_url=redis_url, lease_seconds=20, extra={"LOG_LEVEL": "WARNING"})
    # One worker process per core, each with threads: a step mostly waits on a model, but
    # what it does between calls is Python, so one process alone would hold the GIL.
    workers = [
        celery_worker(env, workdir, name=f"bench{i}", concurrency=CONCURRENCY)
        for i in range(os.cpu_count() or 1)
    ]
    rows = []
    try:
        mmos_sequential(3)  # warm up: imports, connections
        for latency_ms in (0, 50):
            scenario.latency_s = scenario.specialist_latency_s = latency_ms / 1000
            floor_seq = floor_sequential(fake.url, args.runs)
            ours_seq = mmos_sequential(args.runs)
            floor_rps = floor_concurrent(fake.url, args.concurrent_runs)
            ours_rps = mmos_concurrent(args.concurrent_runs)
            floor_med, ours_med = statistics.median(floor_seq), statistics.median(ours_seq)
            rows.append(
                {
                    "latency_ms": latency_ms,
                    "floor_run_ms": round(floor_med, 2),
                    "mmos_run_ms": round(ours_med, 2),
                    "overhead_ms_per_call": round((ours_med - floor_med) / len(CALLS), 2),
                    "floor_runs_per_s_c20": round(floor_rps, 1),
                    "mmos_runs_per_s_c20": round(ours_rps, 1),
                    "ratio_c20": round(ours_rps / floor_rps, 2),
                }
            )
    finally:
        for worker in workers:
            worker.stop()
        fake.stop()
        redis_proc.terminate()
    header = list(rows[0])
    print(" | ".join(f"{h:>22}" for h in header))
    for row in rows:
        print(" | ".join(f"{row[h]!s:>22}" for h in header))
    print(
        f"model calls per run: {len(CALLS)} (classification, arbiter, coding specialist, arbiter)"
    )
    print(json.dumps(rows))
    print(f"overhead_ms_per_call={rows[0]['overhead_ms_per_call']}")


if __name__ == "__main__":
    main()
