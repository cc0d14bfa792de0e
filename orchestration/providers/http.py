"""All outbound model-server HTTP: timeouts, the total deadline, retries, attempts, error mapping.

Providers never touch httpx directly. ``HttpEndpoint`` (one per server) owns:
- connect and read timeouts (httpx), plus a total *deadline* per call enforced with
  ``asyncio.timeout_at`` around every await, so a server that drips one byte at a time cannot
  keep a call alive past it;
- retries of retryable errors only, with capped exponential backoff and full jitter, never
  sleeping past the deadline;
- one ``Attempt`` record per try, attached to the reply or to the error;
- the mapping of transport failures and error statuses onto ``orchestration.engine.errors``.
Connection pools are shared per (event loop, server); see ``connections``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from orchestration.engine import errors as e
from orchestration.engine.types import Attempt

# close_clients and run_async are re-exported: callers bridge to async through this module
from orchestration.providers.connections import close_clients, run_async, shared_client
from orchestration.providers.deadline import Watchdog
from orchestration.providers.framing import SSE_DONE, Framer, Framing
from orchestration.providers.wire import error_from_status, error_message

T = TypeVar("T")
__all__ = [
    "HttpEndpoint",
    "RetryPolicy",
    "Timeouts",
    "close_clients",
    "deadline_in",
    "run_async",
    "shared_client",
]


@dataclass(frozen=True)
class Timeouts:
    """Per-server limits. ``read_s`` is the longest silence; ``deadline_s`` bounds a whole call."""

    connect_s: float = 5.0
    read_s: float = 120.0
    deadline_s: float = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.25
    max_delay_s: float = 4.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter backoff after failed attempt ``attempt`` (1-based): U(0, min(cap, b*2^n))."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, ceiling)


def deadline_in(seconds: float) -> float:
    """An absolute deadline on the running loop's clock, as ``deadline_at`` arguments expect."""
    return asyncio.get_running_loop().time() + seconds


# --- one server ------------------------------------------------------------------------------


