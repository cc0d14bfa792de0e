"""The total deadline of one attempt: one timer, checked around every wait on the server.

``asyncio.timeout`` around each read would cost a timer per streamed chunk, and one around a
whole stream cannot work: a stream is an async generator, and while it is suspended at
``yield`` the timer would cancel whatever its *consumer* happens to be awaiting. ``Watchdog``
arms one timer per attempt; when it fires while the task waits inside ``wait``, that wait is
cancelled and becomes ``DeadlineExceeded``; when it fires while the consumer has control, the
next ``wait`` raises at once. A server dripping one byte at a time cannot outlive it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import TypeVar

from orchestration.engine import errors as e

T = TypeVar("T")


class Watchdog:
    def __init__(self, deadline: float) -> None:
        self._waiting: asyncio.Task | None = None
        self._fired = False
        self._cancelled = False
        self._handle = asyncio.get_running_loop().call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._fired = True
        if self._waiting is not None and not self._cancelled:
            self._cancelled = True
            self._waiting.cancel()

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless the deadline has passed or passes meanwhile."""
        if self._fired:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never started: closing it avoids a "never awaited" warning
            raise e.DeadlineExceeded("the call's total deadline passed")
        task = asyncio.current_task()
        self._waiting = task
        try:
            return await awaitable
        except asyncio.CancelledError:
            # only our own cancellation becomes DeadlineExceeded; anyone else's propagates
            if self._cancelled and task is not None and task.uncancel() == 0:
                self._cancelled = False
                raise e.DeadlineExceeded("the call's total deadline passed") from None
            raise
        finally:
            self._waiting = None

    def close(self) -> None:
        self._handle.cancel()
