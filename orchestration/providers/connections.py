"""Connection pools: one ``httpx.AsyncClient`` per (event loop, server), and the sync bridge.

Celery tasks call ``asyncio.run`` again and again; a client's sockets belong to the loop that
opened them, so clients are keyed by loop and dropped once their loop has closed. ``run_async``
is the one sync→async bridge for task and service boundaries: it closes the loop's pools before
the loop ends, so nothing leaks.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    from orchestration.providers.http import Timeouts

T = TypeVar("T")

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, httpx.AsyncClient]]
_clients = weakref.WeakKeyDictionary()


def shared_client(base_url: str, timeouts: Timeouts) -> httpx.AsyncClient:
    """The pooled client for ``base_url`` on the running loop (created on first use)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.get(loop)
    if per_loop is None:
        for stale in [lp for lp in _clients if lp.is_closed()]:
            del _clients[stale]
        per_loop = _clients[loop] = {}
    key = (base_url, timeouts.connect_s, timeouts.read_s)
    client = per_loop.get(key)
    if client is None:
        client = per_loop[key] = httpx.AsyncClient(
            base_url=base_url,
            # pool=None: waiting for a pooled connection is bounded by the call deadline instead
            timeout=httpx.Timeout(
                connect=timeouts.connect_s, read=timeouts.read_s, write=timeouts.read_s, pool=None
            ),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            verify=_tls_context(),
        )
    return client


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # building one costs tens of milliseconds; every client can share it
    return ssl.create_default_context()


async def close_clients() -> None:
    """Close every pooled client of the running loop (call before the loop ends)."""
    per_loop = _clients.pop(asyncio.get_running_loop(), {})
    for client in per_loop.values():
        await client.aclose()


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """The sync→async bridge for task and service boundaries: run, then close this loop's pools."""

    async def _main() -> T:
        try:
            return await main
        finally:
            await close_clients()

    return asyncio.run(_main())
