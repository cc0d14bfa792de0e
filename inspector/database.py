"""Database reads for the sockets: a few threads of their own that keep their connections.

Channels' ``database_sync_to_async`` closes the thread's connection after every call when
``CONN_MAX_AGE`` is 0 (the default here), so every event a page receives paid for a new
connection and its set-up statements. The sockets' threads instead keep theirs for a while, as
``CONN_MAX_AGE`` would, and drop it after an error that left it unusable, when it was left in a
transaction, or when it is old.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from django.db import connections

R = TypeVar("R")

# Enough to overlap one page's database wait with another's rendering; more only adds threads
# taking turns on the GIL. Each keeps at most one connection per database alias.
THREADS = 4
CONNECTION_MAX_AGE_S = 60.0

_executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="inspector-db")
_opened = threading.local()  # alias -> (connection object, when this thread first saw it)


def database_sync_to_async(func: Callable[..., R]) -> Callable[..., Any]:
    """``func`` run in the sockets' threads. Calls of one consumer stay in order because the
    consumer awaits each; calls of different pages run side by side."""
    return SyncToAsync(_keeping_connections(func), thread_sensitive=False, executor=_executor)


def _keeping_connections(func: Callable[..., R]) -> Callable[..., R]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> R:
        try:
            return func(*args, **kwargs)
        finally:
            connections_tidy()

    return run


def connections_tidy(now: float | None = None) -> None:
    """Close this thread's connections that must not be reused; keep the others."""
    now = time.monotonic() if now is None else now
    seen = getattr(_opened, "by_alias", None)
    if seen is None:
        seen = _opened.by_alias = {}
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            seen.pop(conn.alias, None)
            continue
        raw, since = seen.get(conn.alias, (None, now))
        if raw is not conn.connection:
            since = now
        seen[conn.alias] = (conn.connection, since)
        left_in_transaction = conn.in_atomic_block or (
            conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]
        )
        broken = conn.errors_occurred and not conn.is_usable()
        if left_in_transaction or broken or now - since > CONNECTION_MAX_AGE_S:
            conn.close()
            seen.pop(conn.alias, None)
        else:
            conn.errors_occurred = False