class HttpEndpoint:
    """JSON over HTTP to one model server, with the deadline/retry/attempt rules above."""

    def __init__(
        self,
        *,
        server: str,
        base_url: str,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.server = server
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()

    # Non-streaming -----------------------------------------------------------------------------
    async def request_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        deadline_at: float | None = None,
    ) -> tuple[Any, tuple[Attempt, ...]]:
        """Send one request (retrying as allowed); return the decoded JSON and the attempts."""
        content = _encode(body)

        async def once(deadline: float) -> Any:
            client = shared_client(self.base_url, self.timeouts)
            request = client.build_request(method, path, content=content, headers=_headers(body))
            watchdog = Watchdog(deadline)
            try:
                try:
                    response = await watchdog.wait(client.send(request, stream=True))
                except httpx.HTTPError as exc:
                    raise _transport_error(exc, self.server, answered=False) from exc
                try:
                    raw = await watchdog.wait(response.aread())
                except httpx.HTTPError as exc:
                    raise _transport_error(exc, self.server, answered=True) from exc
                finally:
                    await response.aclose()
            finally:
                watchdog.close()
            if response.status_code >= 400:
                raise error_from_status(response.status_code, error_message(raw), self.server)
            return _decode(raw, self.server)

        attempts: list[Attempt] = []
        deadline = deadline_at if deadline_at is not None else deadline_in(self.timeouts.deadline_s)
        for number in range(1, self.retry.max_attempts + 1):
            started, t0 = time.time(), time.perf_counter()
            try:
                result = await once(deadline)
            except e.ModelError as err:
                attempts.append(self._attempt(number, started, t0, err))
                await self._pause_or_raise(err, number, deadline, attempts)
                continue
            attempts.append(self._attempt(number, started, t0, None))
            return result, tuple(attempts)
        raise AssertionError("unreachable: the last attempt either returns or raises")

    # Streaming ---------------------------------------------------------------------------------
    async def stream_json(
        self,
        path: str,
        body: dict[str, Any],
        *,
        framing: Framing,
        is_final: Callable[[dict[str, Any]], bool],
        error_of: Callable[[dict[str, Any]], e.ModelError | None],
        attempts: list[Attempt],
        deadline_at: float | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each decoded NDJSON line / SSE event until the final one.

        Retries only while nothing has been yielded: once the consumer has seen output, a
        failure is final (its ``retryable`` flag still tells the caller a re-run could help).
        Appends to the caller's ``attempts`` so the caller can put them on the reply.
        """
        content = _encode(body)
        deadline = deadline_at if deadline_at is not None else deadline_in(self.timeouts.deadline_s)
        for number in range(1, self.retry.max_attempts + 1):
            started, t0 = time.time(), time.perf_counter()
            yielded = False
            once = self._stream_once(path, content, framing, is_final, error_of, deadline)
            try:
                # aclosing: if our consumer stops early, the response is released at once
                async with aclosing(once) as items:
                    async for item in items:
                        yielded = True
                        yield item
            except e.ModelError as err:
                attempts.append(self._attempt(number, started, t0, err))
                if yielded:
                    raise err.with_attempts(tuple(attempts)) from None
                await self._pause_or_raise(err, number, deadline, attempts)
                continue
            attempts.append(self._attempt(number, started, t0, None))
            return

    async def _stream_once(
        self,
        path: str,
        content: bytes | None,
        framing: Framing,
        is_final: Callable[[dict[str, Any]], bool],
        error_of: Callable[[dict[str, Any]], e.ModelError | None],
        deadline: float,
    ) -> AsyncIterator[dict[str, Any]]:
        client = shared_client(self.base_url, self.timeouts)
        request = client.build_request("POST", path, content=content, headers=_JSON_HEADERS)
        watchdog = Watchdog(deadline)
        try:
            response = await watchdog.wait(client.send(request, stream=True))
        except httpx.HTTPError as exc:
            watchdog.close()
            raise _transport_error(exc, self.server, answered=False) from exc
        except BaseException:
            watchdog.close()
            raise
        chunks = response.aiter_bytes()
        framer = Framer(framing)
        finished = False
        try:
            if response.status_code >= 400:
                raw = await watchdog.wait(response.aread())
                raise error_from_status(response.status_code, error_message(raw), self.server)
            while True:
                try:
                    chunk = await watchdog.wait(anext(chunks, None))
                except (httpx.HTTPError, e.DeadlineExceeded) as exc:
                    if finished:  # lost after the final event: nothing of value went missing
                        return
                    if isinstance(exc, e.DeadlineExceeded):
                        raise
                    raise _transport_error(exc, self.server, answered=True) from exc
                frames = framer.end() if chunk is None else framer.feed(chunk)
                for frame in frames:
                    if frame == SSE_DONE:
                        chunk = None
                        break
                    if finished and framing == "ndjson":
                        continue  # nothing belongs after Ollama's done line
                    item = self._item(frame, error_of)  # SSE: a usage event may trail the final
                    yield item
                    finished = finished or is_final(item)
                if chunk is None:
                    # read to the end so the connection goes back to the pool for the next call
                    if finished:
                        return
                    raise e.StreamTruncated(
                        "stream ended before the final line", server=self.server
                    )
        finally:
            watchdog.close()
            await response.aclose()

    def _item(
        self, frame: bytes, error_of: Callable[[dict[str, Any]], e.ModelError | None]
    ) -> dict[str, Any]:
        item = _decode(frame, self.server)
        if not isinstance(item, dict):
            raise e.MalformedResponse(
                f"stream line is not an object: {frame[:200]!r}", server=self.server
            )
        failure = error_of(item)
        if failure is not None:
            failure.server = self.server
            raise failure
        return item

    # Helpers -----------------------------------------------------------------------------------
    async def _pause_or_raise(
        self, err: e.ModelError, number: int, deadline: float, attempts: list[Attempt]
    ) -> None:
        """Sleep before the next attempt, or raise ``err`` when no further attempt may run."""
        err.server = err.server or self.server
        if not err.retryable or number >= self.retry.max_attempts:
            raise err.with_attempts(tuple(attempts))
        delay = self.retry.delay(number)
        if asyncio.get_running_loop().time() + delay >= deadline:
            raise err.with_attempts(tuple(attempts))
        await asyncio.sleep(delay)

    def _attempt(self, number: int, started: float, t0: float, err: e.ModelError | None) -> Attempt:
        return Attempt(
            number=number,
            server=self.server,
            started_at=started,
            duration_ms=(time.perf_counter() - t0) * 1000,
            outcome="ok" if err is None else type(err).__name__,
            detail="" if err is None else str(err)[:500],
        )


_JSON_HEADERS = {"content-type": "application/json"}


def _headers(body: dict[str, Any] | None) -> dict[str, str] | None:
    return _JSON_HEADERS if body is not None else None


def _encode(body: dict[str, Any] | None) -> bytes | None:
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _decode(raw: bytes | str, server: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        text = raw[:200] if isinstance(raw, str) else raw[:200].decode("utf-8", "replace")
        raise e.MalformedResponse(f"invalid JSON from server: {text!r}", server=server) from None


def _transport_error(exc: httpx.HTTPError, server: str, *, answered: bool) -> e.ModelError:
    """Map an httpx failure. ``answered``: response headers had arrived before it happened."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
        return e.ConnectFailed(detail, server=server)
    if isinstance(exc, httpx.TimeoutException):
        return e.ResponseTimeout(detail, server=server)
    if answered:
        return e.StreamTruncated(detail, server=server)
    return e.ConnectFailed(detail, server=server)
